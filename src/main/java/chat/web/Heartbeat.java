package chat.web;

import jakarta.websocket.PongMessage;
import jakarta.websocket.Session;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Pings every session at a fixed interval, so that proxies see traffic on idle connections and dead peers are
 * found. A peer that sends nothing, not even the pong, for two intervals is closed by Tomcat itself (1001),
 * through the session's read idle timeout; the client reconnects with its offset.
 */
final class Heartbeat implements AutoCloseable {

    private static final Logger LOG = Logger.getLogger(Heartbeat.class.getName());
    /** Tomcat's per-session settings; other containers ignore them. */
    private static final String READ_IDLE_TIMEOUT_MS = "org.apache.tomcat.websocket.READ_IDLE_TIMEOUT_MS";
    private static final String BLOCKING_SEND_TIMEOUT = "org.apache.tomcat.websocket.BLOCKING_SEND_TIMEOUT";
    private static final int PING_THREADS = 2;

    private final long intervalMillis;
    private final Map<Session, AtomicBoolean> pingInFlight = new ConcurrentHashMap<>();
    private final ScheduledExecutorService timer;
    private final ExecutorService pingers;

    /** @param intervalSeconds 0 for no pings */
    Heartbeat(int intervalSeconds) {
        this.intervalMillis = TimeUnit.SECONDS.toMillis(intervalSeconds);
        if (intervalSeconds == 0) {
            timer = null;
            pingers = null;
            return;
        }
        timer = Executors.newSingleThreadScheduledExecutor(daemon("chat-heartbeat"));
        pingers = Executors.newFixedThreadPool(PING_THREADS, daemon("chat-ping-"));
        timer.scheduleAtFixedRate(this::pingAll, intervalMillis, intervalMillis, TimeUnit.MILLISECONDS);
    }

    void watch(Session session) {
        if (timer == null) {
            return;
        }
        session.getUserProperties().put(READ_IDLE_TIMEOUT_MS, 2 * intervalMillis);
        // A ping waits behind a frame being written; a peer that takes a whole interval to accept one is dead.
        session.getUserProperties().put(BLOCKING_SEND_TIMEOUT, intervalMillis);
        session.addMessageHandler(PongMessage.class, pong -> { });
        pingInFlight.put(session, new AtomicBoolean());
    }

    void forget(Session session) {
        pingInFlight.remove(session);
    }

    private void pingAll() {
        for (Map.Entry<Session, AtomicBoolean> entry : pingInFlight.entrySet()) {
            Session session = entry.getKey();
            AtomicBoolean inFlight = entry.getValue();
            if (session.isOpen() && inFlight.compareAndSet(false, true)) {
                try {
                    pingers.execute(() -> ping(session, inFlight));
                } catch (RejectedExecutionException stopping) {
                    return;
                }
            }
        }
    }

    private static void ping(Session session, AtomicBoolean inFlight) {
        try {
            session.getAsyncRemote().sendPing(ByteBuffer.allocate(0));
        } catch (IOException | RuntimeException e) {
            // The session is closing or its peer is gone; Tomcat closes it and onClose forgets it.
            LOG.log(Level.FINE, "Ping to session " + session.getId() + " failed", e);
        } finally {
            inFlight.set(false);
        }
    }

    @Override
    public void close() {
        if (timer != null) {
            timer.shutdownNow();
            pingers.shutdownNow();
        }
        pingInFlight.clear();
    }

    private static java.util.concurrent.ThreadFactory daemon(String name) {
        AtomicInteger count = new AtomicInteger();
        return runnable -> {
            Thread thread = new Thread(runnable, name.endsWith("-") ? name + count.incrementAndGet() : name);
            thread.setDaemon(true);
            return thread;
        };
    }
}
