package chat.store;

import chat.protocol.Author;
import chat.protocol.Rooms;
import chat.protocol.SentMessage;
import chat.config.ChatConfig.Durability;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Locale;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.logging.Logger;
import javax.sql.DataSource;

/**
 * The message log in an SQLite database in WAL mode: the tutorial's {@code messages} table plus a creation time,
 * and its rooms, each with offsets of its own.
 *
 * <p>Connections come from the given pool, one per call. Appends are meant to come from one thread only, so
 * SQLite's single write lock is never contended by this process.
 */
public final class SqliteMessageStore implements MessageStore {

    /**
     * {@code PRAGMA user_version} of the schema below; 0 is the first release's, one table and no rooms; 2 has
     * rooms, and messages without their author.
     */
    private static final int SCHEMA_VERSION = 3;
    private static final int ROOMS_SCHEMA_VERSION = 2;
    /** A room's offsets are its own, from 1: {@code newest} is the last one handed out. */
    private static final String ROOMS_SCHEMA = """
            CREATE TABLE IF NOT EXISTS rooms (
                id         INTEGER PRIMARY KEY,
                name       TEXT NOT NULL UNIQUE,
                newest     INTEGER NOT NULL DEFAULT 0,
                created_at INTEGER NOT NULL
            )""";
    /** {@code id} is the commit order across rooms, {@code room_offset} a message's offset in its room. */
    private static final String MESSAGES_SCHEMA = """
            CREATE TABLE IF NOT EXISTS messages (
                id            INTEGER PRIMARY KEY AUTOINCREMENT,
                client_offset TEXT UNIQUE,
                content       TEXT NOT NULL,
                created_at    INTEGER NOT NULL,
                room_id       INTEGER NOT NULL,
                room_offset   INTEGER NOT NULL,
                author        TEXT NOT NULL DEFAULT 'anonymous',
                verified      INTEGER NOT NULL DEFAULT 0
            )""";
    /** "Room R above offset N" and "room R below offset N" are one range scan each. */
    private static final String ROOM_OFFSET_INDEX =
            "CREATE UNIQUE INDEX IF NOT EXISTS messages_by_room ON messages (room_id, room_offset)";
    /** One row, written when the database is created: which database a client's offsets came from. */
    private static final String IDENTITY_SCHEMA = """
            CREATE TABLE IF NOT EXISTS chat_identity (
                id    INTEGER PRIMARY KEY CHECK (id = 1),
                epoch TEXT NOT NULL
            )""";
    /** One row, rewritten by {@link #checkWritable()}; no message and no offset is involved. */
    private static final String PROBE_SCHEMA = """
            CREATE TABLE IF NOT EXISTS chat_write_probe (
                id        INTEGER PRIMARY KEY CHECK (id = 1),
                probed_at INTEGER NOT NULL
            )""";
    private static final String CREATE_ROOM = "INSERT INTO rooms (name, newest, created_at) VALUES (?, 0, ?)"
            + " ON CONFLICT (name) DO NOTHING";
    private static final String ROOM_ID = "SELECT id FROM rooms WHERE name = ?";
    private static final String ROOM_NEWEST = "SELECT newest FROM rooms WHERE id = ?";
    private static final String INSERT = "INSERT INTO messages (client_offset, content, created_at, room_id,"
            + " room_offset, author, verified) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (client_offset) DO NOTHING";
    private static final String ADVANCE_ROOM = "UPDATE rooms SET newest = ? WHERE id = ?";
    private static final String FIND_BY_CLIENT_OFFSET = "SELECT rooms.name, room_offset, content, author, verified"
            + " FROM messages"
            + " JOIN rooms ON rooms.id = messages.room_id WHERE client_offset = ?";
    private static final String READ_AFTER = "SELECT room_offset, content, author, verified, created_at FROM messages"
            + " WHERE room_id = ?"
            + " AND room_offset > ? ORDER BY room_offset LIMIT ?";
    private static final String READ_BEFORE = "SELECT room_offset, content, author, verified, created_at FROM messages"
            + " WHERE room_id = ?"
            + " AND room_offset < ? ORDER BY room_offset DESC LIMIT ?";

    private static final Logger LOG = Logger.getLogger(SqliteMessageStore.class.getName());

    private final DataSource dataSource;
    /** Rooms are never deleted: a name, once stored, keeps its id. */
    private final Map<String, Long> roomIds = new ConcurrentHashMap<>();
    private final String synchronousPragma;
    private final AutoCloseable ownedPool;
    private final String epoch;
    private volatile boolean closed;

    private SqliteMessageStore(DataSource dataSource, Durability durability, AutoCloseable ownedPool, String epoch) {
        this.dataSource = dataSource;
        this.synchronousPragma = "PRAGMA synchronous = " + durability.name();
        this.ownedPool = ownedPool;
        this.epoch = epoch;
    }

    /**
     * Opens the store on the given data source: switches the database to WAL and creates the schema if needed.
     *
     * @param ownedPool closed with the store, or null when the container owns the data source
     */
    public static SqliteMessageStore open(DataSource dataSource, Durability durability, AutoCloseable ownedPool)
            throws StoreException {
        try (Connection connection = dataSource.getConnection(); Statement statement = connection.createStatement()) {
            try (ResultSet mode = statement.executeQuery("PRAGMA journal_mode = WAL")) {
                String journalMode = mode.next() ? mode.getString(1) : "unknown";
                if (!"wal".equals(journalMode.toLowerCase(Locale.ROOT))) {
                    throw new StoreException("SQLite refused WAL mode (journal_mode is " + journalMode
                            + "); put the database on a local file system", null);
                }
            }
            // On a database that has them already these write nothing, so the chat starts on a read-only file
            // too: it serves the history, and /health says 503 until the file takes writes.
            int version = intPragma(statement, "user_version");
            if (version == 0 && hasTable(statement, "messages")) {
                migrateFromTheFirstRelease(statement);
                version = ROOMS_SCHEMA_VERSION;
            } else if (version == 0) {
                createSchema(statement);
                version = SCHEMA_VERSION;
            }
            if (version == ROOMS_SCHEMA_VERSION) {
                addAuthors(statement);
            } else if (version > SCHEMA_VERSION) {
                throw new StoreException("The database has schema " + version + ", newer than this release's "
                        + SCHEMA_VERSION + ": run the release that wrote it, or a later one", null);
            }
            statement.executeUpdate(IDENTITY_SCHEMA);
            String epoch = storedEpoch(statement);
            if (epoch == null) {
                statement.executeUpdate("INSERT OR IGNORE INTO chat_identity (id, epoch) VALUES (1, '"
                        + UUID.randomUUID() + "')");
                epoch = storedEpoch(statement);
            }
            return new SqliteMessageStore(dataSource, durability, ownedPool, epoch);
        } catch (SQLException e) {
            throw new StoreException("Cannot open the message store: " + e.getMessage(), e);
        }
    }

    private interface Writes {
        void run() throws SQLException;
    }

    /** Runs {@code writes} in one transaction that takes the write lock at once, and rolls it back on failure. */
    private static void inWriteTransaction(Statement statement, Writes writes) throws SQLException {
        statement.execute("BEGIN IMMEDIATE");
        try {
            writes.run();
            statement.execute("COMMIT");
        } catch (SQLException e) {
            // SQLite rolls back by itself after some failures (a full disk, an I/O error): then ROLLBACK fails too.
            rollbackQuietly(statement, e);
            throw e;
        }
    }

    private static void createSchema(Statement statement) throws SQLException {
        inWriteTransaction(statement, () -> {
            statement.executeUpdate(ROOMS_SCHEMA);
            statement.executeUpdate(MESSAGES_SCHEMA);
            statement.executeUpdate(ROOM_OFFSET_INDEX);
            statement.executeUpdate("PRAGMA user_version = " + SCHEMA_VERSION);
        });
    }

    /**
     * The first release kept one table, {@code messages}, whose row id was the offset. Its messages become room
     * {@code general}'s with the same offsets, so that a v1 client's offset and the epoch stay valid. One
     * transaction: a migration that fails leaves the database as it was.
     */
    private static void migrateFromTheFirstRelease(Statement statement) throws SQLException {
        long messages;
        try (ResultSet count = statement.executeQuery("SELECT COUNT(*) FROM messages")) {
            messages = count.next() ? count.getLong(1) : 0;
        }
        LOG.info("Migrating the database to schema " + ROOMS_SCHEMA_VERSION + " (rooms): its " + messages
                + " message(s) become room " + Rooms.GENERAL + "'s, with the same offsets");
        long start = System.nanoTime();
        inWriteTransaction(statement, () -> {
            statement.executeUpdate(ROOMS_SCHEMA);
            statement.executeUpdate("INSERT INTO rooms (id, name, newest, created_at) VALUES (1, '" + Rooms.GENERAL
                    + "', (SELECT COALESCE(MAX(id), 0) FROM messages), " + System.currentTimeMillis() + ")");
            statement.executeUpdate("ALTER TABLE messages ADD COLUMN room_id INTEGER NOT NULL DEFAULT 1");
            statement.executeUpdate("ALTER TABLE messages ADD COLUMN room_offset INTEGER NOT NULL DEFAULT 0");
            statement.executeUpdate("UPDATE messages SET room_offset = id");
            statement.executeUpdate(ROOM_OFFSET_INDEX);
            statement.executeUpdate("PRAGMA user_version = " + ROOMS_SCHEMA_VERSION);
        });
        LOG.info("Migrated " + messages + " message(s) in "
                + TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start) + " ms");
    }

    /**
     * Schema 2 stored no author: its messages become {@link Author#ANONYMOUS}'s. Their times are those they were
     * stored at, which every schema kept.
     */
    private static void addAuthors(Statement statement) throws SQLException {
        LOG.info("Migrating the database to schema " + SCHEMA_VERSION + " (authors): its messages are shown as "
                + Author.ANONYMOUS.name() + "'s");
        inWriteTransaction(statement, () -> {
            statement.executeUpdate("ALTER TABLE messages ADD COLUMN author TEXT NOT NULL DEFAULT '"
                    + Author.ANONYMOUS.name() + "'");
            statement.executeUpdate("ALTER TABLE messages ADD COLUMN verified INTEGER NOT NULL DEFAULT 0");
            statement.executeUpdate("PRAGMA user_version = " + SCHEMA_VERSION);
        });
    }

    private static boolean hasTable(Statement statement, String name) throws SQLException {
        try (ResultSet table = statement.executeQuery(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '" + name + "'")) {
            return table.next();
        }
    }

    private static int intPragma(Statement statement, String name) throws SQLException {
        try (ResultSet value = statement.executeQuery("PRAGMA " + name)) {
            return value.next() ? value.getInt(1) : 0;
        }
    }

    private static void rollbackQuietly(Statement statement, SQLException cause) {
        try {
            statement.execute("ROLLBACK");
        } catch (SQLException rollbackFailure) {
            cause.addSuppressed(rollbackFailure);
        }
    }

    private static String storedEpoch(Statement statement) throws SQLException {
        try (ResultSet identity = statement.executeQuery("SELECT epoch FROM chat_identity WHERE id = 1")) {
            return identity.next() ? identity.getString(1) : null;
        }
    }

    @Override
    public String epoch() {
        return epoch;
    }

    @Override
    public List<Appended> append(List<SentMessage> messages, long committedAtMillis) throws StoreException {
        List<Appended> results = new ArrayList<>(messages.size());
        Map<String, Long> createdRooms = new HashMap<>();
        try (Connection connection = dataSource.getConnection()) {
            try (Statement pragma = connection.createStatement()) {
                pragma.execute(synchronousPragma);
            }
            connection.setAutoCommit(false);
            try (Batch batch = new Batch(connection, createdRooms)) {
                for (SentMessage message : messages) {
                    results.add(batch.insert(message, committedAtMillis));
                }
                batch.advanceRooms();
                connection.commit();
            } catch (SQLException | RuntimeException e) {
                StoreQueries.rollbackQuietly(connection, e);
                throw e;
            }
        } catch (SQLException e) {
            throw new StoreException("Storing " + messages.size() + " message(s) failed: " + e.getMessage(), e);
        }
        roomIds.putAll(createdRooms);
        return results;
    }

    /** One append's statements, and the newest offset of each room it wrote to, handed out as it goes. */
    private final class Batch implements AutoCloseable {
        private final PreparedStatement insert;
        private final PreparedStatement find;
        private final PreparedStatement newestOfRoom;
        private final PreparedStatement createRoom;
        private final PreparedStatement roomId;
        private final Connection connection;
        private final Map<String, Long> createdRooms;
        /** Room id to the last offset this batch handed out in it. */
        private final Map<Long, Long> newest = new HashMap<>();

        Batch(Connection connection, Map<String, Long> createdRooms) throws SQLException {
            this.connection = connection;
            this.createdRooms = createdRooms;
            this.insert = connection.prepareStatement(INSERT);
            this.find = connection.prepareStatement(FIND_BY_CLIENT_OFFSET);
            this.newestOfRoom = connection.prepareStatement(ROOM_NEWEST);
            this.createRoom = connection.prepareStatement(CREATE_ROOM);
            this.roomId = connection.prepareStatement(ROOM_ID);
        }

        /** Looks before inserting, so that a clientOffset stored before costs no offset. */
        Appended insert(SentMessage message, long now) throws SQLException {
            if (message.clientOffset() != null) {
                Appended stored = find(message);
                if (stored != null) {
                    return stored;
                }
            }
            long room = roomIdCreatingIt(message.room(), now);
            Long last = newest.get(room);
            long offset = (last != null ? last : storedNewest(room)) + 1;
            insert.setString(1, message.clientOffset());
            insert.setString(2, message.text());
            insert.setLong(3, now);
            insert.setLong(4, room);
            insert.setLong(5, offset);
            Author author = message.authorOrAnonymous();
            insert.setString(6, author.name());
            insert.setBoolean(7, author.verified());
            if (insert.executeUpdate() == 1) {
                newest.put(room, offset);
                return new Appended(message.room(), offset, Appended.Outcome.INSERTED);
            }
            Appended stored = find(message);
            if (stored == null) {
                throw new SQLException("Insert of clientOffset '" + message.clientOffset()
                        + "' was ignored, but no stored row has it");
            }
            return stored;
        }

        /** The answer to a message whose clientOffset is stored already (see {@link Appended#sentAgain}), or null. */
        private Appended find(SentMessage message) throws SQLException {
            find.setString(1, message.clientOffset());
            try (ResultSet existing = find.executeQuery()) {
                if (!existing.next()) {
                    return null;
                }
                return Appended.sentAgain(existing.getString(1), existing.getLong(2), existing.getString(3),
                        new Author(existing.getString(4), existing.getBoolean(5)), message);
            }
        }

        private long roomIdCreatingIt(String name, long now) throws SQLException {
            Long known = roomIds.get(name);
            if (known == null) {
                known = createdRooms.get(name);
            }
            if (known != null) {
                return known;
            }
            createRoom.setString(1, name);
            createRoom.setLong(2, now);
            createRoom.executeUpdate();
            roomId.setString(1, name);
            try (ResultSet id = roomId.executeQuery()) {
                id.next();
                createdRooms.put(name, id.getLong(1));
                return id.getLong(1);
            }
        }

        private long storedNewest(long room) throws SQLException {
            newestOfRoom.setLong(1, room);
            try (ResultSet newestRow = newestOfRoom.executeQuery()) {
                newestRow.next();
                return newestRow.getLong(1);
            }
        }

        void advanceRooms() throws SQLException {
            try (PreparedStatement advance = connection.prepareStatement(ADVANCE_ROOM)) {
                for (Map.Entry<Long, Long> room : newest.entrySet()) {
                    advance.setLong(1, room.getValue());
                    advance.setLong(2, room.getKey());
                    advance.executeUpdate();
                }
            }
        }

        @Override
        public void close() throws SQLException {
            try (insert; find; newestOfRoom; createRoom; roomId) {
                // closes them all
            }
        }
    }


    @Override
    public List<StoredMessage> readAfter(String room, long offset, int limit, long maxChars) throws StoreException {
        return readPage(READ_AFTER, room, offset, limit, maxChars, "after");
    }

    @Override
    public List<StoredMessage> readBefore(String room, long before, int limit) throws StoreException {
        List<StoredMessage> newestFirst = readPage(READ_BEFORE, room, before, limit, Long.MAX_VALUE, "before");
        List<StoredMessage> page = new ArrayList<>(newestFirst);
        Collections.reverse(page);
        return page;
    }

    /**
     * The rows of {@code query} (room id, offset, limit) in its order, until their texts reach {@code maxChars}.
     * SQLite steps the statement row by row: the rows after the cut are never fetched.
     */
    private List<StoredMessage> readPage(String query, String room, long offset, int limit, long maxChars,
                                         String direction) throws StoreException {
        try (Connection connection = dataSource.getConnection();
             PreparedStatement read = connection.prepareStatement(query)) {
            Long roomId = roomId(connection, room);
            if (roomId == null) {
                return List.of();
            }
            read.setLong(1, roomId);
            read.setLong(2, offset);
            read.setInt(3, limit);
            return StoreQueries.page(read, limit, maxChars);
        } catch (SQLException e) {
            throw new StoreException("Reading messages of room " + room + " " + direction + " offset " + offset
                    + " failed: " + e.getMessage(), e);
        }
    }

    /** @return the room's id, or null if no message was ever stored in it */
    private Long roomId(Connection connection, String room) throws SQLException {
        Long known = roomIds.get(room);
        if (known != null) {
            return known;
        }
        try (PreparedStatement find = connection.prepareStatement(ROOM_ID)) {
            find.setString(1, room);
            try (ResultSet id = find.executeQuery()) {
                if (!id.next()) {
                    return null;
                }
                roomIds.put(room, id.getLong(1));
                return id.getLong(1);
            }
        }
    }

    @Override
    public List<RoomHead> rooms() throws StoreException {
        return StoreQueries.rooms(dataSource);
    }

    /**
     * Commits a write of one row of its own, with a busy timeout of 0 meanwhile, so nobody is waited for. Taking
     * the write lock alone would not do: a connection on a read-only file gets the lock, and a full disk shows only
     * when the commit appends to the write-ahead log.
     */
    @Override
    public void checkWritable() throws StoreException {
        try (Connection connection = dataSource.getConnection(); Statement statement = connection.createStatement()) {
            int busyTimeout;
            try (ResultSet current = statement.executeQuery("PRAGMA busy_timeout")) {
                busyTimeout = current.next() ? current.getInt(1) : 0;
            }
            statement.execute("PRAGMA busy_timeout = 0");
            try {
                probeWrite(statement);
            } catch (SQLException e) {
                // The pool may have dropped the connection for this failure; then there is nothing to restore.
                try {
                    statement.execute("PRAGMA busy_timeout = " + busyTimeout);
                } catch (SQLException restoreFailure) {
                    e.addSuppressed(restoreFailure);
                }
                throw e;
            }
            statement.execute("PRAGMA busy_timeout = " + busyTimeout);
        } catch (SQLException e) {
            throw new StoreException("The message store does not take writes: " + e.getMessage(), e);
        }
    }

    private static void probeWrite(Statement statement) throws SQLException {
        inWriteTransaction(statement, () -> {
            statement.executeUpdate(PROBE_SCHEMA);
            statement.executeUpdate("INSERT OR REPLACE INTO chat_write_probe (id, probed_at) VALUES (1, "
                    + System.currentTimeMillis() + ")");
        });
    }

    @Override
    public long latestOffset(String room) throws StoreException {
        if (closed) {
            throw new StoreException("The message store is closed", null);
        }
        return StoreQueries.offset(dataSource, StoreQueries.LATEST, room, "newest");
    }

    @Override
    public long oldestOffset(String room) throws StoreException {
        return StoreQueries.offset(dataSource, StoreQueries.OLDEST, room, "oldest");
    }

    @Override
    public int deleteOldest(long storedBeforeMillis, long maxBytes, int maxRows) throws StoreException {
        return StoreQueries.deleteOldest(dataSource, storedBeforeMillis, maxBytes > 0 && storedBytes() > maxBytes,
                maxRows);
    }

    /** The database's pages less its free ones: the file does not shrink, its free pages take new messages. */
    @Override
    public long storedBytes() throws StoreException {
        try (Connection connection = dataSource.getConnection();
             Statement statement = connection.createStatement()) {
            return (pragma(statement, "page_count") - pragma(statement, "freelist_count"))
                    * pragma(statement, "page_size");
        } catch (SQLException e) {
            throw new StoreException("Reading the database's size failed: " + e.getMessage(), e);
        }
    }

    private static long pragma(Statement statement, String name) throws SQLException {
        try (ResultSet value = statement.executeQuery("PRAGMA " + name)) {
            value.next();
            return value.getLong(1);
        }
    }

    @Override
    public void close() {
        closed = true;
        if (ownedPool != null) {
            try {
                ownedPool.close();
            } catch (Exception e) {
                throw new IllegalStateException("Closing the SQLite connection pool failed", e);
            }
        }
    }
}
