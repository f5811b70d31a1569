package chat.it;

import com.fasterxml.jackson.databind.JsonNode;
import org.jboss.arquillian.container.test.api.Deployment;
import org.jboss.arquillian.junit5.ArquillianExtension;
import org.jboss.arquillian.test.api.ArquillianResource;
import org.jboss.shrinkwrap.api.spec.WebArchive;
import org.junit.jupiter.api.RepeatedTest;
import org.junit.jupiter.api.extension.ExtendWith;

import java.net.URI;
import java.net.URL;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Senders pipeline messages while readers drop their connections at random moments and reconnect with the last
 * offset they saw. Every reader must end up with every stored message exactly once, and every connection must
 * receive exactly the stored offsets after its serverOffset, in order, with none left out.
 */
@ExtendWith(ArquillianExtension.class)
class ConcurrencyIT {

    private static final int SENDERS = 4;
    private static final int MESSAGES_PER_SENDER = 250;
    private static final int WINDOW = 4;
    private static final int READERS = 4;
    private static final Duration DEADLINE = Duration.ofSeconds(90);

    @Deployment(testable = false)
    static WebArchive war() {
        return ChatWar.packaged();
    }

    @ArquillianResource
    private URL deployed;

    private record Segment(long serverOffset, List<Long> offsets) {
    }

    @RepeatedTest(3)
    void readersReconnectingAtRandomGetEveryMessageOnceInOrderWhileSendersPipeline() throws Exception {
        URI base = deployed.toURI();
        long start = ChatWar.latestOffset(base);
        long deadline = System.nanoTime() + DEADLINE.toNanos();
        ExecutorService threads = Executors.newFixedThreadPool(SENDERS + READERS);
        try {
            List<Future<Map<String, Long>>> senders = new ArrayList<>();
            for (int s = 0; s < SENDERS; s++) {
                int sender = s;
                senders.add(threads.submit(() -> send(base, sender, deadline)));
            }
            long[] target = {Long.MAX_VALUE};
            List<Future<List<Segment>>> readers = new ArrayList<>();
            for (int r = 0; r < READERS; r++) {
                readers.add(threads.submit(() -> read(base, start, target, deadline)));
            }

            Map<String, Long> acked = new HashMap<>();
            for (Future<Map<String, Long>> sender : senders) {
                acked.putAll(sender.get(DEADLINE.toSeconds(), TimeUnit.SECONDS));
            }
            assertEquals(SENDERS * MESSAGES_PER_SENDER, acked.size());
            assertEquals(acked.size(), new HashSet<>(acked.values()).size(), "every message got its own offset");
            synchronized (target) {
                target[0] = acked.values().stream().mapToLong(Long::longValue).max().orElseThrow();
            }

            List<Long> stored = storedAfter(start, acked);
            assertEquals(acked.size(), stored.size(), "one row per acknowledged message, nothing else");
            for (Future<List<Segment>> reader : readers) {
                checkReader(reader.get(DEADLINE.toSeconds(), TimeUnit.SECONDS), start, stored);
            }
        } finally {
            threads.shutdownNow();
            assertTrue(threads.awaitTermination(20, TimeUnit.SECONDS), "all client threads stopped");
        }
    }

    /** Keeps {@link #WINDOW} messages unacknowledged until all are sent; returns clientOffset to offset. */
    private static Map<String, Long> send(URI base, int sender, long deadline) throws Exception {
        String run = UUID.randomUUID().toString();
        Map<String, Long> acks = new HashMap<>();
        try (ChatClient client = ChatClient.connect(base, ChatWar.latestOffset(base))) {
            client.awaitSynced();
            int sent = 0;
            while (acks.size() < MESSAGES_PER_SENDER) {
                while (sent < MESSAGES_PER_SENDER && sent - acks.size() < WINDOW) {
                    client.sendChat("sender " + sender + " message " + sent, run + "-" + sender + "-" + sent);
                    sent++;
                }
                if (System.nanoTime() > deadline) {
                    fail("sender " + sender + " got " + acks.size() + " acks before the deadline");
                }
                JsonNode frame = client.poll(Duration.ofMillis(200));
                if (frame != null && frame.path("type").asText().equals("ack")) {
                    assertTrue(acks.put(frame.path("clientOffset").asText(), frame.path("offset").asLong()) == null,
                            () -> "a second ack for " + frame);
                } else if (frame != null) {
                    assertEquals("chat message", frame.path("type").asText(), () -> "unexpected " + frame);
                }
            }
        }
        return acks;
    }

    /** Connects, reads a random number of messages, drops the connection, and again, until it has them all. */
    private static List<Segment> read(URI base, long start, long[] target, long deadline) throws Exception {
        List<Segment> segments = new ArrayList<>();
        ThreadLocalRandom random = ThreadLocalRandom.current();
        long last = start;
        while (last < currentTarget(target)) {
            long serverOffset = last;
            List<Long> received = new ArrayList<>();
            try (ChatClient client = ChatClient.connect(base, serverOffset)) {
                int budget = random.nextInt(1, 40);
                while (received.size() < budget && last < currentTarget(target)) {
                    if (System.nanoTime() > deadline) {
                        fail("a reader was still behind at the deadline: at " + last + " of " + currentTarget(target));
                    }
                    JsonNode frame = client.poll(Duration.ofMillis(100));
                    if (frame != null && frame.path("type").asText().equals("chat message")) {
                        received.add(frame.path("offset").asLong());
                        last = frame.path("offset").asLong();
                    }
                }
            }
            segments.add(new Segment(serverOffset, received));
            if (random.nextBoolean()) {
                Thread.sleep(random.nextInt(0, 30));
            }
        }
        return segments;
    }

    private static long currentTarget(long[] target) {
        synchronized (target) {
            return target[0];
        }
    }

    private static void checkReader(List<Segment> segments, long start, List<Long> stored) {
        List<Long> all = new ArrayList<>();
        for (Segment segment : segments) {
            int from = 0;
            while (from < stored.size() && stored.get(from) <= segment.serverOffset()) {
                from++;
            }
            List<Long> expected = stored.subList(from, Math.min(stored.size(), from + segment.offsets().size()));
            assertEquals(expected, segment.offsets(),
                    "a connection from " + segment.serverOffset() + " got exactly the next stored offsets, in order");
            all.addAll(segment.offsets());
        }
        assertEquals(stored, all, "the reader ends with every stored message exactly once");
        assertTrue(segments.size() > 1, "the reader reconnected");
        assertTrue(all.isEmpty() || all.get(0) > start);
    }

    /** The stored ids after {@code start}, checking each acknowledged one holds what its sender sent. */
    private static List<Long> storedAfter(long start, Map<String, Long> acked) throws Exception {
        List<Long> ids = new ArrayList<>();
        Set<Long> ackedOffsets = new HashSet<>(acked.values());
        try (Connection db = ChatWar.database();
             PreparedStatement read = db.prepareStatement(
                     "SELECT id, client_offset FROM messages WHERE id > ? ORDER BY id")) {
            read.setLong(1, start);
            try (ResultSet rows = read.executeQuery()) {
                while (rows.next()) {
                    long id = rows.getLong(1);
                    ids.add(id);
                    assertTrue(ackedOffsets.contains(id), "stored row " + id + " was acknowledged");
                    assertEquals(id, acked.get(rows.getString(2)), "the ack names the row's offset");
                }
            }
        }
        return ids;
    }
}
