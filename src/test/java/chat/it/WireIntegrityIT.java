package chat.it;

import chat.testsupport.ChatClient;
import chat.testsupport.ChatWar;
import chat.testsupport.RawWebSocket;

import com.fasterxml.jackson.databind.JsonNode;
import org.jboss.arquillian.container.test.api.Deployment;
import org.jboss.arquillian.junit5.ArquillianExtension;
import org.jboss.arquillian.test.api.ArquillianResource;
import org.jboss.shrinkwrap.api.spec.WebArchive;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.net.URI;
import java.net.URL;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.LockSupport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Every frame the chat writes arrives whole while Tomcat writes control frames of its own in between. A raw-socket
 * reader pings the server without pause, and Tomcat answers each ping with a pong from its reading thread, while
 * senders pipeline messages of a few hundred bytes: the chat's frames keep meeting pongs and the server's own
 * pings. Then readers like it are replayed the same messages a few times, four at once, in runs of whole history
 * pages, each frame larger than half of Tomcat's 512-byte output buffer. Every frame must be a
 * well-formed server frame, every text frame valid UTF-8 JSON, and the chat messages must follow one another by
 * offset without a gap.
 */
@ExtendWith(ArquillianExtension.class)
class WireIntegrityIT {

    private static final int SENDERS = 3;
    private static final int MESSAGES_PER_SENDER = 1_500;
    private static final int WINDOW = 32;
    private static final long PING_EVERY_NANOS = TimeUnit.MICROSECONDS.toNanos(100);
    private static final int REPLAY_ROUNDS = 5;
    private static final int REPLAY_READERS = 4;
    private static final Duration DEADLINE = Duration.ofSeconds(90);

    @Deployment(testable = false)
    static WebArchive war() {
        return ChatWar.packaged();
    }

    @ArquillianResource
    private URL deployed;

    @Test
    void framesArriveWholeWhilePongsAndPingsAreWrittenBetweenThem() throws Exception {
        URI base = deployed.toURI();
        long start = ChatWar.latestOffset(base);
        long last = start + (long) SENDERS * MESSAGES_PER_SENDER;
        long deadline = System.nanoTime() + DEADLINE.toNanos();
        String run = UUID.randomUUID().toString().substring(0, 8);
        ExecutorService threads = Executors.newCachedThreadPool();
        try {
            // Live: the messages arrive as the senders' commits are fanned out, in short runs.
            Future<Integer> live = threads.submit(() -> readWhilePinging(base, start, last, deadline, threads));
            List<Future<?>> senders = new ArrayList<>();
            for (int s = 0; s < SENDERS; s++) {
                String tag = run + "-" + s;
                senders.add(threads.submit(() -> {
                    send(base, tag, deadline);
                    return null;
                }));
            }
            for (Future<?> sender : senders) {
                sender.get(DEADLINE.toSeconds(), TimeUnit.SECONDS);
            }
            int pongs = live.get(DEADLINE.toSeconds(), TimeUnit.SECONDS);
            // Replayed: the same messages again, in runs of a whole history page that overflow Tomcat's buffer.
            for (int round = 0; round < REPLAY_ROUNDS; round++) {
                List<Future<Integer>> replays = new ArrayList<>();
                for (int r = 0; r < REPLAY_READERS; r++) {
                    replays.add(threads.submit(() -> readWhilePinging(base, start, last, deadline, threads)));
                }
                for (Future<Integer> replay : replays) {
                    pongs += replay.get(DEADLINE.toSeconds(), TimeUnit.SECONDS);
                }
            }
            assertTrue(pongs > 100, "Tomcat answered " + pongs + " pings while the messages arrived: too few to"
                    + " have met the chat's frames");
        } finally {
            threads.shutdownNow();
        }
    }

    /**
     * Reads the chat from {@code after} up to offset {@code last} on a raw socket that pings all the while, checking
     * every frame.
     *
     * @return the pongs that came back meanwhile
     */
    private static int readWhilePinging(URI base, long after, long last, long deadline, ExecutorService threads)
            throws Exception {
        AtomicBoolean pinging = new AtomicBoolean(true);
        try (RawWebSocket raw = RawWebSocket.open(base, "?serverOffset=" + after)) {
            Future<?> pinger = threads.submit(() -> {
                while (pinging.get() && System.nanoTime() - deadline < 0) {
                    raw.ping();
                    LockSupport.parkNanos(PING_EVERY_NANOS);
                }
                return null;
            });
            long expected = after + 1;
            while (expected <= last) {
                if (System.nanoTime() - deadline > 0) {
                    fail("Only offsets up to " + (expected - 1) + " of " + last + " arrived in time");
                }
                JsonNode frame = raw.nextText();
                if (frame == null) {
                    fail("Closed by the server at offset " + (expected - 1) + " of " + last);
                }
                if (frame.path("type").asText().equals("chat message")) {
                    assertEquals(expected, frame.path("offset").asLong(), frame::toString);
                    expected++;
                }
            }
            pinging.set(false);
            pinger.get(10, TimeUnit.SECONDS);
            return raw.pongs();
        } finally {
            pinging.set(false);
        }
    }

    /** Keeps {@link #WINDOW} messages of about 300 bytes unacknowledged until all are acknowledged. */
    private static void send(URI base, String tag, long deadline) throws Exception {
        String padding = "p".repeat(280);
        try (ChatClient client = ChatClient.connect(base, ChatWar.latestOffset(base))) {
            client.awaitSynced();
            Set<String> acked = new HashSet<>();
            int sent = 0;
            while (acked.size() < MESSAGES_PER_SENDER) {
                while (sent < MESSAGES_PER_SENDER && sent - acked.size() < WINDOW) {
                    client.sendChat(tag + " #" + sent + " " + padding, tag + "-" + sent);
                    sent++;
                }
                if (System.nanoTime() - deadline > 0) {
                    fail(tag + ": only " + acked.size() + " acks in time");
                }
                acked.add(client.nextAck().path("clientOffset").asText());
            }
        }
    }
}
