package chat.store;

import static chat.store.Appended.Outcome.ALREADY_STORED;
import static chat.store.Appended.Outcome.CONFLICT;
import static chat.store.Appended.Outcome.INSERTED;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import chat.config.ChatConfig;
import chat.config.ChatConfig.Durability;
import chat.protocol.Author;
import chat.protocol.Rooms;
import chat.protocol.SentMessage;
import chat.testsupport.PostgresPerClass;
import com.zaxxer.hikari.HikariDataSource;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The command that moves a chat from SQLite to PostgreSQL, on a real PostgreSQL: the history arrives as the nodes
 * will read it (the epoch, the rooms, each room's pages, a resend answered with its stored offset, new messages
 * after each room's newest), a target that holds a chat already is refused and left as it was, the first release's
 * file is migrated and copied, and a file a node still has open is refused.
 */
class CopyToPostgresIT {

    @RegisterExtension
    static final PostgresPerClass POSTGRES = new PostgresPerClass("copy-to-postgres");

    private static final Author ALICE = new Author("alice", true);
    private static final Author BOB = new Author("bob", false);
    /** Every character COPY's text format escapes, and some it does not. */
    private static final String AWKWARD = "tab\there, line\nbreak, return\r, back\\slash, \\N, \u00e9\ud83d\ude00";

    @TempDir
    Path dir;

    private record Run(int status, String output) {
    }

    private static Run copy(String... args) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        PrintStream err = new PrintStream(bytes, true, StandardCharsets.UTF_8);
        int status = CopyToPostgres.run(args, err);
        return new Run(status, bytes.toString(StandardCharsets.UTF_8));
    }

    private Run copy(Path from, String to) throws Exception {
        Path passwordFile = dir.resolve("password");
        Files.writeString(passwordFile, POSTGRES.server().password() + "\n");
        return copy("--from", from.toString(), "--to", to, "--user", POSTGRES.server().user(),
                "--password-file", passwordFile.toString());
    }

    private static SqliteMessageStore sqlite(Path file) throws StoreException {
        HikariDataSource pool = SqlitePool.open(ChatConfig.of(Map.of("chat.db.path", file.toString())));
        try {
            return SqliteMessageStore.open(pool, Durability.FULL, pool);
        } catch (StoreException | RuntimeException e) {
            pool.close();
            throw e;
        }
    }

    /** As a node opens it. */
    private static PostgresMessageStore postgresStore(String url) throws StoreException {
        HikariDataSource pool = PostgresPool.open(ChatConfig.of(Map.of("chat.db.url", url,
                "chat.db.user", POSTGRES.server().user(), "chat.db.password", POSTGRES.server().password())));
        try {
            return PostgresMessageStore.open(pool, pool,
                    PostgresPool.unpooled(url, POSTGRES.server().user(), POSTGRES.server().password()));
        } catch (StoreException | RuntimeException e) {
            pool.close();
            throw e;
        }
    }

    private static long rows(String url, String table) throws SQLException {
        try (Connection connection = DriverManager.getConnection(url, POSTGRES.server().user(), POSTGRES.server().password());
             Statement statement = connection.createStatement();
             ResultSet count = statement.executeQuery("SELECT COUNT(*) FROM " + table)) {
            count.next();
            return count.getLong(1);
        }
    }

    /** By name in Java: PostgreSQL's collation need not be SQLite's byte order. */
    private static List<RoomHead> sorted(List<RoomHead> rooms) {
        return rooms.stream().sorted(Comparator.comparing(RoomHead::room)).toList();
    }

    /** Each room's whole history, and pages of it as a replay and a scroll back read them. */
    private static Map<String, List<List<StoredMessage>>> pages(MessageStore store) throws StoreException {
        Map<String, List<List<StoredMessage>>> pages = new LinkedHashMap<>();
        for (RoomHead room : sorted(store.rooms())) {
            List<List<StoredMessage>> of = new ArrayList<>();
            of.add(store.readAfter(room.room(), 0, 1_000));
            of.add(store.readAfter(room.room(), 0, 2));
            of.add(store.readAfter(room.room(), 2, 2));
            of.add(store.readAfter(room.room(), 0, 100, 1));
            of.add(store.readBefore(room.room(), room.newest() + 1, 3));
            pages.put(room.room(), of);
        }
        return pages;
    }

    /**
     * Three rooms written in batches at chosen times, by a verified author, one who chose a name and nobody; the
     * oldest deleted by retention, so that general's and random's offsets start above 1.
     */
    private static void writeHistory(SqliteMessageStore store) throws StoreException {
        store.append(List.of(
                new SentMessage(Rooms.GENERAL, "first", "c-1", ALICE),
                new SentMessage(Rooms.GENERAL, "second", "c-2", BOB),
                new SentMessage("random", "r1", null, null)), 1_000);
        store.append(List.of(
                new SentMessage("random", AWKWARD, "c-3", BOB),
                new SentMessage("support", "help", "c-4", ALICE),
                new SentMessage(Rooms.GENERAL, "third", null, ALICE)), 2_000);
        for (int i = 0; i < 25; i++) {
            store.append(List.of(new SentMessage(i % 2 == 0 ? Rooms.GENERAL : "support", "m" + i, "m-" + i,
                    i % 3 == 0 ? ALICE : BOB)), 3_000 + i);
        }
        assertEquals(3, store.deleteOldest(1_500, 0, 1_000), "first, second and r1");
    }

    @Test
    void theHistoryArrivesAsTheNodesReadItAndNewMessagesFollowEachRoomsNewest() throws Exception {
        Path file = dir.resolve("chat.db");
        String epoch;
        List<RoomHead> rooms;
        Map<String, List<List<StoredMessage>>> pages;
        try (SqliteMessageStore store = sqlite(file)) {
            writeHistory(store);
            epoch = store.epoch();
            rooms = sorted(store.rooms());
            pages = pages(store);
        }
        assertEquals(List.of(new RoomHead(Rooms.GENERAL, 16), new RoomHead("random", 2),
                new RoomHead("support", 13)), rooms);
        assertEquals(3, pages.get(Rooms.GENERAL).get(0).get(0).offset(), "first and second were deleted");
        String url = POSTGRES.server().createDatabase("copied");

        Run run = copy(file, url);

        assertEquals(0, run.status(), run.output());
        assertTrue(run.output().contains("Verified: each of the 3 room(s)"), run.output());
        assertTrue(run.output().contains("Copied 3 room(s) and 28 message(s), epoch " + epoch), run.output());
        try (PostgresMessageStore store = postgresStore(url)) {
            assertEquals(epoch, store.epoch());
            assertEquals(rooms, sorted(store.rooms()));
            assertEquals(pages, pages(store));
            assertEquals(AWKWARD, store.readAfter("random", 1, 1).get(0).text());

            assertEquals(List.of(new Appended("random", 2, ALREADY_STORED), new Appended("support", 1, CONFLICT),
                            new Appended(Rooms.GENERAL, 15, ALREADY_STORED)),
                    store.append(List.of(new SentMessage(Rooms.GENERAL, AWKWARD, "c-3", ALICE),
                            new SentMessage("support", "help", "c-4", BOB),
                            new SentMessage("random", "m22", "m-22", BOB))),
                    "resends answered with the stored room and offset; alice's verified clientOffset is hers alone");
            assertEquals(List.of(new Appended(Rooms.GENERAL, 17, INSERTED), new Appended("random", 3, INSERTED),
                            new Appended("support", 14, INSERTED), new Appended("new-room", 1, INSERTED)),
                    store.append(List.of(new SentMessage(Rooms.GENERAL, "g", "n-1", BOB),
                            new SentMessage("random", "r", null, null), new SentMessage("support", "s", "n-2", ALICE),
                            new SentMessage("new-room", "n", null, BOB)), 5_000),
                    "each room continues after its newest; new ids and a new room's follow the copied ones");
            assertEquals(List.of(new StoredMessage(17, "g", BOB, 5_000)), store.readAfter(Rooms.GENERAL, 16, 10));
        }
    }

    @Test
    void aTargetHoldingAChatIsRefusedAndLeftAsItWas() throws Exception {
        Path file = dir.resolve("chat.db");
        try (SqliteMessageStore store = sqlite(file)) {
            writeHistory(store);
        }
        String url = POSTGRES.server().createDatabase("occupied");
        String epoch;
        Map<String, List<List<StoredMessage>>> pages;
        try (PostgresMessageStore store = postgresStore(url)) {
            store.append(List.of(new SentMessage("elsewhere", "already here", "e-1", BOB),
                    new SentMessage("elsewhere", "and here", null, null)), 9_000);
            epoch = store.epoch();
            pages = pages(store);
        }

        Run run = copy(file, url);

        assertEquals(1, run.status(), run.output());
        assertTrue(run.output().contains("is not empty: it holds 1 room(s) (elsewhere up to offset 2) and"
                + " 2 message(s)"), run.output());
        try (PostgresMessageStore store = postgresStore(url)) {
            assertEquals(epoch, store.epoch());
            assertEquals(List.of(new RoomHead("elsewhere", 2)), store.rooms());
            assertEquals(pages, pages(store));
        }
        assertEquals(2, rows(url, "messages"));
    }

    @Test
    void theFirstReleasesFileIsMigratedAndCopiedWithItsOffsets() throws Exception {
        Path file = dir.resolve("first-release.db");
        try (var release = CopyToPostgresIT.class.getResourceAsStream("first-release.db")) {
            Files.copy(Objects.requireNonNull(release, "first-release.db"), file);
        }
        String url = POSTGRES.server().createDatabase("first_release");

        Run run = copy(file, url);

        assertEquals(0, run.status(), run.output());
        assertTrue(run.output().contains("Migrating " + file + " from schema 0 to schema 3"), run.output());
        try (PostgresMessageStore store = postgresStore(url)) {
            assertEquals("170b54d1-ea4d-43f6-a1ad-a1dc320fd8ba", store.epoch());
            assertEquals(List.of(new RoomHead(Rooms.GENERAL, 5)), store.rooms());
            List<StoredMessage> general = store.readAfter(Rooms.GENERAL, 0, 10);
            assertEquals(List.of(2L, 3L, 4L, 5L), general.stream().map(StoredMessage::offset).toList());
            assertEquals(List.of("second", "third \u00e9\ud83d\ude00", "fourth", "fifth"),
                    general.stream().map(StoredMessage::text).toList());
            assertTrue(general.stream().allMatch(m -> m.author().equals(Author.ANONYMOUS)), general.toString());
            assertEquals(List.of(new Appended(Rooms.GENERAL, 3, ALREADY_STORED),
                            new Appended(Rooms.GENERAL, 6, INSERTED)),
                    store.append(List.of(new SentMessage("ops", "third \u00e9\ud83d\ude00", "release-3"),
                            new SentMessage(Rooms.GENERAL, "sixth", null))));
        }
    }

    @Test
    void aFileANodeStillHasOpenIsRefusedAndNothingIsCopied() throws Exception {
        Path file = dir.resolve("chat.db");
        String url = POSTGRES.server().createDatabase("node_running");
        try (SqliteMessageStore store = sqlite(file)) {
            writeHistory(store);

            Run run = copy(file, url);

            assertEquals(1, run.status(), run.output());
            assertTrue(run.output().contains("is in use by another process"), run.output());
            assertTrue(run.output().contains("stop the node that runs on it"), run.output());
        }
        try (PostgresMessageStore store = postgresStore(url)) {
            assertEquals(List.of(), store.rooms());
        }
    }

    @Test
    void badArgumentsExitWith2AndTheUsageAMissingFileWith1() throws Exception {
        Run noTarget = copy("--from", dir.resolve("chat.db").toString());
        assertEquals(2, noTarget.status(), noTarget.output());
        assertTrue(noTarget.output().contains("--from and --to are required"), noTarget.output());
        assertTrue(noTarget.output().contains("Usage: java -cp"), noTarget.output());

        Run sqliteTarget = copy("--from", "a.db", "--to", "jdbc:sqlite:/tmp/b.db");
        assertEquals(2, sqliteTarget.status(), sqliteTarget.output());
        assertTrue(sqliteTarget.output().contains("--to must be a PostgreSQL JDBC URL"), sqliteTarget.output());

        Run unknown = copy("--form", "a.db");
        assertEquals(2, unknown.status(), unknown.output());
        assertTrue(unknown.output().contains("Unknown argument '--form'"), unknown.output());

        Path missing = dir.resolve("missing.db");
        Run noFile = copy(missing, POSTGRES.server().jdbcUrl());
        assertEquals(1, noFile.status(), noFile.output());
        assertTrue(noFile.output().contains("There is no SQLite database at " + missing), noFile.output());
        assertTrue(Files.notExists(missing), "not created");
    }
}
