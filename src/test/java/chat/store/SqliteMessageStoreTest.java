package chat.store;

import chat.protocol.Author;
import chat.protocol.Rooms;
import chat.protocol.SentMessage;
import static chat.store.Appended.Outcome.ALREADY_STORED;
import static chat.store.Appended.Outcome.CONFLICT;
import static chat.store.Appended.Outcome.INSERTED;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import chat.config.ChatConfig;
import chat.config.ChatConfig.Durability;
import com.zaxxer.hikari.HikariDataSource;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The SQLite log on a real file: schema and WAL on open, increasing offsets in list order, a clientOffset stored
 * once (a resend gets the stored offset, another text a conflict), reads by page, retention, and the epoch. */
class SqliteMessageStoreTest {

    /** A message as the store gives back one appended without an author, its time left out. */
    private static StoredMessage stored(long offset, String text) {
        return new StoredMessage(offset, text, Author.ANONYMOUS, 0);
    }

    /** The messages with their times left out, which the tests do not choose. */
    private static List<StoredMessage> plain(List<StoredMessage> messages) {
        return messages.stream().map(m -> new StoredMessage(m.offset(), m.text(), m.author(), 0)).toList();
    }

    @TempDir
    Path dir;

    private Path file;
    private SqliteMessageStore store;

    @BeforeEach
    void openStore() throws StoreException {
        file = dir.resolve("chat.db");
        store = open(Map.of());
    }

    @AfterEach
    void closeStore() {
        if (store != null) {
            store.close();
        }
    }

    private SqliteMessageStore open(Map<String, String> settings) throws StoreException {
        Map<String, String> values = new HashMap<>(settings);
        values.put("chat.db.path", file.toString());
        HikariDataSource pool = SqlitePool.open(ChatConfig.of(values));
        try {
            return SqliteMessageStore.open(pool, Durability.FULL, pool);
        } catch (StoreException | RuntimeException e) {
            pool.close();
            throw e;
        }
    }

    private void reopen(Map<String, String> settings) throws StoreException {
        store.close();
        store = null;
        store = open(settings);
    }

    private Connection plainConnection() throws SQLException {
        return DriverManager.getConnection("jdbc:sqlite:" + file);
    }

    private interface Column<T> {
        T of(ResultSet row) throws SQLException;
    }

    /** The first column of the first row of {@code sql}, read past the store. */
    private <T> T query(String sql, Column<T> column) throws SQLException {
        try (Connection connection = plainConnection();
             Statement statement = connection.createStatement();
             ResultSet result = statement.executeQuery(sql)) {
            assertTrue(result.next());
            return column.of(result);
        }
    }

    private long queryLong(String sql) throws SQLException {
        return query(sql, row -> row.getLong(1));
    }

    private String queryString(String sql) throws SQLException {
        return query(sql, row -> row.getString(1));
    }

    private long rowCount() throws SQLException {
        return queryLong("SELECT COUNT(*) FROM messages");
    }

    private static List<SentMessage> messages(String... textsAndOffsets) {
        List<SentMessage> messages = new ArrayList<>();
        for (int i = 0; i < textsAndOffsets.length; i += 2) {
            messages.add(new SentMessage(Rooms.GENERAL, textsAndOffsets[i], textsAndOffsets[i + 1]));
        }
        return messages;
    }

    private List<Long> appendTexts(int count) throws StoreException {
        List<SentMessage> batch = new ArrayList<>();
        for (int i = 1; i <= count; i++) {
            batch.add(new SentMessage(Rooms.GENERAL, "m" + i, null));
        }
        return store.append(batch).stream().map(Appended::offset).toList();
    }

    @Test
    void openCreatesTheMessagesTable() throws SQLException {
        assertEquals(1, queryLong("SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'messages'"));
        List<String> columns = new ArrayList<>();
        try (Connection connection = plainConnection();
             Statement statement = connection.createStatement();
             ResultSet rows = statement.executeQuery("PRAGMA table_info(messages)")) {
            while (rows.next()) {
                columns.add(rows.getString("name"));
            }
        }
        assertEquals(List.of("id", "client_offset", "content", "created_at", "room_id", "room_offset", "author",
                "verified"), columns);
        assertEquals(1, queryLong("SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'rooms'"));
        assertEquals(3, queryLong("PRAGMA user_version"));
    }

    @Test
    void eachRoomHasOffsetsOfItsOwnFromOne() throws StoreException {
        List<Appended> results = store.append(List.of(new SentMessage("ops", "a", null),
                new SentMessage(Rooms.GENERAL, "b", null), new SentMessage("ops", "c", null)));
        assertEquals(List.of(new Appended("ops", 1, INSERTED), new Appended(Rooms.GENERAL, 1, INSERTED),
                new Appended("ops", 2, INSERTED)), results);
        assertEquals(List.of(new Appended("ops", 3, INSERTED)), store.append(List.of(new SentMessage("ops", "d", null))));
        assertEquals(3, store.latestOffset("ops"));
        assertEquals(1, store.latestOffset(Rooms.GENERAL));
        assertEquals(0, store.latestOffset("never-written"));
        assertEquals(List.of("a", "c", "d"), store.readAfter("ops", 0, 10).stream().map(StoredMessage::text).toList());
        assertEquals(List.of(), store.readAfter("never-written", 0, 10));
        assertEquals(List.of(new RoomHead(Rooms.GENERAL, 1), new RoomHead("ops", 3)), store.rooms());
    }

    @Test
    void aResendToAnotherRoomIsAnsweredWithTheRoomAndOffsetItWasStoredUnder() throws StoreException {
        store.append(List.of(new SentMessage("ops", "hi", "k-1")));
        assertEquals(List.of(new Appended("ops", 1, ALREADY_STORED)),
                store.append(List.of(new SentMessage(Rooms.GENERAL, "hi", "k-1"))));
        assertEquals(0, store.latestOffset(Rooms.GENERAL), "no second row, no offset used up");
    }

    @Test
    void readBeforeGivesTheMessagesJustBelowInOffsetOrder() throws StoreException {
        appendTexts(10);
        assertEquals(List.of(6L, 7L, 8L, 9L), store.readBefore(Rooms.GENERAL, 10, 4).stream()
                .map(StoredMessage::offset).toList());
        assertEquals(List.of(1L, 2L), store.readBefore(Rooms.GENERAL, 3, 50).stream()
                .map(StoredMessage::offset).toList());
        assertEquals(List.of(), store.readBefore(Rooms.GENERAL, 1, 50), "nothing below the room's start");
        assertEquals(List.of(7L, 8L, 9L, 10L), store.readBefore(Rooms.GENERAL, Long.MAX_VALUE, 4).stream()
                .map(StoredMessage::offset).toList());
    }

    @Test
    void aDatabaseOfTheFirstReleaseIsMigratedItsMessagesGeneralsWithTheSameOffsetsAndEpoch() throws Exception {
        store.close();
        store = null;
        java.nio.file.Files.delete(file);
        try (Connection connection = plainConnection(); Statement statement = connection.createStatement()) {
            statement.executeUpdate("PRAGMA journal_mode = WAL");
            statement.executeUpdate("CREATE TABLE messages (id INTEGER PRIMARY KEY AUTOINCREMENT,"
                    + " client_offset TEXT UNIQUE, content TEXT NOT NULL, created_at INTEGER NOT NULL)");
            statement.executeUpdate("CREATE TABLE chat_identity (id INTEGER PRIMARY KEY CHECK (id = 1),"
                    + " epoch TEXT NOT NULL)");
            statement.executeUpdate("INSERT INTO chat_identity VALUES (1, 'epoch-of-v1')");
            for (int i = 1; i <= 5; i++) {
                statement.executeUpdate("INSERT INTO messages (client_offset, content, created_at) VALUES ('k-" + i
                        + "', 'old " + i + "', " + i + ")");
            }
            statement.executeUpdate("DELETE FROM messages WHERE id IN (1, 2)"); // retention took the oldest
        }
        store = open(Map.of());
        assertEquals("epoch-of-v1", store.epoch());
        assertEquals(5, store.latestOffset(Rooms.GENERAL));
        assertEquals(3, store.oldestOffset(Rooms.GENERAL));
        assertEquals(List.of(stored(3, "old 3"), stored(4, "old 4"), stored(5, "old 5")),
                plain(store.readAfter(Rooms.GENERAL, 0, 10)));
        assertEquals(List.of(new Appended(Rooms.GENERAL, 4, ALREADY_STORED)),
                store.append(List.of(new SentMessage(Rooms.GENERAL, "old 4", "k-4"))));
        assertEquals(List.of(new Appended(Rooms.GENERAL, 6, INSERTED)),
                store.append(List.of(new SentMessage(Rooms.GENERAL, "new", "k-6"))));
        reopen(Map.of());
        assertEquals(6, store.latestOffset(Rooms.GENERAL), "migrated once, opened again as it is");
    }

    @Test
    void aMessageIsReadBackWithItsAuthorAndTheTimeItWasCommittedAt() throws Exception {
        Author ada = new Author("Ada", true);
        store.append(List.of(new SentMessage(Rooms.GENERAL, "hello", "k-1", ada),
                new SentMessage(Rooms.GENERAL, "hi", null, new Author("guest-ab12", false))), 1_764_000_000_123L);
        List<StoredMessage> expected = List.of(new StoredMessage(1, "hello", ada, 1_764_000_000_123L),
                new StoredMessage(2, "hi", new Author("guest-ab12", false), 1_764_000_000_123L));
        assertEquals(expected, store.readAfter(Rooms.GENERAL, 0, 10));
        assertEquals(expected, store.readBefore(Rooms.GENERAL, 3, 10));
    }

    @Test
    void aVerifiedAuthorsClientOffsetIsTheirsAloneWhileChosenNamesAreNotCompared() throws Exception {
        Author ada = new Author("Ada", true);
        store.append(List.of(new SentMessage(Rooms.GENERAL, "mine", "k-ada", ada),
                new SentMessage(Rooms.GENERAL, "a guest's", "k-guest", new Author("guest-aaaa", false))));

        assertEquals(List.of(new Appended(Rooms.GENERAL, 1, ALREADY_STORED)),
                store.append(List.of(new SentMessage(Rooms.GENERAL, "mine", "k-ada", ada))));
        assertEquals(List.of(new Appended(Rooms.GENERAL, 1, CONFLICT), new Appended(Rooms.GENERAL, 1, CONFLICT)),
                store.append(List.of(new SentMessage(Rooms.GENERAL, "mine", "k-ada", new Author("Ada", false)),
                        new SentMessage(Rooms.GENERAL, "mine", "k-ada", new Author("Bob", true)))));
        assertEquals(List.of(new Appended(Rooms.GENERAL, 2, ALREADY_STORED)),
                store.append(List.of(new SentMessage(Rooms.GENERAL, "a guest's", "k-guest",
                        new Author("guest-bbbb", false)))), "the same guest, reconnected under another name");
        assertEquals(2, store.latestOffset(Rooms.GENERAL));
    }

    @Test
    void aDatabaseOfSchemaTwoGetsAuthorsItsMessagesAnonymousWithTheirTimesOffsetsAndEpochKept() throws Exception {
        store.close();
        store = null;
        try (Connection connection = plainConnection(); Statement statement = connection.createStatement()) {
            statement.executeUpdate("DROP TABLE messages");
            statement.executeUpdate("CREATE TABLE messages (id INTEGER PRIMARY KEY AUTOINCREMENT, client_offset TEXT"
                    + " UNIQUE, content TEXT NOT NULL, created_at INTEGER NOT NULL, room_id INTEGER NOT NULL,"
                    + " room_offset INTEGER NOT NULL)");
            statement.executeUpdate("INSERT INTO rooms (name, newest, created_at) VALUES ('ops', 2, 0)"
                    + " ON CONFLICT (name) DO UPDATE SET newest = 2");
            statement.executeUpdate("INSERT INTO messages (client_offset, content, created_at, room_id, room_offset)"
                    + " VALUES ('k-1', 'one', 1700000000001, (SELECT id FROM rooms WHERE name = 'ops'), 1),"
                    + " (NULL, 'two', 1700000000002, (SELECT id FROM rooms WHERE name = 'ops'), 2)");
            statement.executeUpdate("PRAGMA user_version = 2");
        }
        String epoch = queryString("SELECT epoch FROM chat_identity");
        store = open(Map.of());

        assertEquals(List.of(new StoredMessage(1, "one", Author.ANONYMOUS, 1_700_000_000_001L),
                new StoredMessage(2, "two", Author.ANONYMOUS, 1_700_000_000_002L)), store.readAfter("ops", 0, 10));
        assertEquals(epoch, store.epoch());
        assertEquals(3, queryLong("PRAGMA user_version"));
        assertEquals(List.of(new Appended("ops", 1, ALREADY_STORED)),
                store.append(List.of(new SentMessage("ops", "one", "k-1", new Author("guest-cccc", false)))));
        assertEquals(List.of(new Appended("ops", 3, INSERTED)),
                store.append(List.of(new SentMessage("ops", "three", null, new Author("Ada", true)))));
    }

    @Test
    void aDatabaseOfANewerSchemaIsRefusedNamingIt() throws Exception {
        store.close();
        store = null;
        try (Connection connection = plainConnection(); Statement statement = connection.createStatement()) {
            statement.executeUpdate("PRAGMA user_version = 4");
        }
        StoreException refused = assertThrows(StoreException.class, () -> open(Map.of()));
        assertTrue(refused.getMessage().contains("schema 4"), refused.getMessage());
    }

    @Test
    void retentionKeepsTheNewestMessageOfEveryRoom() throws StoreException {
        store.append(List.of(new SentMessage("a", "a1", null), new SentMessage("b", "b1", null),
                new SentMessage("a", "a2", null)));
        assertEquals(1, store.deleteOldest(Long.MAX_VALUE, 0, 1_000), "only a1: b1 and a2 are their rooms' newest");
        assertEquals(2, store.oldestOffset("a"));
        assertEquals(1, store.oldestOffset("b"));
    }

    @Test
    void openSwitchesTheDatabaseToWal() throws SQLException {
        try (Connection connection = plainConnection();
             Statement statement = connection.createStatement();
             ResultSet mode = statement.executeQuery("PRAGMA journal_mode")) {
            assertTrue(mode.next());
            assertEquals("wal", mode.getString(1).toLowerCase(Locale.ROOT));
        }
    }

    @Test
    void openIsIdempotentOnAnExistingDatabase() throws Exception {
        store.append(messages("kept", "k-1"));
        reopen(Map.of());
        assertEquals(1, rowCount());
        assertEquals(1, store.latestOffset(Rooms.GENERAL));
    }

    @Test
    void appendReturnsIncreasingOffsetsInListOrder() throws Exception {
        List<Appended> results = store.append(messages("a", "c-a", "b", "c-b", "c", null));
        assertEquals(List.of(new Appended(Rooms.GENERAL, 1, INSERTED), new Appended(Rooms.GENERAL, 2, INSERTED), new Appended(Rooms.GENERAL, 3, INSERTED)), results);

        List<Appended> next = store.append(messages("d", "c-d"));
        assertEquals(List.of(new Appended(Rooms.GENERAL, 4, INSERTED)), next);

        assertEquals(List.of(stored(1, "a"), stored(2, "b"), stored(3, "c"),
                stored(4, "d")), plain(store.readAfter(Rooms.GENERAL, 0, 10)));
    }

    @Test
    void appendOfEmptyListStoresNothing() throws Exception {
        assertEquals(List.of(), store.append(List.of()));
        assertEquals(0, rowCount());
    }

    @Test
    void duplicateClientOffsetInALaterBatchReturnsTheStoredOffset() throws Exception {
        store.append(messages("first", "dup", "other", "o-1"));
        assertEquals(2, rowCount());

        List<Appended> results = store.append(messages("first", "dup", "new", "n-1"));

        assertEquals(new Appended(Rooms.GENERAL, 1, ALREADY_STORED), results.get(0));
        assertTrue(results.get(1).inserted());
        assertTrue(results.get(1).offset() > 2, results::toString);
        assertEquals(3, rowCount());
        assertEquals(List.of(stored(1, "first"), stored(2, "other"),
                stored(results.get(1).offset(), "new")), plain(store.readAfter(Rooms.GENERAL, 0, 10)));
    }

    @Test
    void duplicateClientOffsetWithinOneBatchReturnsTheFirstOffset() throws Exception {
        List<Appended> results = store.append(messages("one", "same", "two", null, "one", "same"));

        assertEquals(List.of(new Appended(Rooms.GENERAL, 1, INSERTED), new Appended(Rooms.GENERAL, 2, INSERTED), new Appended(Rooms.GENERAL, 1, ALREADY_STORED)),
                results);
        assertEquals(2, rowCount());
        assertEquals(List.of(stored(1, "one"), stored(2, "two")), plain(store.readAfter(Rooms.GENERAL, 0, 10)));
    }

    @Test
    void offsetsKeepIncreasingAfterADuplicate() throws Exception {
        List<Appended> results = store.append(messages("a", "same", "a", "same", "c", null, "d", "d-1"));

        assertEquals(new Appended(Rooms.GENERAL, 1, INSERTED), results.get(0));
        assertEquals(new Appended(Rooms.GENERAL, 1, ALREADY_STORED), results.get(1));
        assertTrue(results.get(2).inserted() && results.get(3).inserted(), results::toString);
        assertTrue(results.get(0).offset() < results.get(2).offset(), results::toString);
        assertTrue(results.get(2).offset() < results.get(3).offset(), results::toString);
        assertEquals(results.get(3).offset(), store.latestOffset(Rooms.GENERAL));
        assertEquals(3, rowCount());
    }

    @Test
    void aClientOffsetStoredWithAnotherTextIsAConflictAndStoresNothing() throws Exception {
        store.append(messages("mine", "k-1"));

        List<Appended> later = store.append(messages("someone else's", "k-1"));
        List<Appended> sameBatch = store.append(messages("x", "k-2", "y", "k-2"));

        assertEquals(List.of(new Appended(Rooms.GENERAL, 1, CONFLICT)), later);
        assertEquals(List.of(new Appended(Rooms.GENERAL, 2, INSERTED), new Appended(Rooms.GENERAL, 2, CONFLICT)), sameBatch);
        assertEquals(List.of(stored(1, "mine"), stored(2, "x")), plain(store.readAfter(Rooms.GENERAL, 0, 10)));
    }

    @Test
    void nullClientOffsetsNeverConflict() throws Exception {
        List<Appended> first = store.append(messages("a", null, "a", null));
        List<Appended> second = store.append(messages("a", null));

        assertEquals(List.of(new Appended(Rooms.GENERAL, 1, INSERTED), new Appended(Rooms.GENERAL, 2, INSERTED)), first);
        assertEquals(List.of(new Appended(Rooms.GENERAL, 3, INSERTED)), second);
        assertEquals(3, rowCount());
    }

    @Test
    void textIsStoredVerbatim() throws Exception {
        String text = "quote \" slash \\ newline \n <b>html</b> emoji \uD83D\uDE00 nul \u0000 end";
        store.append(messages(text, "t-1"));
        assertEquals(List.of(stored(1, text)), plain(store.readAfter(Rooms.GENERAL, 0, 1)));
    }

    @Test
    void readAfterPagesInOrderWithLimit() throws Exception {
        assertEquals(List.of(1L, 2L, 3L, 4L, 5L), appendTexts(5));

        assertEquals(List.of(stored(1, "m1"), stored(2, "m2")), plain(store.readAfter(Rooms.GENERAL, 0, 2)));
        assertEquals(List.of(stored(3, "m3"), stored(4, "m4")), plain(store.readAfter(Rooms.GENERAL, 2, 2)));
        assertEquals(List.of(stored(5, "m5")), plain(store.readAfter(Rooms.GENERAL, 4, 2)));
    }

    @Test
    void readAfterReturnsEmptyPastTheEnd() throws Exception {
        appendTexts(3);
        assertEquals(List.of(), store.readAfter(Rooms.GENERAL, 3, 10));
        assertEquals(List.of(), store.readAfter(Rooms.GENERAL, 1_000, 10));
    }

    @Test
    void readAfterOnEmptyStoreIsEmpty() throws Exception {
        assertEquals(List.of(), store.readAfter(Rooms.GENERAL, 0, 10));
    }

    @Test
    void latestOffsetIsZeroOnEmptyStore() throws Exception {
        assertEquals(0, store.latestOffset(Rooms.GENERAL));
    }

    @Test
    void latestOffsetIsTheHighestStoredOffset() throws Exception {
        appendTexts(4);
        assertEquals(4, store.latestOffset(Rooms.GENERAL));
        store.append(messages("x", "x-1"));
        assertEquals(5, store.latestOffset(Rooms.GENERAL));
    }

    @Test
    void dataSurvivesCloseAndReopen() throws Exception {
        store.append(messages("a", "c-a", "b", null));
        reopen(Map.of());

        assertEquals(2, store.latestOffset(Rooms.GENERAL));
        assertEquals(List.of(stored(1, "a"), stored(2, "b")), plain(store.readAfter(Rooms.GENERAL, 0, 10)));

        List<Appended> after = store.append(messages("a", "c-a", "c", null));
        assertEquals(new Appended(Rooms.GENERAL, 1, ALREADY_STORED), after.get(0));
        assertTrue(after.get(1).inserted());
        assertTrue(after.get(1).offset() > 2, after::toString);
    }

    @Test
    void failedDraftInABatchRollsBackTheWholeBatch() throws Exception {
        store.append(messages("before", "b-1"));

        assertThrows(StoreException.class, () -> store.append(messages("ok", "ok-1", null, "broken-1")));

        assertEquals(1, rowCount());
        assertEquals(List.of(new Appended(Rooms.GENERAL, 2, INSERTED)), store.append(messages("ok", "ok-1")));
    }

    @Test
    void appendWhileAnotherConnectionHoldsTheWriteLockFailsAndStoresNothing() throws Exception {
        reopen(Map.of("chat.db.busyTimeoutMs", "100"));
        store.append(messages("before", "b-1"));

        try (Connection locker = plainConnection(); Statement lock = locker.createStatement()) {
            lock.execute("BEGIN IMMEDIATE");
            try {
                StoreException e = assertThrows(StoreException.class,
                        () -> store.append(messages("x", "x-1", "y", null)));
                assertInstanceOf(SQLException.class, e.getCause());
                assertTrue(e.getMessage().contains("SQLITE_BUSY"), e.getMessage());
            } finally {
                lock.execute("ROLLBACK");
            }
        }

        assertEquals(1, rowCount());
        assertEquals(1, store.latestOffset(Rooms.GENERAL));
        assertEquals(List.of(new Appended(Rooms.GENERAL, 2, INSERTED), new Appended(Rooms.GENERAL, 3, INSERTED)),
                store.append(messages("x", "x-1", "y", null)));
        assertEquals(3, rowCount());
    }

    @Test
    void checkWritableFailsAtOnceWhileAnotherConnectionHoldsTheWriteLockAndPassesAfterwards() throws Exception {
        reopen(Map.of("chat.db.busyTimeoutMs", "5000"));
        store.checkWritable();
        try (Connection locker = plainConnection(); Statement lock = locker.createStatement()) {
            lock.execute("BEGIN IMMEDIATE");
            try {
                long started = System.nanoTime();
                StoreException e = assertThrows(StoreException.class, store::checkWritable);
                assertTrue(e.getMessage().contains("does not take writes"), e.getMessage());
                assertTrue(System.nanoTime() - started < 2_000_000_000L, "the probe does not wait out the busy timeout");
            } finally {
                lock.execute("ROLLBACK");
            }
        }
        store.checkWritable();
        assertEquals(List.of(new Appended(Rooms.GENERAL, 1, INSERTED)), store.append(messages("after the probe", null)),
                "the probe stored nothing and left the busy timeout usable");
    }

    @Test
    void theEpochIsKeptAcrossReopeningAndANewDatabaseGetsAnotherOne() throws Exception {
        String epoch = store.epoch();
        assertTrue(epoch.length() >= 32, epoch);
        reopen(Map.of());
        assertEquals(epoch, store.epoch());

        store.close();
        store = null;
        for (String suffix : new String[] {"", "-wal", "-shm"}) {
            java.nio.file.Files.deleteIfExists(java.nio.file.Path.of(file + suffix));
        }
        store = open(Map.of());
        org.junit.jupiter.api.Assertions.assertNotEquals(epoch, store.epoch(), "a new database is another epoch");
    }

    @Test
    void latestOffsetAfterCloseThrows() {
        store.close();
        assertThrows(StoreException.class, () -> store.latestOffset(Rooms.GENERAL));
    }

    @Test
    void readAfterAfterCloseThrows() {
        store.close();
        assertThrows(StoreException.class, () -> store.readAfter(Rooms.GENERAL, 0, 10));
    }

    @Test
    void appendAfterCloseThrows() throws SQLException {
        store.close();
        assertThrows(StoreException.class, () -> store.append(messages("late", "l-1")));
        assertEquals(0, rowCount());
    }

    @Test
    void retentionByAgeDeletesTheOldestButNeverTheNewestAndOffsetsAreNotHandedOutAgain() throws Exception {
        store.append(messages("one", "r-1", "two", "r-2", "three", "r-3"));
        try (Connection connection = plainConnection(); Statement statement = connection.createStatement()) {
            statement.executeUpdate("UPDATE messages SET created_at = 1000 WHERE id <= 2");
        }
        assertEquals(1, store.oldestOffset(Rooms.GENERAL));
        assertEquals(2, store.deleteOldest(2_000, 0, 1_000), "the two stored before 2000 ms");
        assertEquals(3, store.oldestOffset(Rooms.GENERAL));
        assertEquals(0, store.deleteOldest(Long.MAX_VALUE, 0, 1_000), "the newest stays, whatever its age");
        assertEquals(3, store.latestOffset(Rooms.GENERAL));
        assertEquals(4, store.append(messages("four", "r-4")).get(0).offset());
        assertEquals(List.of(3L, 4L), store.readAfter(Rooms.GENERAL, 0, 10).stream().map(StoredMessage::offset).toList());
    }

    @Test
    void retentionBySizeDeletesTheOldestWhileTheDataIsOverTheLimitInBatches() throws Exception {
        String text = "x".repeat(4_000);
        List<SentMessage> messages = new ArrayList<>();
        for (int i = 0; i < 50; i++) {
            messages.add(new SentMessage(Rooms.GENERAL, text, "s-" + i));
        }
        store.append(messages);
        long before = store.storedBytes();
        assertTrue(before > 50 * 4_000, "the data takes " + before + " bytes");
        assertEquals(0, store.deleteOldest(Long.MIN_VALUE, before, 1_000), "not over the limit");
        assertEquals(10, store.deleteOldest(Long.MIN_VALUE, before - 1, 10), "a batch of at most 10");
        assertEquals(11, store.oldestOffset(Rooms.GENERAL));
        assertEquals(39, store.deleteOldest(Long.MIN_VALUE, 1, 1_000), "all but the newest");
        assertTrue(store.storedBytes() < before / 4, "freed pages do not count: " + store.storedBytes());
    }

    @Test
    void anEmptyStoreHasNoOldestOffset() throws Exception {
        assertEquals(0, store.oldestOffset(Rooms.GENERAL));
        assertEquals(0, store.deleteOldest(Long.MAX_VALUE, 1, 1_000));
    }

    @Test
    void aDatabaseFileWrittenByTheFirstReleaseIsMigratedWithItsOffsetsClientOffsetsAndEpoch() throws Exception {
        store.close();
        store = null;
        java.nio.file.Files.delete(file);
        try (var release = SqliteMessageStoreTest.class.getResourceAsStream("first-release.db")) {
            java.nio.file.Files.copy(java.util.Objects.requireNonNull(release, "first-release.db"), file);
        }
        store = open(Map.of());
        assertEquals("170b54d1-ea4d-43f6-a1ad-a1dc320fd8ba", store.epoch());
        assertEquals(5, store.latestOffset(Rooms.GENERAL));
        assertEquals(2, store.oldestOffset(Rooms.GENERAL));
        assertEquals(List.of("second", "third \u00e9\ud83d\ude00", "fourth", "fifth"),
                store.readAfter(Rooms.GENERAL, 0, 10).stream().map(StoredMessage::text).toList());
        assertEquals(List.of(new Appended(Rooms.GENERAL, 5, ALREADY_STORED)),
                store.append(List.of(new SentMessage("ops", "fifth", "release-5"))));
        assertEquals(List.of(new Appended(Rooms.GENERAL, 6, INSERTED), new Appended("ops", 1, INSERTED)),
                store.append(List.of(new SentMessage(Rooms.GENERAL, "sixth", null), new SentMessage("ops", "o", null))));
    }
}
