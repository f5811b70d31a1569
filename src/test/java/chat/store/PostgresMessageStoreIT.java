package chat.store;

import chat.config.ChatConfig;
import chat.protocol.Author;
import chat.protocol.SentMessage;
import chat.testsupport.PostgresPerClass;
import com.zaxxer.hikari.HikariDataSource;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.sql.Connection;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The PostgreSQL store against a real PostgreSQL: the same contract as SQLite's, and what sharing it between nodes
 * adds, with each "node" a store and pool of its own on one database.
 */
class PostgresMessageStoreIT {

    @RegisterExtension
    static final PostgresPerClass POSTGRES = new PostgresPerClass("postgres-store");

    private final List<AutoCloseable> toClose = new ArrayList<>();
    private String url;

    @BeforeEach
    void useAFreshDatabase() throws Exception {
        url = POSTGRES.freshDatabase();
    }

    @AfterEach
    void closeStores() throws Exception {
        for (int i = toClose.size() - 1; i >= 0; i--) {
            toClose.get(i).close();
        }
    }

    /** A node's store: a pool of its own on the test's database. */
    private PostgresMessageStore node() throws StoreException {
        ChatConfig config = ChatConfig.of(Map.of("chat.db.url", url, "chat.db.user", POSTGRES.server().user(),
                "chat.db.password", POSTGRES.server().password(), "chat.db.poolSize", "4"));
        HikariDataSource pool = PostgresPool.open(config);
        PostgresMessageStore store = PostgresMessageStore.open(pool, pool,
                PostgresPool.unpooled(url, POSTGRES.server().user(), POSTGRES.server().password()));
        toClose.add(store);
        return store;
    }

    private static SentMessage message(String room, String text, String clientOffset) {
        return new SentMessage(room, text, clientOffset, new Author("ada", false));
    }

    @Test
    void eachRoomHasOffsetsOfItsOwnReadForwardAndBack() throws Exception {
        PostgresMessageStore store = node();
        List<Appended> results = store.append(List.of(message("general", "g1", "c1"), message("ops", "o1", "c2"),
                message("general", "g2", null), message("ops", "o2", "c3")), 1_000);
        assertEquals(List.of(new Appended("general", 1, Appended.Outcome.INSERTED),
                new Appended("ops", 1, Appended.Outcome.INSERTED), new Appended("general", 2, Appended.Outcome.INSERTED),
                new Appended("ops", 2, Appended.Outcome.INSERTED)), results);
        store.append(List.of(message("ops", "o3", "c4")), 2_000);

        List<StoredMessage> ops = store.readAfter("ops", 0, 10);
        assertEquals(List.of(1L, 2L, 3L), ops.stream().map(StoredMessage::offset).toList());
        assertEquals(new StoredMessage(1, "o1", new Author("ada", false), 1_000), ops.get(0));
        assertEquals(2_000, ops.get(2).time());
        assertEquals(List.of(2L, 3L), store.readBefore("ops", 4, 2).stream().map(StoredMessage::offset).toList());
        assertEquals(1, store.readAfter("ops", 0, 10, 1).size(), "cut once the texts reach maxChars");
        assertEquals(List.of(), store.readAfter("nowhere", 0, 10));
        assertEquals(List.of(new RoomHead("general", 2), new RoomHead("ops", 3)), store.rooms());
        assertEquals(3, store.latestOffset("ops"));
        assertEquals(0, store.latestOffset("nowhere"));
        assertEquals(1, store.oldestOffset("ops"));
        assertTrue(store.storedBytes() > 0);
        store.checkWritable();
    }

    @Test
    void aClientOffsetIsStoredOnceAcrossRoomsAndAnotherTextUnderItIsAConflict() throws Exception {
        PostgresMessageStore store = node();
        store.append(List.of(message("ops", "hello", "once")));
        List<Appended> again = store.append(List.of(message("general", "hello", "once"),
                message("general", "other", "once"), message("general", "twice", "twice"),
                message("general", "twice", "twice")));
        assertEquals(new Appended("ops", 1, Appended.Outcome.ALREADY_STORED), again.get(0));
        assertEquals(new Appended("ops", 1, Appended.Outcome.CONFLICT), again.get(1));
        assertEquals(new Appended("general", 1, Appended.Outcome.INSERTED), again.get(2));
        assertEquals(new Appended("general", 1, Appended.Outcome.ALREADY_STORED), again.get(3),
                "the same clientOffset twice in one batch");
        assertEquals(1, store.latestOffset("general"), "no offset is spent on a resend");

        store.append(List.of(new SentMessage("general", "mine", "verified-1", new Author("bob", true))));
        Appended spoofed = store.append(List.of(new SentMessage("general", "mine", "verified-1",
                new Author("bob", false)))).get(0);
        assertEquals(Appended.Outcome.CONFLICT, spoofed.outcome(), "a verified author's clientOffsets are theirs");
    }

    @Test
    void threeNodesStartingAtOnceOnAnEmptyDatabaseCreateOneSchemaAndShareOneEpoch() throws Exception {
        ExecutorService starts = Executors.newFixedThreadPool(3);
        try {
            CountDownLatch go = new CountDownLatch(1);
            List<Future<PostgresMessageStore>> nodes = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                nodes.add(starts.submit(() -> {
                    go.await();
                    return node();
                }));
            }
            go.countDown();
            Set<String> epochs = new HashSet<>();
            for (Future<PostgresMessageStore> node : nodes) {
                epochs.add(node.get(60, TimeUnit.SECONDS).epoch());
            }
            assertEquals(1, epochs.size(), epochs::toString);
            assertEquals(epochs.iterator().next(), node().epoch(), "a node started later finds the same epoch");
        } finally {
            starts.shutdownNow();
        }
    }

    @Test
    void aNewerSchemaIsRefusedByName() throws Exception {
        node();
        try (Connection connection = POSTGRES.server().connect(url); Statement statement = connection.createStatement()) {
            statement.executeUpdate("UPDATE chat_identity SET schema_version = 99");
        }
        StoreException refused = assertThrows(StoreException.class, this::node);
        assertTrue(refused.getMessage().contains("schema 99"), refused.getMessage());
    }

    @Test
    void aReadOnlyDatabaseFailsTheWriteCheck() throws Exception {
        PostgresMessageStore store = node();
        String database = url.substring(url.lastIndexOf('/') + 1);
        try (Connection connection = POSTGRES.server().connect(url); Statement statement = connection.createStatement()) {
            statement.execute("ALTER DATABASE " + database + " SET default_transaction_read_only = on");
        }
        // New sessions only: the pool's connections opened before keep writing, fresh ones do not.
        PostgresMessageStore later = node();
        StoreException refused = assertThrows(StoreException.class, later::checkWritable);
        assertTrue(refused.getMessage().contains("does not take writes"), refused.getMessage());
        assertThrows(StoreException.class, () -> later.append(List.of(message("general", "x", "ro-1"))));
        store.checkWritable();
    }

    @Test
    void retentionDeletesTheOldestButKeepsEachRoomsNewest() throws Exception {
        PostgresMessageStore store = node();
        store.append(List.of(message("general", "a", null), message("general", "b", null), message("ops", "c", null)),
                1_000);
        assertEquals(1, store.deleteOldest(5_000, 0, 100), "general's 1 only: each room's newest stays");
        assertEquals(2, store.oldestOffset("general"));
        assertEquals(2, store.latestOffset("general"));
        store.append(List.of(message("general", "d", null)));
        assertEquals(3, store.latestOffset("general"), "offsets are never handed out again");
    }

    /**
     * The hazard of numbering at insert time: a reader that tails "above my last offset" passes over a row still
     * in flight. Three nodes write batches into two rooms at once, some clientOffsets sent to two nodes at the same
     * time; three readers tail each room the whole time. No reader may ever see an offset other than the one after
     * its last, every clientOffset is stored once, and every node was answered with the same room and offset for it.
     */
    @Test
    void underConcurrentWritersOnThreeNodesNoReaderEverSkipsAnOffset() throws Exception {
        List<PostgresMessageStore> nodes = List.of(node(), node(), node());
        List<String> rooms = List.of("general", "ops");
        AtomicBoolean writing = new AtomicBoolean(true);
        AtomicBoolean written = new AtomicBoolean();
        Map<String, Appended> answers = new ConcurrentHashMap<>();
        List<String> violations = Collections.synchronizedList(new ArrayList<>());
        AtomicLong shared = new AtomicLong();
        ExecutorService threads = Executors.newFixedThreadPool(nodes.size() + nodes.size() * rooms.size());
        try {
            List<Future<Long>> writers = new ArrayList<>();
            for (int n = 0; n < nodes.size(); n++) {
                PostgresMessageStore store = nodes.get(n);
                String node = "node" + n;
                writers.add(threads.submit(() -> {
                    long sent = 0;
                    while (writing.get()) {
                        ThreadLocalRandom random = ThreadLocalRandom.current();
                        List<SentMessage> batch = new ArrayList<>();
                        for (int i = random.nextInt(1, 40); i > 0; i--) {
                            // Every fifth clientOffset is one of a few that all nodes send at about the same time.
                            String clientOffset = random.nextInt(5) == 0 ? "shared-" + (shared.get() / 3 + random.nextInt(2))
                                    : node + "-" + sent++;
                            batch.add(message(rooms.get(random.nextInt(rooms.size())), clientOffset, clientOffset));
                            shared.incrementAndGet();
                        }
                        List<Appended> results = store.append(batch);
                        for (int i = 0; i < batch.size(); i++) {
                            Appended result = results.get(i);
                            Appended first = answers.putIfAbsent(batch.get(i).clientOffset(),
                                    new Appended(result.room(), result.offset(), Appended.Outcome.INSERTED));
                            if (first != null && (!first.room().equals(result.room()) || first.offset() != result.offset()
                                    || result.outcome() == Appended.Outcome.CONFLICT)) {
                                violations.add(batch.get(i).clientOffset() + " answered " + result + " and " + first);
                            }
                        }
                    }
                    return sent;
                }));
            }
            List<Future<Map<String, Long>>> readers = new ArrayList<>();
            for (PostgresMessageStore store : nodes) {
                for (String room : rooms) {
                    readers.add(threads.submit(() -> {
                        long last = 0;
                        long reads = 0;
                        while (!written.get() || last < store.latestOffset(room)) {
                            for (StoredMessage message : store.readAfter(room, last, 1_000)) {
                                if (message.offset() != last + 1) {
                                    violations.add(room + ": read " + message.offset() + " after " + last);
                                }
                                last = message.offset();
                            }
                            reads++;
                        }
                        return Map.of(room, last, "reads", reads);
                    }));
                }
            }
            Thread.sleep(8_000);
            writing.set(false);
            for (Future<Long> writer : writers) {
                writer.get(60, TimeUnit.SECONDS);
            }
            written.set(true);
            Map<String, Long> newest = new HashMap<>();
            for (Future<Map<String, Long>> reader : readers) {
                Map<String, Long> read = reader.get(60, TimeUnit.SECONDS);
                for (String room : rooms) {
                    if (read.containsKey(room)) {
                        Long other = newest.put(room, read.get(room));
                        assertTrue(other == null || other.equals(read.get(room)), "readers ended apart: " + read);
                        assertTrue(read.get("reads") > 100, "the reader tailed while writes went on: " + read);
                    }
                }
            }
            assertEquals(List.of(), violations.subList(0, Math.min(20, violations.size())));
            PostgresMessageStore store = nodes.get(0);
            long stored = 0;
            for (String room : rooms) {
                assertEquals(store.latestOffset(room), newest.get(room));
                stored += newest.get(room);
            }
            assertEquals(answers.size(), stored, "every clientOffset stored once, nothing else stored");
            assertTrue(stored > 1_000, "enough commits raced: " + stored);
            assertFalse(answers.isEmpty());
        } finally {
            writing.set(false);
            written.set(true);
            threads.shutdownNow();
        }
    }

    @Test
    void aNodeHearsTheOtherNodesCommitsButNotItsOwnAndSaysWhenItMayHaveMissedSome() throws Exception {
        PostgresMessageStore one = node();
        PostgresMessageStore two = node();
        try (CommitFeed feed = one.openCommitFeed().orElseThrow()) {
            assertTrue(feed.await(1_000).mayHaveMissed(), "the first call begins listening");
            one.append(List.of(message("general", "own", null)));
            two.append(List.of(message("ops", "a", null), message("ops", "b", null), message("general", "c", null)));
            List<RoomHead> heard = new ArrayList<>();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (heard.size() < 2 && System.nanoTime() < deadline) {
                heard.addAll(feed.await(500).rooms());
            }
            assertEquals(Set.of(new RoomHead("general", 2), new RoomHead("ops", 2)), new HashSet<>(heard));
        }
    }

    @Test
    void aStoreGoesOnAfterPostgresRestartsAndItsFeedSaysNewsMayHaveBeenMissed() throws Exception {
        PostgresMessageStore one = node();
        PostgresMessageStore two = node();
        one.append(List.of(message("general", "before", "r-1")));
        try (CommitFeed feed = one.openCommitFeed().orElseThrow()) {
            feed.await(100);
            POSTGRES.server().stop();
            POSTGRES.server().restart();
            two.append(List.of(message("general", "while away", "r-2")));
            boolean lost = false;
            CommitFeed.News news = null;
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (System.nanoTime() < deadline) {
                try {
                    news = feed.await(500);
                    if (lost) {
                        break;
                    }
                } catch (StoreException e) {
                    lost = true;
                }
            }
            assertTrue(lost, "the feed noticed the restart");
            assertTrue(news != null && news.mayHaveMissed(), "listening again says news may have been missed");
        }
        assertEquals(new Appended("general", 2, Appended.Outcome.ALREADY_STORED),
                one.append(List.of(message("general", "while away", "r-2"))).get(0));
        assertEquals(2, one.latestOffset("general"));
    }

    @Test
    void aCommitNotificationSplitsRoomsOverSeveralPayloadsBelowTheLimit() {
        Map<String, Long> rooms = new java.util.TreeMap<>();
        for (int i = 0; i < 500; i++) {
            rooms.put("room-with-a-rather-long-name-" + i, 1_000_000L + i);
        }
        List<String> payloads = CommitNews.payloads("writer", rooms);
        assertTrue(payloads.size() > 1);
        List<RoomHead> read = new ArrayList<>();
        for (String payload : payloads) {
            assertTrue(payload.length() <= CommitNews.MAX_PAYLOAD_BYTES, () -> "payload of " + payload.length());
            assertEquals("writer", CommitNews.writerOf(payload));
            CommitNews.readRooms(payload, read);
        }
        assertEquals(rooms.size(), read.size());
        read.forEach(head -> assertEquals(rooms.get(head.room()), head.newest()));
        if (read.isEmpty()) {
            fail("nothing read");
        }
    }
}
