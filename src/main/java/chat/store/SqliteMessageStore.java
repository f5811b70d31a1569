package chat.store;

import chat.protocol.SentMessage;
import chat.config.ChatConfig.Durability;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.UUID;
import javax.sql.DataSource;

/**
 * The message log in an SQLite database in WAL mode: the tutorial's {@code messages} table plus a creation time.
 *
 * <p>Connections come from the given pool, one per call. Appends are meant to come from one thread only, so
 * SQLite's single write lock is never contended by this process.
 */
public final class SqliteMessageStore implements MessageStore {

    private static final String SCHEMA = """
            CREATE TABLE IF NOT EXISTS messages (
                id            INTEGER PRIMARY KEY AUTOINCREMENT,
                client_offset TEXT UNIQUE,
                content       TEXT NOT NULL,
                created_at    INTEGER NOT NULL
            )""";
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
    private static final String INSERT = "INSERT INTO messages (client_offset, content, created_at) VALUES (?, ?, ?)"
            + " ON CONFLICT (client_offset) DO NOTHING RETURNING id";
    private static final String FIND_BY_CLIENT_OFFSET = "SELECT id, content FROM messages WHERE client_offset = ?";
    private static final String READ_AFTER = "SELECT id, content FROM messages WHERE id > ? ORDER BY id LIMIT ?";
    private static final String LATEST = "SELECT COALESCE(MAX(id), 0) FROM messages";
    private static final String OLDEST = "SELECT COALESCE(MIN(id), 0) FROM messages";
    /**
     * Looks at the oldest rows only, in the primary key's order: created_at has no index, and a condition on it
     * alone would scan the whole table each time nothing is old enough. Rows are stored in time order.
     */
    private static final String DELETE_OLDEST = "DELETE FROM messages WHERE id IN (SELECT id FROM messages ORDER BY id"
            + " LIMIT ?) AND id < (SELECT MAX(id) FROM messages) AND (created_at < ? OR ?)";

    private final DataSource dataSource;
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
            statement.executeUpdate(SCHEMA);
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
    public List<Appended> append(List<SentMessage> messages) throws StoreException {
        List<Appended> results = new ArrayList<>(messages.size());
        try (Connection connection = dataSource.getConnection()) {
            try (Statement pragma = connection.createStatement()) {
                pragma.execute(synchronousPragma);
            }
            connection.setAutoCommit(false);
            try (PreparedStatement insert = connection.prepareStatement(INSERT);
                 PreparedStatement find = connection.prepareStatement(FIND_BY_CLIENT_OFFSET)) {
                long now = System.currentTimeMillis();
                for (SentMessage message : messages) {
                    results.add(insertOne(insert, find, message, now));
                }
                connection.commit();
            } catch (SQLException | RuntimeException e) {
                rollbackQuietly(connection, e);
                throw e;
            }
        } catch (SQLException e) {
            throw new StoreException("Storing " + messages.size() + " message(s) failed: " + e.getMessage(), e);
        }
        return results;
    }

    /** Looks before inserting: a conflicting INSERT would still use up an AUTOINCREMENT id and leave a hole. */
    private static Appended insertOne(PreparedStatement insert, PreparedStatement find, SentMessage message, long now)
            throws SQLException {
        if (message.clientOffset() != null) {
            Appended stored = find(find, message);
            if (stored != null) {
                return stored;
            }
        }
        insert.setString(1, message.clientOffset());
        insert.setString(2, message.text());
        insert.setLong(3, now);
        try (ResultSet inserted = insert.executeQuery()) {
            if (inserted.next()) {
                return new Appended(inserted.getLong(1), Appended.Outcome.INSERTED);
            }
        }
        Appended stored = find(find, message);
        if (stored == null) {
            throw new SQLException("Insert of clientOffset '" + message.clientOffset()
                    + "' was ignored, but no stored row has it");
        }
        return stored;
    }

    /**
     * A clientOffset names one message: stored again with the same text it is a resend, with another text a
     * conflict (another client's, or a client reusing its own for something else).
     *
     * @return the row stored with the message's clientOffset, or null
     */
    private static Appended find(PreparedStatement find, SentMessage message) throws SQLException {
        find.setString(1, message.clientOffset());
        try (ResultSet existing = find.executeQuery()) {
            if (!existing.next()) {
                return null;
            }
            boolean sameText = message.text().equals(existing.getString(2));
            return new Appended(existing.getLong(1),
                    sameText ? Appended.Outcome.ALREADY_STORED : Appended.Outcome.CONFLICT);
        }
    }

    private static void rollbackQuietly(Connection connection, Exception cause) {
        try {
            connection.rollback();
        } catch (SQLException rollbackFailure) {
            cause.addSuppressed(rollbackFailure);
        }
    }

    @Override
    public List<StoredMessage> readAfter(long offset, int limit, long maxChars) throws StoreException {
        try (Connection connection = dataSource.getConnection();
             PreparedStatement read = connection.prepareStatement(READ_AFTER)) {
            read.setLong(1, offset);
            read.setInt(2, limit);
            List<StoredMessage> page = new ArrayList<>(Math.min(limit, 1024));
            long chars = 0;
            // SQLite steps the statement row by row: the rows after the cut are never fetched.
            try (ResultSet rows = read.executeQuery()) {
                while (chars < maxChars && rows.next()) {
                    String text = rows.getString(2);
                    page.add(new StoredMessage(rows.getLong(1), text));
                    chars += text.length();
                }
            }
            return page;
        } catch (SQLException e) {
            throw new StoreException("Reading messages after offset " + offset + " failed: " + e.getMessage(), e);
        }
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
        statement.execute("BEGIN IMMEDIATE");
        try {
            statement.executeUpdate(PROBE_SCHEMA);
            statement.executeUpdate("INSERT OR REPLACE INTO chat_write_probe (id, probed_at) VALUES (1, "
                    + System.currentTimeMillis() + ")");
            statement.execute("COMMIT");
        } catch (SQLException e) {
            try {
                statement.execute("ROLLBACK");
            } catch (SQLException rollbackFailure) {
                // SQLite rolls back by itself after some failures (a full disk, an I/O error).
                e.addSuppressed(rollbackFailure);
            }
            throw e;
        }
    }

    @Override
    public long latestOffset() throws StoreException {
        if (closed) {
            throw new StoreException("The message store is closed", null);
        }
        return offset(LATEST, "latest");
    }

    @Override
    public long oldestOffset() throws StoreException {
        return offset(OLDEST, "oldest");
    }

    private long offset(String query, String which) throws StoreException {
        try (Connection connection = dataSource.getConnection();
             Statement statement = connection.createStatement();
             ResultSet offset = statement.executeQuery(query)) {
            offset.next();
            return offset.getLong(1);
        } catch (SQLException e) {
            throw new StoreException("Reading the " + which + " offset failed: " + e.getMessage(), e);
        }
    }

    /** One DELETE of at most {@code maxRows} rows, its own short transaction. */
    @Override
    public int deleteOldest(long storedBeforeMillis, long maxBytes, int maxRows) throws StoreException {
        boolean overSize = maxBytes > 0 && storedBytes() > maxBytes;
        try (Connection connection = dataSource.getConnection();
             PreparedStatement delete = connection.prepareStatement(DELETE_OLDEST)) {
            delete.setInt(1, maxRows);
            delete.setLong(2, storedBeforeMillis);
            delete.setBoolean(3, overSize);
            return delete.executeUpdate();
        } catch (SQLException e) {
            throw new StoreException("Deleting the oldest messages failed: " + e.getMessage(), e);
        }
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
