package chat.it;

import chat.testsupport.ChatClient;
import chat.testsupport.ChatWar;
import chat.testsupport.RawWebSocket;
import chat.testsupport.StockTomcat;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletionService;
import java.util.concurrent.ExecutorCompletionService;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Frames reach every client whole and in order while the chat closes readers that fall behind and Tomcat writes
 * control frames of its own between the chat's. Senders pipeline messages of 2,000 to 10,000 characters, each a few
 * fragments of Tomcat's 512-byte buffers (tomcat-conf's setenv.sh), without a rate limit. Raw-socket readers ping the
 * server every millisecond; the server pings every second. Every third reader takes its frames slowly through a
 * small receive buffer, so that its outbox overflows the smallest cap the chat allows and the chat closes it (1008)
 * in the middle of a run of frames; the others drop their connections at random moments, mid-replay among them.
 * Each reader reconnects with the last offset it saw. Every connection must receive the offsets after its
 * serverOffset one by one, every frame a well-formed server frame and every message UTF-8 JSON, until it ends with
 * a close frame, or without one when the server gives up writing it behind a frame in flight.
 *
 * <p>The WAR is the one {@code mvn package} built; {@code -Dit.war=<file>} deploys another build's.
 */
class FrameOrderIT {

    private static final Duration CHURN = Duration.ofSeconds(30);
    private static final Duration DEADLINE = CHURN.plusSeconds(60);
    private static final int SENDERS = 4;
    private static final int WINDOW = 8;
    private static final int READERS = 16;
    private static final int SLOW_EVERY = 3;
    private static final int SLOW_RECEIVE_BUFFER_BYTES = 4_096;
    private static final long SLOW_PAUSE_NANOS = TimeUnit.MILLISECONDS.toNanos(10);
    private static final long PING_EVERY_NANOS = TimeUnit.MILLISECONDS.toNanos(1);
    private static final int MAX_DROP_MILLIS = 200;
    /** Longer than the server's one-second pings leave a live connection silent. */
    private static final Duration SILENCE = Duration.ofSeconds(5);
    private static final int TOO_SLOW = 1008;
    /** Two- and three-byte UTF-8 among ASCII, so that a frame cut anywhere is likely to show. */
    private static final String PADDING = "text é € ".repeat(1_250);

    /** What a client counts: the messages a sender sent; the connections a reader made, and how many the chat closed. */
    private record Tally(int sent, int connections, int closedTooSlow) {
    }

    /** One connection of a reader, as its reading thread and its watcher see it. */
    private static final class Watched {
        final long dropAt;
        volatile long progressAt = System.nanoTime();
        volatile boolean done;
        volatile boolean stalled;

        Watched(long dropAt) {
            this.dropAt = dropAt;
        }
    }

    @Test
    void everyConnectionGetsTheOffsetsAfterItsServerOffsetInOrderAndWholeWhileSlowReadersAreClosed()
            throws Exception {
        try (StockTomcat tomcat = StockTomcat.create("frame-order")) {
            tomcat.jvmOptions(List.of("-Dchat.outboxMaxChars=65536"));
            tomcat.start();
            URI base = tomcat.uri();
            long start = ChatWar.latestOffset(base);
            String epoch;
            try (ChatClient probe = ChatClient.connect(base, start)) {
                epoch = probe.awaitSyncedFrame().path("epoch").asText();
            }
            long churnEnds = System.nanoTime() + CHURN.toNanos();
            long deadline = System.nanoTime() + DEADLINE.toNanos();
            ExecutorService threads = Executors.newCachedThreadPool();
            CompletionService<Tally> clients = new ExecutorCompletionService<>(threads);
            try {
                for (int s = 0; s < SENDERS; s++) {
                    int sender = s;
                    clients.submit(() -> send(base, sender, churnEnds));
                }
                for (int r = 0; r < READERS; r++) {
                    boolean slow = r % SLOW_EVERY == 0;
                    clients.submit(() -> read(base, start, epoch, slow, churnEnds, threads));
                }
                Tally total = new Tally(0, 0, 0);
                for (int c = 0; c < SENDERS + READERS; c++) {
                    Future<Tally> finished = clients.poll(deadline - System.nanoTime(), TimeUnit.NANOSECONDS);
                    if (finished == null) {
                        fail("a client was still running at the deadline");
                    }
                    Tally tally = finished.get(); // the first client that fails ends the test
                    total = new Tally(total.sent() + tally.sent(), total.connections() + tally.connections(),
                            total.closedTooSlow() + tally.closedTooSlow());
                }
                System.out.println(total);
                assertTrue(total.closedTooSlow() >= 20, "only " + total.closedTooSlow()
                        + " slow readers were closed (1008)");
                threads.shutdown();
                assertTrue(threads.awaitTermination(20, TimeUnit.SECONDS), "all client threads stopped");
            } finally {
                threads.shutdownNow(); // after a failure, the others' threads; their sockets close with Tomcat
            }
        }
    }

    /**
     * Connects with the last offset it saw, reads until the server closes the connection (a slow reader) or it is
     * dropped after up to {@link #MAX_DROP_MILLIS}; again until the churn ends.
     */
    private static Tally read(URI base, long start, String epoch, boolean slow, long churnEnds,
                              ExecutorService threads) throws Exception {
        ThreadLocalRandom random = ThreadLocalRandom.current();
        long last = start;
        int connections = 0;
        int closedTooSlow = 0;
        while (System.nanoTime() < churnEnds && !Thread.currentThread().isInterrupted()) {
            long serverOffset = last;
            Watched watched = new Watched(slow ? churnEnds
                    : System.nanoTime() + random.nextLong(MAX_DROP_MILLIS * 1_000_000L));
            try (RawWebSocket raw = RawWebSocket.open(base, "?serverOffset=" + serverOffset + "&epoch=" + epoch,
                    slow ? SLOW_RECEIVE_BUFFER_BYTES : 0)) {
                connections++;
                boolean cleanly = random.nextBoolean();
                Future<?> watcher = threads.submit(() -> watch(raw, watched, cleanly));
                try {
                    for (JsonNode frame = raw.nextText(); frame != null; frame = raw.nextText()) {
                        watched.progressAt = System.nanoTime();
                        if (frame.path("type").asText().equals("chat message")) {
                            long offset = frame.path("offset").asLong();
                            if (offset != last + 1 || offset <= serverOffset) {
                                fail("a connection from serverOffset=" + serverOffset + " got " + offset
                                        + " after " + last + ": " + frame.toString().substring(0, 80));
                            }
                            last = offset;
                        }
                        if (slow) {
                            LockSupport.parkNanos(SLOW_PAUSE_NANOS);
                        }
                    }
                    closedTooSlow += raw.closeCode() == TOO_SLOW ? 1 : 0;
                } catch (IOException ended) {
                    if (watched.stalled) {
                        fail("a connection from serverOffset=" + serverOffset + " completed no frame for "
                                + SILENCE + " after offset " + last + ", though the server pings every second");
                    }
                    // Dropped by the watcher, or by the server after a close frame it could not write in time.
                } finally {
                    watched.done = true;
                    watcher.get(10, TimeUnit.SECONDS);
                }
            }
        }
        return new Tally(0, connections, closedTooSlow);
    }

    /**
     * Pings every {@link #PING_EVERY_NANOS} until the reader is done; drops the connection at its time, with a close
     * frame or a TCP reset, and aborts it if the reader completes no frame for {@link #SILENCE}.
     */
    private static Void watch(RawWebSocket raw, Watched watched, boolean cleanly) {
        try {
            while (!watched.done) {
                long now = System.nanoTime();
                if (now - watched.dropAt > 0 || Thread.currentThread().isInterrupted()) {
                    if (cleanly) {
                        raw.closeCleanly();
                    } else {
                        raw.abort();
                    }
                    return null;
                }
                if (now - watched.progressAt > SILENCE.toNanos()) {
                    watched.stalled = true;
                    raw.abort();
                    return null;
                }
                raw.ping();
                LockSupport.parkNanos(PING_EVERY_NANOS);
            }
        } catch (IOException closed) {
            // The server closed the connection; the reader sees how.
        }
        return null;
    }

    /**
     * Keeps {@link #WINDOW} messages unacknowledged until the churn ends; connects again when the chat closes its
     * connection, which falls behind the broadcasts too at times.
     */
    private static Tally send(URI base, int sender, long churnEnds) throws Exception {
        ThreadLocalRandom random = ThreadLocalRandom.current();
        String run = UUID.randomUUID().toString().substring(0, 8);
        int sent = 0;
        while (System.nanoTime() < churnEnds && !Thread.currentThread().isInterrupted()) {
            try (ChatClient client = ChatClient.connect(base, ChatWar.latestOffset(base))) {
                int unacked = 0;
                while (client.isOpen() && System.nanoTime() < churnEnds) {
                    for (; unacked < WINDOW; unacked++, sent++) {
                        String text = "sender " + sender + " #" + sent + " ";
                        client.sendChat(text + PADDING.substring(0, random.nextInt(2_000, 10_000 - text.length())),
                                run + "-" + sender + "-" + sent);
                    }
                    JsonNode frame = client.poll(Duration.ofMillis(200));
                    if (frame != null && frame.path("type").asText().equals("ack")) {
                        unacked--;
                    } else if (frame != null && !frame.path("type").asText().equals("synced")) {
                        assertEquals("chat message", frame.path("type").asText(), () -> "unexpected " + frame);
                    }
                }
            } catch (IOException | IllegalStateException closedByTheChat) {
                // Connect again.
            }
        }
        return new Tally(sent, 0, 0);
    }
}
