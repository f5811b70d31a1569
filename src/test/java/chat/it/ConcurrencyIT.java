package chat.it;

import chat.testsupport.ChatClient;
import chat.testsupport.ChatWar;
import chat.testsupport.RawWebSocket;

import com.fasterxml.jackson.databind.JsonNode;
import org.jboss.arquillian.container.test.api.Deployment;
import org.jboss.arquillian.junit5.ArquillianExtension;
import org.jboss.arquillian.test.api.ArquillianResource;
import org.jboss.shrinkwrap.api.spec.WebArchive;
import org.junit.jupiter.api.RepeatedTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.io.IOException;
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
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.IntUnaryOperator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Senders pipeline messages while readers drop their connections at random moments and reconnect with the last
 * offset they saw. Every reader must end up with every stored message exactly once, and every connection must
 * receive exactly the stored offsets after its serverOffset, in order, with none left out. The second test reads
 * the frames off raw sockets, as they come off the wire, while readers churn the way the reconnect race needs:
 * many connections dropped mid-replay while commits keep arriving, with frames that overflow Tomcat's 512-byte output
 * buffer (arquillian.xml) and the server pinging every second.
 */
@ExtendWith(ArquillianExtension.class)
class ConcurrencyIT {

    private static final int SENDERS = 4;
    private static final int MESSAGES_PER_SENDER = 250;
    private static final int WINDOW = 4;
    private static final int READERS = 4;
    private static final Duration DEADLINE = Duration.ofSeconds(90);
    /** How long the senders send while readers churn: about 3 000 connections here (5 000 in 40 s). */
    private static final Duration CHURN = Duration.ofSeconds(25);
    private static final int CHURN_WINDOW = 16;
    private static final int CHURNING_READERS = 6;
    private static final String PADDING = "p".repeat(2_000);

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

    @Test
    void everyConnectionOfAChurningRawReaderGetsTheOffsetsAfterItsServerOffsetInOrder() throws Exception {
        URI base = deployed.toURI();
        long start = ChatWar.latestOffset(base);
        String epoch;
        try (ChatClient probe = ChatClient.connect(base, start)) {
            epoch = probe.awaitSyncedFrame().path("epoch").asText();
        }
        long deadline = System.nanoTime() + DEADLINE.toNanos();
        long churnEnds = System.nanoTime() + CHURN.toNanos();
        ExecutorService threads = Executors.newFixedThreadPool(SENDERS + CHURNING_READERS);
        ScheduledExecutorService droppers = Executors.newScheduledThreadPool(2);
        try {
            List<Future<Map<String, Long>>> senders = new ArrayList<>();
            for (int s = 0; s < SENDERS; s++) {
                int sender = s;
                senders.add(threads.submit(() -> pipeline(base, sender, Integer.MAX_VALUE, CHURN_WINDOW,
                        sent -> 1_000 + sent * 37 % 900, churnEnds, deadline)));
            }
            long[] target = {Long.MAX_VALUE};
            List<Future<Integer>> readers = new ArrayList<>();
            for (int r = 0; r < CHURNING_READERS; r++) {
                readers.add(threads.submit(() -> churn(base, start, epoch, target, droppers, deadline)));
            }
            long newest = start;
            for (Future<Map<String, Long>> sender : senders) {
                for (long offset : sender.get(DEADLINE.toSeconds(), TimeUnit.SECONDS).values()) {
                    newest = Math.max(newest, offset);
                }
            }
            synchronized (target) {
                target[0] = newest;
            }
            int connections = 0;
            for (Future<Integer> reader : readers) {
                connections += reader.get(DEADLINE.toSeconds(), TimeUnit.SECONDS);
            }
            System.out.println(connections + " connections churned in " + CHURN.toSeconds() + " s");
            assertTrue(connections >= 1_000, "only " + connections + " connections churned");
        } finally {
            droppers.shutdownNow();
            threads.shutdownNow();
            assertTrue(threads.awaitTermination(20, TimeUnit.SECONDS), "all client threads stopped");
        }
    }

    /**
     * Connects with the last offset it saw, then drops the connection within 3 ms, after a few messages, or after
     * up to 100 ms, half of the time with a close frame and half with a TCP reset, and stays away up to 40 ms;
     * until it has seen {@code target}. Each connection must receive the offsets after its serverOffset one by
     * one, every frame whole.
     *
     * @return the connections it made
     */
    private static int churn(URI base, long start, String epoch, long[] target, ScheduledExecutorService droppers,
                             long deadline) throws Exception {
        ThreadLocalRandom random = ThreadLocalRandom.current();
        long last = start;
        int connections = 0;
        while (last < currentTarget(target)) {
            if (System.nanoTime() > deadline) {
                fail("a churning reader was still behind at the deadline: at " + last + " of " + currentTarget(target));
            }
            long serverOffset = last;
            List<Long> received = new ArrayList<>();
            int kind = random.nextInt(4);
            int budget = kind == 1 ? random.nextInt(1, 60) : Integer.MAX_VALUE;
            long dropAfterMicros = kind == 0 ? random.nextLong(0, 3_000) : random.nextLong(0, 100_000);
            boolean abrupt = random.nextBoolean();
            AtomicBoolean dropped = new AtomicBoolean();
            try (RawWebSocket raw = RawWebSocket.open(base, "?serverOffset=" + serverOffset + "&epoch=" + epoch)) {
                connections++;
                ScheduledFuture<?> drop = droppers.schedule(() -> {
                    dropped.set(true);
                    if (abrupt) {
                        raw.abort();
                    } else {
                        raw.closeCleanly();
                    }
                }, kind == 1 ? DEADLINE.toMillis() * 1_000 : dropAfterMicros, TimeUnit.MICROSECONDS);
                try {
                    while (received.size() < budget && last < currentTarget(target)) {
                        JsonNode frame = raw.nextText();
                        if (frame == null) {
                            break;
                        }
                        if (frame.path("type").asText().equals("chat message")) {
                            long offset = frame.path("offset").asLong();
                            long expected = received.isEmpty() ? serverOffset + 1 : received.get(received.size() - 1) + 1;
                            received.add(offset);
                            if (offset != expected) {
                                fail("a connection from serverOffset=" + serverOffset + " got " + offset + " where "
                                        + expected + " was due; its offsets in arrival order: " + received);
                            }
                            last = offset;
                        }
                    }
                } catch (IOException droppedMeanwhile) {
                    if (!dropped.get()) {
                        throw droppedMeanwhile;
                    }
                } finally {
                    drop.cancel(false);
                }
                if (abrupt) {
                    raw.abort();
                } else {
                    raw.closeCleanly();
                }
            }
            Thread.sleep(random.nextInt(0, 41));
        }
        return connections;
    }

    private static Map<String, Long> send(URI base, int sender, long deadline) throws Exception {
        return pipeline(base, sender, MESSAGES_PER_SENDER, WINDOW, sent -> 0, Long.MAX_VALUE, deadline);
    }

    /**
     * Keeps {@code window} messages unacknowledged until {@code messages} are sent or {@code stopSending} (a
     * {@link System#nanoTime()}) has passed, then waits for the acks of all; returns clientOffset to offset.
     *
     * @param padding how many characters to add to the text of the n-th message
     */
    private static Map<String, Long> pipeline(URI base, int sender, int messages, int window, IntUnaryOperator padding,
                                              long stopSending, long deadline) throws Exception {
        String run = UUID.randomUUID().toString();
        Map<String, Long> acks = new HashMap<>();
        try (ChatClient client = ChatClient.connect(base, ChatWar.latestOffset(base))) {
            client.awaitSynced();
            int sent = 0;
            while (acks.size() < Math.min(messages, sent) || (sent < messages && System.nanoTime() < stopSending)) {
                while (sent < messages && sent - acks.size() < window && System.nanoTime() < stopSending) {
                    client.sendChat("sender " + sender + " message " + sent + " "
                            + PADDING.substring(0, padding.applyAsInt(sent)), run + "-" + sender + "-" + sent);
                    sent++;
                }
                if (System.nanoTime() > deadline) {
                    fail("sender " + sender + " got " + acks.size() + " of " + messages + " acks before the deadline");
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
