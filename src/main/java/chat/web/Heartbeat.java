package chat.web;

import chat.delivery.ClientConnection;
import chat.delivery.DaemonThreads;
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
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Pings every session at a fixed interval, so that proxies see traffic on idle connections and dead peers are
 * found. A peer that sends nothing, not even the pong, for two intervals is closed by Tomcat itself (1001),
 * through the session's read idle timeout; the client reconnects with its offset.
 *
 * <p>A ping is a blocking send in the WebSocket API: it waits behind the frame in flight, for at most
 * {@code controlFrameTimeoutMillis}, after which Tomcat closes the session. So that peers that stopped reading
 * cannot hold up the pings of everyone else, each tick sorts the sessions by how their frames go out:
 * <ul>
 * <li>nothing in flight: pinged on a thread that only pings such sessions, where a ping does not wait;
 * <li>a frame in flight, but frames went out since the last tick: pinged on threads of their own;
 * <li>the same frame in flight since the last tick: not pinged. The ping would only wait behind it; the read idle
 * timeout, the outbox's cap and the replay's stall watch close the connection.
 * </ul>
 * The same timeout bounds the pongs Tomcat sends on a worker thread for a client's pings, so that a client that
 * pings without reading holds a worker thread for at most that long before its session is closed.
 */
final class Heartbeat implements AutoCloseable {

    private static final Logger LOG = Logger.getLogger(Heartbeat.class.getName());
    /** Tomcat's per-session settings; other containers ignore them. */
    private static final String READ_IDLE_TIMEOUT_MS = "org.apache.tomcat.websocket.READ_IDLE_TIMEOUT_MS";
    private static final String BLOCKING_SEND_TIMEOUT = "org.apache.tomcat.websocket.BLOCKING_SEND_TIMEOUT";
    private static final int BUSY_PING_THREADS = 2;

    private final long intervalMillis;
    /** Boxed once, so that the sessions' user properties share one instance rather than holding one each. */
    private final Long controlFrameTimeoutMillis;
    /** Boxed once as well: the read idle timeout of every watched session. */
    private final Long readIdleTimeoutMillis;
    private final Map<Session, Watched> watched = new ConcurrentHashMap<>();
    private final ScheduledExecutorService timer;
    private final ExecutorService idlePinger;
    private final ExecutorService busyPingers;

    /** @param intervalSeconds 0 for no pings */
    Heartbeat(int intervalSeconds, long controlFrameTimeoutMillis) {
        this.intervalMillis = TimeUnit.SECONDS.toMillis(intervalSeconds);
        this.controlFrameTimeoutMillis = controlFrameTimeoutMillis;
        this.readIdleTimeoutMillis = 2 * intervalMillis;
        if (intervalSeconds == 0) {
            timer = null;
            idlePinger = null;
            busyPingers = null;
            return;
        }
        timer = Executors.newSingleThreadScheduledExecutor(DaemonThreads.named("chat-heartbeat"));
        idlePinger = Executors.newSingleThreadExecutor(DaemonThreads.named("chat-ping-idle"));
        busyPingers = Executors.newFixedThreadPool(BUSY_PING_THREADS, DaemonThreads.named("chat-ping-busy-"));
        timer.scheduleAtFixedRate(this::pingAll, intervalMillis, intervalMillis, TimeUnit.MILLISECONDS);
    }

    /**
     * Bounds the blocking sends of a new session, before anything is sent to it: pings, Tomcat's pongs, and the
     * close frame of a connection refused at once.
     */
    void bound(Session session) {
        session.getUserProperties().put(BLOCKING_SEND_TIMEOUT, controlFrameTimeoutMillis);
    }

    /** @param connection the session's client, whose progress in sending decides how it is pinged */
    void watch(Session session, ClientConnection connection) {
        if (timer == null) {
            return;
        }
        session.getUserProperties().put(READ_IDLE_TIMEOUT_MS, readIdleTimeoutMillis);
        session.addMessageHandler(PongMessage.class, pong -> { });
        watched.put(session, new Watched(connection));
    }

    void forget(Session session) {
        watched.remove(session);
    }

    private void pingAll() {
        for (Map.Entry<Session, Watched> entry : watched.entrySet()) {
            Session session = entry.getKey();
            Watched state = entry.getValue();
            long sent = state.connection.framesSent();
            boolean idle = state.connection.isIdle();
            boolean stuck = !idle && sent == state.framesSentAtLastTick;
            state.framesSentAtLastTick = sent;
            if (stuck || !session.isOpen() || !state.pingInFlight.compareAndSet(false, true)) {
                continue;
            }
            try {
                (idle ? idlePinger : busyPingers).execute(() -> ping(session, state.pingInFlight));
            } catch (RejectedExecutionException stopping) {
                return;
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

    /** Written by the timer thread only, but for {@code pingInFlight}. */
    private static final class Watched {
        final ClientConnection connection;
        final AtomicBoolean pingInFlight = new AtomicBoolean();
        long framesSentAtLastTick = -1;

        Watched(ClientConnection connection) {
            this.connection = connection;
        }
    }

    @Override
    public void close() {
        if (timer != null) {
            timer.shutdownNow();
            idlePinger.shutdownNow();
            busyPingers.shutdownNow();
        }
        watched.clear();
    }
}
