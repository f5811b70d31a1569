package chat.store;

import chat.protocol.Author;
import chat.protocol.SentMessage;
import org.postgresql.PGStatement;

import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.logging.Logger;
import javax.sql.DataSource;

/**
 * The message log in PostgreSQL, shared by every node of the chat.
 *
 * <p>Each room's row in {@code rooms} holds the newest offset handed out in it. A node's batch locks the rows of
 * the rooms it writes to ({@code SELECT ... FOR UPDATE}, in id order so that two batches never wait for each
 * other crosswise), numbers its messages after them and commits: the next batch of any node waits for the lock
 * until this one has committed and is visible, so each room's offsets are gapless and in commit order. A reader
 * that has seen offset N of a room has seen every offset below it. A sequence or identity column would not do:
 * it hands out numbers at insert time, and transactions commit in another order.
 *
 * <p>A clientOffset is unique across the table. A batch looks its clientOffsets up first; one that another node
 * stores meanwhile makes the insert skip a row, and then the whole transaction is rolled back and tried again, so
 * that no offset is ever skipped. The commit notifies {@link #CHANNEL} with the rooms and newest offsets it wrote
 * (never the texts); {@link PostgresCommitFeed} listens for it on the other nodes.
 */
public final class PostgresMessageStore implements MessageStore {

    /** Notified by every commit that stored a message; the payload is {@link CommitNews}'s. */
    static final String CHANNEL = "chat_commits";
    /** Ephemeral signals between the nodes (presence, typing): see {@link #signalOtherNodes}. */
    static final String SIGNALS = "chat_signals";
    /** Version of the schema below, in {@code chat_identity.schema_version}. */
    private static final int SCHEMA_VERSION = 1;
    /** Taken around creating and migrating the schema, so that nodes starting together do it once. */
    private static final long SCHEMA_LOCK = 0x63686174L; // "chat"
    private static final int ATTEMPTS = 5;
    private static final String SCHEMA = """
            CREATE TABLE IF NOT EXISTS chat_identity (
                id             integer PRIMARY KEY CHECK (id = 1),
                epoch          text    NOT NULL,
                schema_version integer NOT NULL
            );
            CREATE TABLE IF NOT EXISTS rooms (
                id         bigserial PRIMARY KEY,
                name       text   NOT NULL UNIQUE,
                newest     bigint NOT NULL DEFAULT 0,
                created_at bigint NOT NULL
            );
            CREATE TABLE IF NOT EXISTS messages (
                id            bigserial PRIMARY KEY,
                room_id       bigint  NOT NULL REFERENCES rooms (id),
                room_offset   bigint  NOT NULL,
                client_offset text    UNIQUE,
                content       text    NOT NULL,
                author        text    NOT NULL,
                verified      boolean NOT NULL,
                created_at    bigint  NOT NULL,
                UNIQUE (room_id, room_offset)
            )""";
    private static final String CREATE_ROOMS = "INSERT INTO rooms (name, created_at) SELECT name, ?"
            + " FROM unnest(?::text[]) AS name ORDER BY name ON CONFLICT (name) DO NOTHING";
    private static final String ROOM_IDS = "SELECT name, id FROM rooms WHERE name = ANY (?)";
    private static final String LOCK_ROOMS = "SELECT id, newest FROM rooms WHERE id = ANY (?) ORDER BY id FOR UPDATE";
    private static final String FIND_BY_CLIENT_OFFSETS = "SELECT client_offset, rooms.name, room_offset, content,"
            + " author, verified FROM messages JOIN rooms ON rooms.id = messages.room_id WHERE client_offset = ANY (?)";
    private static final String INSERT = "INSERT INTO messages (room_id, room_offset, client_offset, content, author,"
            + " verified, created_at) SELECT room_id, room_offset, client_offset, content, author, verified, ?"
            + " FROM unnest(?::bigint[], ?::bigint[], ?::text[], ?::text[], ?::text[], ?::boolean[])"
            + " AS m (room_id, room_offset, client_offset, content, author, verified)"
            + " ON CONFLICT (client_offset) DO NOTHING";
    private static final String ADVANCE_ROOMS = "UPDATE rooms SET newest = r.newest"
            + " FROM unnest(?::bigint[], ?::bigint[]) AS r (id, newest) WHERE rooms.id = r.id";
    private static final String NOTIFY = "SELECT pg_notify('" + CHANNEL + "', ?)";
    private static final String READ_AFTER = "SELECT room_offset, content, author, verified, created_at FROM messages"
            + " WHERE room_id = (SELECT id FROM rooms WHERE name = ?) AND room_offset > ? ORDER BY room_offset LIMIT ?";
    private static final String READ_BEFORE = "SELECT room_offset, content, author, verified, created_at FROM messages"
            + " WHERE room_id = (SELECT id FROM rooms WHERE name = ?) AND room_offset < ?"
            + " ORDER BY room_offset DESC LIMIT ?";
    /** SQLSTATEs after which the same transaction is simply tried again. */
    private static final Set<String> TRANSIENT = Set.of("40001", "40P01");
    private static final Logger LOG = Logger.getLogger(PostgresMessageStore.class.getName());

    private final DataSource dataSource;
    private final AutoCloseable ownedPool;
    private final ListenConnections listenConnections;
    private final String epoch;
    /** Tells this process's own notifications from the other nodes'. */
    private final String writerId = UUID.randomUUID().toString();
    /** Rooms are never deleted: a name, once stored, keeps its id. */
    private final Map<String, Long> roomIds = new ConcurrentHashMap<>();
    private volatile boolean closed;

    /** Opens a connection that is not the pool's, for LISTEN: one per node, held as long as the node runs. */
    @FunctionalInterface
    public interface ListenConnections {
        Connection open() throws SQLException;
    }

    private PostgresMessageStore(DataSource dataSource, AutoCloseable ownedPool, ListenConnections listenConnections,
                                 String epoch) {
        this.dataSource = dataSource;
        this.ownedPool = ownedPool;
        this.listenConnections = listenConnections;
        this.epoch = epoch;
    }

    /**
     * Creates the schema if the database has none, under an advisory lock so that nodes starting at the same time
     * create it once, and reads the epoch all nodes share.
     *
     * @param ownedPool closed with the store, or null when the container owns the data source
     */
    public static PostgresMessageStore open(DataSource dataSource, AutoCloseable ownedPool,
                                            ListenConnections listenConnections) throws StoreException {
        try (Connection connection = dataSource.getConnection(); Statement statement = connection.createStatement()) {
            connection.setAutoCommit(false);
            try {
                statement.execute("SELECT pg_advisory_xact_lock(" + SCHEMA_LOCK + ")");
                // Nothing is written to a database that has the schema, so that a node starts on a read-only one
                // too: it serves the history, and /health says 503 until the database takes writes.
                if (!hasIdentity(statement)) {
                    statement.execute(SCHEMA);
                    statement.executeUpdate("INSERT INTO chat_identity (id, epoch, schema_version) VALUES (1, '"
                            + UUID.randomUUID() + "', " + SCHEMA_VERSION + ")");
                }
                String epoch;
                int version;
                try (ResultSet identity = statement.executeQuery(
                        "SELECT epoch, schema_version FROM chat_identity WHERE id = 1")) {
                    identity.next();
                    epoch = identity.getString(1);
                    version = identity.getInt(2);
                }
                if (version > SCHEMA_VERSION) {
                    throw new StoreException("The database has schema " + version + ", newer than this release's "
                            + SCHEMA_VERSION + ": run the release that wrote it, or a later one", null);
                }
                connection.commit();
                return new PostgresMessageStore(dataSource, ownedPool, listenConnections, epoch);
            } catch (SQLException | StoreException | RuntimeException e) {
                StoreQueries.rollbackQuietly(connection, e);
                throw e;
            } finally {
                connection.setAutoCommit(true);
            }
        } catch (SQLException e) {
            throw new StoreException("Cannot open the message store in PostgreSQL: " + e.getMessage(), e);
        }
    }

    private static boolean hasIdentity(Statement statement) throws SQLException {
        try (ResultSet table = statement.executeQuery("SELECT to_regclass('chat_identity') IS NOT NULL")) {
            table.next();
            if (!table.getBoolean(1)) {
                return false;
            }
        }
        try (ResultSet row = statement.executeQuery("SELECT 1 FROM chat_identity WHERE id = 1")) {
            return row.next();
        }
    }

    @Override
    public String epoch() {
        return epoch;
    }

    @Override
    public Optional<CommitFeed> openCommitFeed() {
        return Optional.of(new PostgresCommitFeed(listenConnections, writerId));
    }

    /** One transaction of notifications: delivered together, in order, when it commits. */
    @Override
    public void signalOtherNodes(List<String> payloads) throws StoreException {
        try (Connection connection = dataSource.getConnection();
             PreparedStatement notify = connection.prepareStatement("SELECT pg_notify('" + SIGNALS + "', ?)")) {
            connection.setAutoCommit(false);
            try {
                for (String payload : payloads) {
                    notify.setString(1, payload);
                    notify.execute();
                }
                connection.commit();
            } catch (SQLException | RuntimeException e) {
                StoreQueries.rollbackQuietly(connection, e);
                throw e;
            } finally {
                connection.setAutoCommit(true);
            }
        } catch (SQLException e) {
            throw new StoreException("Signalling the other nodes failed: " + e.getMessage(), e);
        }
    }

    @Override
    public List<Appended> append(List<SentMessage> messages, long committedAtMillis) throws StoreException {
        SQLException last = null;
        boolean connectionLost = false;
        for (int attempt = 1; attempt <= ATTEMPTS; attempt++) {
            try {
                return appendOnce(messages, committedAtMillis);
            } catch (SQLException e) {
                // A lost connection is tried again once, with a fresh one: a second loss means PostgreSQL is away.
                boolean again = e instanceof StoredMeanwhile || isTransient(e)
                        || !connectionLost && isConnectionLost(e);
                if (!again) {
                    throw new StoreException("Storing " + messages.size() + " message(s) failed: " + e.getMessage(), e);
                }
                connectionLost |= isConnectionLost(e);
                last = e;
            }
        }
        throw new StoreException("Storing " + messages.size() + " message(s) failed " + ATTEMPTS + " times over: "
                + last.getMessage(), last);
    }

    /** A serialization failure or deadlock: the same transaction may simply be tried again. */
    private static boolean isTransient(SQLException e) {
        return e.getSQLState() != null && TRANSIENT.contains(e.getSQLState());
    }

    /**
     * A connection lost before the commit was asked for: the pool drops it, and the next attempt takes a fresh one
     * (after PostgreSQL restarted, or an administrator ended the session). A commit whose answer was lost is not
     * tried again: it may have committed, and a message without a clientOffset would be stored twice.
     */
    private static boolean isConnectionLost(SQLException e) {
        String state = e.getSQLState();
        return !(e instanceof CommitUnanswered) && state != null
                && (state.startsWith("08") || state.startsWith("57P0"));
    }

    /** The commit was asked for, and no answer came. */
    private static final class CommitUnanswered extends SQLException {
        CommitUnanswered(SQLException cause) {
            super("No answer to the commit; the messages may or may not be stored: " + cause.getMessage(),
                    cause.getSQLState(), cause);
        }
    }

    /** Another node stored one of the batch's clientOffsets between the look-up and the insert. */
    private static final class StoredMeanwhile extends SQLException {
        StoredMeanwhile() {
            super("A clientOffset of the batch was stored by another node meanwhile");
        }
    }

    private List<Appended> appendOnce(List<SentMessage> messages, long now) throws SQLException {
        try (Connection connection = dataSource.getConnection()) {
            Map<String, Long> rooms = roomIds(connection, messages, now);
            connection.setAutoCommit(false);
            List<Appended> results;
            try {
                results = appendInTransaction(connection, messages, rooms, now);
            } catch (SQLException | RuntimeException e) {
                StoreQueries.rollbackQuietly(connection, e);
                throw e;
            }
            try {
                connection.commit();
            } catch (SQLException e) {
                boolean connectionLost = e.getSQLState() != null && e.getSQLState().startsWith("08");
                throw connectionLost ? new CommitUnanswered(e) : e;
            }
            connection.setAutoCommit(true);
            return results;
        }
    }

    private List<Appended> appendInTransaction(Connection connection, List<SentMessage> messages,
                                               Map<String, Long> roomIds, long now) throws SQLException {
        Map<String, StoredRow> stored = storedRows(connection, messages);
        Map<Long, Long> newest = lockRooms(connection, roomIds.values());
        int size = messages.size();
        List<Appended> results = new ArrayList<>(size);
        List<Long> rowRooms = new ArrayList<>(size);
        List<Long> rowOffsets = new ArrayList<>(size);
        List<String> rowClientOffsets = new ArrayList<>(size);
        List<String> rowTexts = new ArrayList<>(size);
        List<String> rowAuthors = new ArrayList<>(size);
        List<Boolean> rowVerified = new ArrayList<>(size);
        Map<String, Long> newestByName = new TreeMap<>();
        for (SentMessage message : messages) {
            StoredRow earlier = message.clientOffset() == null ? null : stored.get(message.clientOffset());
            if (earlier != null) {
                results.add(earlier.answer(message));
                continue;
            }
            long room = roomIds.get(message.room());
            long offset = newest.merge(room, 1L, Long::sum);
            Author author = message.authorOrAnonymous();
            rowRooms.add(room);
            rowOffsets.add(offset);
            rowClientOffsets.add(message.clientOffset());
            rowTexts.add(message.text());
            rowAuthors.add(author.name());
            rowVerified.add(author.verified());
            newestByName.put(message.room(), offset);
            if (message.clientOffset() != null) {
                stored.put(message.clientOffset(), new StoredRow(message.room(), offset, message.text(), author));
            }
            results.add(new Appended(message.room(), offset, Appended.Outcome.INSERTED));
        }
        if (rowRooms.isEmpty()) {
            return results;
        }
        try (PreparedStatement insert = connection.prepareStatement(INSERT)) {
            insert.setLong(1, now);
            insert.setArray(2, connection.createArrayOf("bigint", rowRooms.toArray()));
            insert.setArray(3, connection.createArrayOf("bigint", rowOffsets.toArray()));
            insert.setArray(4, connection.createArrayOf("text", rowClientOffsets.toArray()));
            insert.setArray(5, connection.createArrayOf("text", rowTexts.toArray()));
            insert.setArray(6, connection.createArrayOf("text", rowAuthors.toArray()));
            insert.setArray(7, connection.createArrayOf("boolean", rowVerified.toArray()));
            if (insert.executeUpdate() != rowRooms.size()) {
                throw new StoredMeanwhile();
            }
        }
        List<Long> advancedRooms = new ArrayList<>();
        List<Long> advancedTo = new ArrayList<>();
        for (Map.Entry<String, Long> room : newestByName.entrySet()) {
            advancedRooms.add(roomIds.get(room.getKey()));
            advancedTo.add(room.getValue());
        }
        try (PreparedStatement advance = connection.prepareStatement(ADVANCE_ROOMS)) {
            advance.setArray(1, connection.createArrayOf("bigint", advancedRooms.toArray()));
            advance.setArray(2, connection.createArrayOf("bigint", advancedTo.toArray()));
            advance.executeUpdate();
        }
        try (PreparedStatement notify = connection.prepareStatement(NOTIFY)) {
            for (String payload : CommitNews.payloads(writerId, newestByName)) {
                notify.setString(1, payload);
                notify.execute();
            }
        }
        return results;
    }

    /** A message stored before under a clientOffset: what a message sent again with it is answered. */
    private record StoredRow(String room, long offset, String text, Author author) {

        Appended answer(SentMessage message) {
            return Appended.sentAgain(room, offset, text, author, message);
        }
    }

    /** The stored messages of the batch's clientOffsets, by clientOffset: one look-up for the whole batch. */
    private static Map<String, StoredRow> storedRows(Connection connection, List<SentMessage> messages)
            throws SQLException {
        Set<String> clientOffsets = new LinkedHashSet<>();
        for (SentMessage message : messages) {
            if (message.clientOffset() != null) {
                clientOffsets.add(message.clientOffset());
            }
        }
        Map<String, StoredRow> stored = new HashMap<>();
        if (clientOffsets.isEmpty()) {
            return stored;
        }
        try (PreparedStatement find = connection.prepareStatement(FIND_BY_CLIENT_OFFSETS)) {
            planEveryTime(find);
            find.setArray(1, connection.createArrayOf("text", clientOffsets.toArray()));
            try (ResultSet rows = find.executeQuery()) {
                while (rows.next()) {
                    stored.put(rows.getString(1), new StoredRow(rows.getString(2), rows.getLong(3),
                            rows.getString(4), new Author(rows.getString(5), rows.getBoolean(6))));
                }
            }
        }
        return stored;
    }

    /**
     * Has PostgreSQL plan the statement for each execution, with the table's size then, instead of the driver
     * preparing it on the server after a few executions, whose plan PostgreSQL then keeps until the table's
     * statistics change. For the clientOffset look-up that plan would be made while a new messages table holds a
     * few hundred rows: a sequential scan, which the batches of a growing table then keep running, reading the
     * whole table each, until autovacuum first analyzes it. Planning it costs a fraction of a millisecond.
     */
    private static void planEveryTime(PreparedStatement statement) throws SQLException {
        if (statement.isWrapperFor(PGStatement.class)) {
            statement.unwrap(PGStatement.class).setPrepareThreshold(0);
        }
    }

    /** Locks the rooms' rows until the commit, in id order, and returns their newest offsets by id. */
    private static Map<Long, Long> lockRooms(Connection connection, java.util.Collection<Long> ids)
            throws SQLException {
        Map<Long, Long> newest = new HashMap<>();
        try (PreparedStatement lock = connection.prepareStatement(LOCK_ROOMS)) {
            lock.setArray(1, connection.createArrayOf("bigint", ids.toArray()));
            try (ResultSet rows = lock.executeQuery()) {
                while (rows.next()) {
                    newest.put(rows.getLong(1), rows.getLong(2));
                }
            }
        }
        return newest;
    }

    /**
     * The ids of the batch's rooms, making those not stored yet in a statement of its own before the batch's
     * transaction, so that the transaction holds no lock on a new room's name while it waits for another's rows.
     */
    private Map<String, Long> roomIds(Connection connection, List<SentMessage> messages, long now)
            throws SQLException {
        Map<String, Long> ids = new LinkedHashMap<>();
        List<String> unknown = new ArrayList<>();
        for (SentMessage message : messages) {
            Long id = roomIds.get(message.room());
            if (id != null) {
                ids.put(message.room(), id);
            } else if (!unknown.contains(message.room())) {
                unknown.add(message.room());
            }
        }
        if (unknown.isEmpty()) {
            return ids;
        }
        Array names = connection.createArrayOf("text", unknown.toArray());
        try (PreparedStatement create = connection.prepareStatement(CREATE_ROOMS)) {
            create.setLong(1, now);
            create.setArray(2, names);
            create.executeUpdate();
        }
        try (PreparedStatement find = connection.prepareStatement(ROOM_IDS)) {
            find.setArray(1, names);
            try (ResultSet rows = find.executeQuery()) {
                while (rows.next()) {
                    roomIds.put(rows.getString(1), rows.getLong(2));
                    ids.put(rows.getString(1), rows.getLong(2));
                }
            }
        }
        return ids;
    }


    @Override
    public List<StoredMessage> readAfter(String room, long offset, int limit, long maxChars) throws StoreException {
        return readPage(READ_AFTER, room, offset, limit, maxChars, "after");
    }

    @Override
    public List<StoredMessage> readBefore(String room, long before, int limit) throws StoreException {
        List<StoredMessage> page = new ArrayList<>(readPage(READ_BEFORE, room, before, limit, Long.MAX_VALUE,
                "before"));
        Collections.reverse(page);
        return page;
    }

    private List<StoredMessage> readPage(String query, String room, long offset, int limit, long maxChars,
                                         String direction) throws StoreException {
        try (Connection connection = dataSource.getConnection();
             PreparedStatement read = connection.prepareStatement(query)) {
            read.setString(1, room);
            read.setLong(2, offset);
            read.setInt(3, limit);
            return StoreQueries.page(read, limit, maxChars);
        } catch (SQLException e) {
            throw new StoreException("Reading messages of room " + room + " " + direction + " offset " + offset
                    + " failed: " + e.getMessage(), e);
        }
    }

    @Override
    public List<RoomHead> rooms() throws StoreException {
        return StoreQueries.rooms(dataSource);
    }

    /**
     * Asks whether the session may write (not on a standby, not read-only) and for a transaction id, which a
     * standby refuses too; a dead server or a refused login fails here as well. Nothing is written and no lock is
     * waited for.
     */
    @Override
    public void checkWritable() throws StoreException {
        try (Connection connection = dataSource.getConnection(); Statement statement = connection.createStatement()) {
            connection.setAutoCommit(false);
            try (ResultSet readOnly = statement.executeQuery("SELECT pg_is_in_recovery(),"
                    + " current_setting('transaction_read_only') = 'on', txid_current()")) {
                readOnly.next();
                if (readOnly.getBoolean(1) || readOnly.getBoolean(2)) {
                    throw new SQLException(readOnly.getBoolean(1) ? "the database is a standby, in recovery"
                            : "the session is read-only (default_transaction_read_only)");
                }
            } finally {
                connection.rollback();
                connection.setAutoCommit(true);
            }
        } catch (SQLException e) {
            throw new StoreException("The message store does not take writes: " + e.getMessage(), e);
        }
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

    /** The messages table with its indexes and TOAST; space autovacuum freed for reuse is counted until reused. */
    @Override
    public long storedBytes() throws StoreException {
        try (Connection connection = dataSource.getConnection();
             Statement statement = connection.createStatement();
             ResultSet size = statement.executeQuery("SELECT pg_total_relation_size('messages')")) {
            size.next();
            return size.getLong(1);
        } catch (SQLException e) {
            throw new StoreException("Reading the database's size failed: " + e.getMessage(), e);
        }
    }

    @Override
    public void close() {
        closed = true;
        if (ownedPool != null) {
            try {
                ownedPool.close();
            } catch (Exception e) {
                throw new IllegalStateException("Closing the PostgreSQL connection pool failed", e);
            }
        }
        LOG.fine("Closed the PostgreSQL message store");
    }
}
