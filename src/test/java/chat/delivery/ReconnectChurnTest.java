package chat.delivery;

import chat.config.ChatConfig;
import chat.metrics.ChatMetrics;
import chat.store.SqliteMessageStore;
import chat.store.SqlitePool;
import com.zaxxer.hikari.HikariDataSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The reconnect race in the delivery core, without a container: while senders commit as fast as they can,
 * connections are made from the newest offsets seen, replayed (from the recovery window, where replay and live
 * hand-off race closest) and dropped again, hundreds of times. Their transport completes each send at a moment
 * and on a thread of its own choosing: inline, on one of three other threads at once, or after a short delay. The
 * frames handed to each transport must be the offsets after its serverOffset, one by one, with never two sends
 * outstanding.
 */
class ReconnectChurnTest {

    private static final String LOOPBACK = "127.0.0.1";

    private static final int SENDERS = 3;
    private static final int MESSAGES_PER_SENDER = 1_500;
    private static final int CONNECTIONS = 400;
    private static final Pattern OFFSET = Pattern.compile("\"type\":\"chat message\".*\"offset\":(\\d+)");

    @TempDir
    Path directory;

    @Test
    void everyConnectionIsHandedTheOffsetsAfterItsServerOffsetInOrderWhateverThreadCompletesItsSends()
            throws Exception {
        ChatConfig config = ChatConfig.of(Map.of("chat.db.path", directory.resolve("chat.db").toString(),
                "chat.messagesPerSecond", "0", "chat.db.synchronous", "NORMAL", "chat.fanoutThreads", "2"));
        HikariDataSource pool = SqlitePool.open(config);
        ScheduledExecutorService completions = Executors.newScheduledThreadPool(3);
        ExecutorService clients = Executors.newFixedThreadPool(SENDERS + 1);
        AtomicReference<String> violation = new AtomicReference<>();
        try (ChatHub hub = new ChatHub(config, SqliteMessageStore.open(pool, config.durability(), pool),
                ChatMetrics.unregistered())) {
            AtomicBoolean sending = new AtomicBoolean(true);
            List<Future<?>> senders = new ArrayList<>();
            for (int s = 0; s < SENDERS; s++) {
                int sender = s;
                senders.add(clients.submit(() -> {
                    send(hub, sender);
                    return null;
                }));
            }
            Future<Integer> churn = clients.submit(() -> churn(hub, completions, violation, sending));
            for (Future<?> sender : senders) {
                sender.get(60, TimeUnit.SECONDS);
            }
            sending.set(false);
            int connections = churn.get(60, TimeUnit.SECONDS);
            assertNull(violation.get());
            assertEquals(CONNECTIONS, connections);
        } finally {
            clients.shutdownNow();
            completions.shutdownNow();
            assertTrue(completions.awaitTermination(10, TimeUnit.SECONDS));
        }
    }

    /** Pipelines messages through a connection whose own frames are not looked at. */
    private static void send(ChatHub hub, int sender) throws Exception {
        AtomicInteger acks = new AtomicInteger();
        FrameSink counting = new FrameSink() {
            @Override
            public void send(String frame, SendCallback done) {
                if (frame.startsWith("{\"type\":\"ack\"")) {
                    acks.incrementAndGet();
                }
                done.sent(null);
            }

            @Override
            public void close(int closeCode, String reason) {
            }
        };
        ClientConnection connection = hub.connect(LOOPBACK, counting, hub.latestOffset(), null);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(50);
        for (int sent = 0; sent < MESSAGES_PER_SENDER; sent++) {
            while (sent - acks.get() >= 32) {
                assertTrue(System.nanoTime() < deadline, "sender " + sender + " waited for acks too long");
                Thread.onSpinWait();
            }
            hub.receive(connection, "{\"type\":\"chat message\",\"text\":\"" + sender + "/" + sent
                    + "\",\"clientOffset\":\"" + sender + "-" + sent + "\"}");
        }
        while (acks.get() < MESSAGES_PER_SENDER) {
            assertTrue(System.nanoTime() < deadline, "sender " + sender + " waited for acks too long");
            Thread.sleep(1);
        }
        hub.disconnect(connection);
    }

    /** Connects from the newest offset this reader has seen, keeps the connection a random while, drops it. */
    private static int churn(ChatHub hub, ScheduledExecutorService completions, AtomicReference<String> violation,
                             AtomicBoolean sending) throws Exception {
        SplittableRandom random = new SplittableRandom(20261202);
        long last = 0;
        int connections = 0;
        while (connections < CONNECTIONS && violation.get() == null) {
            CheckingSink sink = new CheckingSink(last, random.split(), completions, violation);
            ClientConnection connection = hub.connect(LOOPBACK, sink, last, null);
            connections++;
            long keepMicros = random.nextInt(4) == 0 ? random.nextLong(0, 300) : random.nextLong(0, 5_000);
            TimeUnit.MICROSECONDS.sleep(keepMicros);
            hub.disconnect(connection);
            last = Math.max(last, sink.lastOffset());
            if (!sending.get() && connections % 50 == 0) {
                Thread.sleep(1);
            }
        }
        return connections;
    }

    /**
     * Checks the frames it is handed, and completes each send inline, on another thread at once, or after up to a
     * millisecond, at random.
     */
    private static final class CheckingSink implements FrameSink {
        private final SplittableRandom random;
        private final ScheduledExecutorService completions;
        private final AtomicReference<String> violation;
        private final AtomicInteger outstanding = new AtomicInteger();
        private final long serverOffset;
        private volatile long lastOffset;

        CheckingSink(long serverOffset, SplittableRandom random, ScheduledExecutorService completions,
                     AtomicReference<String> violation) {
            this.serverOffset = serverOffset;
            this.lastOffset = serverOffset;
            this.random = random;
            this.completions = completions;
            this.violation = violation;
        }

        long lastOffset() {
            return lastOffset;
        }

        @Override
        public void send(String frame, SendCallback done) {
            if (outstanding.incrementAndGet() != 1) {
                violation.compareAndSet(null, "two sends outstanding at once on the connection from " + serverOffset);
            }
            Matcher message = OFFSET.matcher(frame);
            if (message.find()) {
                long offset = Long.parseLong(message.group(1));
                if (offset != lastOffset + 1) {
                    violation.compareAndSet(null, "the connection from " + serverOffset + " was handed " + offset
                            + " after " + lastOffset);
                }
                lastOffset = offset;
            }
            int how;
            synchronized (random) {
                how = random.nextInt(3);
            }
            Runnable complete = () -> {
                outstanding.decrementAndGet();
                done.sent(null);
            };
            if (how == 0) {
                complete.run();
            } else if (how == 1) {
                completions.execute(complete);
            } else {
                completions.schedule(complete, 200, TimeUnit.MICROSECONDS);
            }
        }

        @Override
        public void close(int closeCode, String reason) {
        }
    }
}
