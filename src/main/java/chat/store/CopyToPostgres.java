package chat.store;

import chat.config.ChatConfig;
import chat.config.ChatConfig.Durability;

import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.StringJoiner;
import java.util.concurrent.TimeUnit;
import org.postgresql.PGConnection;
import org.postgresql.copy.CopyIn;
import org.postgresql.ds.PGSimpleDataSource;
import org.sqlite.SQLiteConfig;
import org.sqlite.SQLiteDataSource;
import org.sqlite.SQLiteOpenMode;

/**
 * The operator's command that moves a chat from the SQLite file of its one node to PostgreSQL, where several nodes
 * can share it, keeping its history: every room with its newest offset, every message with its room, offset,
 * clientOffset, author and time, and the epoch, so that the offsets every client holds stay valid and a client
 * resending a message it sent before is answered with the offset stored then.
 *
 * <p>The copy is one PostgreSQL transaction: a copy that fails leaves the target as it was. It goes only into a
 * database that holds no room and no message, and it is verified (each room's message count and highest offset
 * read back from both databases) before it is committed. The rows keep their ids, so that PostgreSQL's commit order
 * across rooms, which retention deletes by, is SQLite's.
 *
 * <p>The SQLite file must be a stopped node's: the command holds an exclusive lock on it while it reads, which a
 * node that still has the file open refuses, and so no message is stored there that the copy would miss.
 */
public final class CopyToPostgres {

    static final int OK = 0;
    static final int FAILED = 1;
    static final int BAD_ARGUMENTS = 2;

    static final String USAGE = """
            Usage: java -cp "WEB-INF/classes:WEB-INF/lib/*" chat.store.CopyToPostgres \\
                       --from /path/to/chat.db --to jdbc:postgresql://host:5432/database \\
                       [--user USER] [--password PASSWORD | --password-file FILE]

            Copies a chat's rooms, messages and epoch from the SQLite file of a stopped node into a PostgreSQL
            database that holds no chat yet (the schema is created if missing), in one transaction, and verifies
            each room's message count and newest offset before committing. Start the nodes with chat.db.url set
            to the same URL afterwards.

              --from FILE           the SQLite database (chat.db.path of the node); its node must be stopped
              --to URL              the PostgreSQL database, as chat.db.url
              --user USER           as chat.db.user; default CHAT_DB_USER, else the URL's
              --password PASSWORD   as chat.db.password; default CHAT_DB_PASSWORD
              --password-file FILE  as chat.db.passwordFile (one trailing line break is ignored);
                                    default CHAT_DB_PASSWORD_FILE

            Exit status: 0 copied and verified; 1 failed, nothing copied; 2 bad arguments.
            """;

    /** The SQLite schema this command reads: {@link SqliteMessageStore}'s, to which its open migrates older ones. */
    private static final int SQLITE_SCHEMA = 3;
    /** How many rows of COPY text are sent to PostgreSQL at a time, in characters. */
    private static final int COPY_CHUNK_CHARS = 1 << 16;
    private static final long PROGRESS_NANOS = TimeUnit.SECONDS.toNanos(1);
    /** Rooms named by the summary at most; a chat may have thousands. */
    private static final int SUMMARY_ROOMS = 10;
    /** Mismatches the verification lists at most. */
    private static final int LISTED_MISMATCHES = 10;
    private static final String PASSWORD = "chat.db.password";
    private static final String PASSWORD_FILE = "chat.db.passwordFile";
    private static final String USER = "chat.db.user";

    private static final String SQLITE_ROOMS = "SELECT id, name, newest, created_at FROM rooms ORDER BY id";
    private static final String SQLITE_MESSAGES = "SELECT id, room_id, room_offset, client_offset, content, author,"
            + " verified, created_at FROM messages ORDER BY id";
    private static final String COPY_ROOMS = "COPY rooms (id, name, newest, created_at) FROM STDIN";
    private static final String COPY_MESSAGES = "COPY messages (id, room_id, room_offset, client_offset, content,"
            + " author, verified, created_at) FROM STDIN";
    /** Each room's name, newest offset, message count and highest offset; the same text in both databases. */
    private static final String ROOM_TALLIES = "SELECT rooms.id, rooms.name, rooms.newest, COUNT(messages.id),"
            + " COALESCE(MAX(messages.room_offset), 0) FROM rooms LEFT JOIN messages ON messages.room_id = rooms.id"
            + " GROUP BY rooms.id, rooms.name, rooms.newest ORDER BY rooms.id";

    private final PrintStream err;

    private CopyToPostgres(PrintStream err) {
        this.err = err;
    }

    public static void main(String[] args) {
        System.exit(run(args, System.err));
    }

    /**
     * Runs the command as {@link #main} does, reporting to {@code err}, and returns its exit status instead of
     * exiting.
     */
    static int run(String[] args, PrintStream err) {
        Arguments arguments;
        try {
            arguments = Arguments.parse(args);
        } catch (IllegalArgumentException e) {
            err.println(e.getMessage());
            err.println();
            err.print(USAGE);
            return BAD_ARGUMENTS;
        }
        if (arguments == null) {
            err.print(USAGE);
            return OK;
        }
        try {
            new CopyToPostgres(err).copy(arguments);
            return OK;
        } catch (Refused e) {
            err.println(e.getMessage());
            return FAILED;
        } catch (StoreException | SQLException e) {
            err.println("The copy failed: " + e.getMessage());
            return FAILED;
        } catch (RuntimeException e) {
            err.println("The copy failed: " + e);
            e.printStackTrace(err);
            return FAILED;
        }
    }

    /** What the operator asked for; the password already read from its file. */
    private record Arguments(Path from, String to, String user, String password) {

        /** Without the password, should this ever be shown. */
        @Override
        public String toString() {
            return "--from " + from + " --to " + withoutPassword(to) + (user == null ? "" : " --user " + user);
        }

        /** @return null when only the usage is asked for */
        static Arguments parse(String[] args) {
            Map<String, String> options = new HashMap<>();
            for (int i = 0; i < args.length; i++) {
                String name = args[i];
                if (name.equals("--help") || name.equals("-h")) {
                    return null;
                }
                if (!List.of("--from", "--to", "--user", "--password", "--password-file").contains(name)) {
                    throw new IllegalArgumentException("Unknown argument '" + name + "'");
                }
                if (i + 1 == args.length) {
                    throw new IllegalArgumentException(name + " needs a value");
                }
                if (options.put(name, args[++i]) != null) {
                    throw new IllegalArgumentException(name + " is given twice");
                }
            }
            String from = options.get("--from");
            String to = options.get("--to");
            if (from == null || from.isBlank() || to == null || to.isBlank()) {
                throw new IllegalArgumentException("--from and --to are required");
            }
            if (!to.startsWith("jdbc:postgresql:")) {
                throw new IllegalArgumentException("--to must be a PostgreSQL JDBC URL"
                        + " (jdbc:postgresql://host:port/database), but is '" + to + "'");
            }
            if (options.containsKey("--password") && options.containsKey("--password-file")) {
                throw new IllegalArgumentException("--password and --password-file are both given: give one of them");
            }
            // The settings as the webapp reads them, less context parameters; the command line's replace them.
            Map<String, String> settings = new HashMap<>();
            for (String setting : List.of(USER, PASSWORD, PASSWORD_FILE)) {
                String value = System.getProperty(setting);
                if (value == null || value.isBlank()) {
                    value = System.getenv(ChatConfig.environmentName(setting));
                }
                if (value != null) {
                    settings.put(setting, value);
                }
            }
            if (options.containsKey("--user")) {
                settings.put(USER, options.get("--user"));
            }
            if (options.containsKey("--password") || options.containsKey("--password-file")) {
                settings.remove(PASSWORD);
                settings.remove(PASSWORD_FILE);
                if (options.containsKey("--password")) {
                    settings.put(PASSWORD, options.get("--password"));
                } else {
                    settings.put(PASSWORD_FILE, options.get("--password-file"));
                }
            }
            settings.put("chat.db.url", to);
            ChatConfig config = ChatConfig.of(settings);
            return new Arguments(Path.of(from).toAbsolutePath(), config.postgresUrl(), config.databaseUser(),
                    config.databasePassword());
        }
    }

    /** The command will not copy, for a reason the operator can act on; its message says it all. */
    private static final class Refused extends Exception {
        Refused(String message) {
            super(message);
        }
    }

    private void copy(Arguments arguments) throws Refused, StoreException, SQLException {
        long start = System.nanoTime();
        Path file = arguments.from();
        if (!Files.isRegularFile(file)) {
            throw new Refused("There is no SQLite database at " + file + " (--from): give the chat.db of the node,"
                    + " by default data/chat.db under Tomcat's base directory");
        }
        migrateIfOld(file);
        PGSimpleDataSource target = postgres(arguments);
        try (Connection source = lockedSqlite(file)) {
            source.setAutoCommit(false);
            String epoch = sqliteEpoch(source, file);
            long rooms = count(source, "rooms");
            long messages = count(source, "messages");
            err.println("Copying " + file + " (epoch " + epoch + ", " + rooms + " room(s), " + messages
                    + " message(s)) to " + withoutPassword(arguments.to()));
            PostgresMessageStore.open(target, null, target::getConnection).close();
            try (Connection connection = target.getConnection()) {
                connection.setAutoCommit(false);
                try {
                    lockAndRequireEmpty(connection, arguments.to());
                    setEpoch(connection, epoch);
                    List<String> newest = copyRooms(source, connection);
                    long copied = copyMessages(source, connection, messages);
                    restartSequences(connection);
                    verify(source, connection, rooms, copied);
                    connection.commit();
                    err.println("Copied " + rooms + " room(s) and " + copied + " message(s), epoch " + epoch
                            + ", in " + String.format(Locale.ROOT, "%.1f", (System.nanoTime() - start) / 1e9)
                            + " s; newest offsets: " + summary(newest, rooms));
                } catch (Refused | SQLException | RuntimeException e) {
                    rollback(connection, e);
                    throw e;
                }
            }
        }
    }

    /**
     * Schemas older than {@value #SQLITE_SCHEMA} are migrated by opening the file as the current release's node
     * would, in place and in one transaction each; a database without any chat table is not touched.
     */
    private void migrateIfOld(Path file) throws Refused, StoreException, SQLException {
        int version;
        boolean hasEpoch;
        try (Connection connection = lockedSqlite(file); Statement statement = connection.createStatement()) {
            version = intQuery(statement, "PRAGMA user_version");
            if (version == 0 && !hasTable(statement, "messages")) {
                throw new Refused(file + " is not a chat database: it has no messages table");
            }
            hasEpoch = hasTable(statement, "chat_identity")
                    && intQuery(statement, "SELECT COUNT(*) FROM chat_identity WHERE id = 1") == 1;
        }
        if (version == SQLITE_SCHEMA && hasEpoch) {
            return;
        }
        err.println("Migrating " + file + " from schema " + version + " to schema " + SQLITE_SCHEMA
                + " first, as the current release does when it opens it");
        SqliteMessageStore.open(sqlite(file), Durability.FULL, null).close();
    }

    /**
     * A connection that holds the file's lock exclusively from its first read until it is closed. A node that has
     * the file open holds a shared lock on it as long as it runs (the file is in WAL mode), so this fails at once
     * while a node still runs on it.
     */
    private static Connection lockedSqlite(Path file) throws Refused, SQLException {
        Connection connection = sqlite(file).getConnection();
        try (Statement statement = connection.createStatement()) {
            statement.execute("PRAGMA busy_timeout = 0");
            statement.execute("PRAGMA locking_mode = EXCLUSIVE");
            statement.executeQuery("SELECT COUNT(*) FROM sqlite_master").close();
            return connection;
        } catch (SQLException e) {
            try {
                connection.close();
            } catch (SQLException closeFailure) {
                e.addSuppressed(closeFailure);
            }
            if (e.getMessage() != null && e.getMessage().contains("SQLITE_BUSY")) {
                throw new Refused("The SQLite database " + file + " is in use by another process (" + e.getMessage()
                        + "): stop the node that runs on it, then run this command again");
            }
            throw new SQLException("Cannot read the SQLite database " + file + ": " + e.getMessage(), e);
        }
    }

    /** Without CREATE, so that a file removed meanwhile is not made anew, empty. */
    private static SQLiteDataSource sqlite(Path file) {
        SQLiteConfig config = new SQLiteConfig();
        config.resetOpenMode(SQLiteOpenMode.CREATE);
        SQLiteDataSource dataSource = new SQLiteDataSource(config);
        dataSource.setUrl("jdbc:sqlite:" + file);
        return dataSource;
    }

    private static PGSimpleDataSource postgres(Arguments arguments) throws Refused {
        PGSimpleDataSource dataSource = new PGSimpleDataSource();
        try {
            dataSource.setUrl(arguments.to());
        } catch (IllegalArgumentException e) {
            throw new Refused("The PostgreSQL driver does not take the URL " + withoutPassword(arguments.to())
                    + " (--to): " + e.getMessage());
        }
        if (arguments.user() != null) {
            dataSource.setUser(arguments.user());
        }
        if (arguments.password() != null) {
            dataSource.setPassword(arguments.password());
        }
        // Shown in pg_stat_activity beside the nodes' "chat".
        dataSource.setApplicationName("chat-copy");
        return dataSource;
    }

    private static String sqliteEpoch(Connection source, Path file) throws Refused, SQLException {
        try (Statement statement = source.createStatement()) {
            int version = intQuery(statement, "PRAGMA user_version");
            if (version != SQLITE_SCHEMA) {
                throw new Refused(file + " has schema " + version + "; this command copies schema " + SQLITE_SCHEMA
                        + ": run the release that wrote it, or a later one, and its own copy command");
            }
            try (ResultSet identity = statement.executeQuery("SELECT epoch FROM chat_identity WHERE id = 1")) {
                if (!identity.next()) {
                    throw new SQLException("The SQLite database " + file + " has no epoch in chat_identity");
                }
                return identity.getString(1);
            }
        }
    }

    /**
     * Locks the chat's tables against writes until the commit, so that a node started too early waits rather than
     * storing a message or an epoch of its own meanwhile, and refuses a target that holds any room or message.
     */
    private static void lockAndRequireEmpty(Connection connection, String url) throws Refused, SQLException {
        try (Statement statement = connection.createStatement()) {
            statement.execute("LOCK TABLE chat_identity, rooms, messages IN EXCLUSIVE MODE");
            long rooms = count(connection, "rooms");
            long messages = count(connection, "messages");
            if (rooms == 0 && messages == 0) {
                return;
            }
            StringJoiner names = new StringJoiner(", ");
            try (ResultSet named = statement.executeQuery("SELECT name, newest FROM rooms ORDER BY id LIMIT "
                    + SUMMARY_ROOMS)) {
                while (named.next()) {
                    names.add(named.getString(1) + " up to offset " + named.getLong(2));
                }
            }
            throw new Refused("The PostgreSQL database " + withoutPassword(url) + " is not empty: it holds " + rooms
                    + " room(s) (" + names + (rooms > SUMMARY_ROOMS ? ", ..." : "") + ") and " + messages
                    + " message(s). Copy into an empty database: create a new one, or drop its tables messages,"
                    + " rooms and chat_identity if that chat is to be replaced. Nothing was changed");
        }
    }

    /** The source's epoch replaces the one the target was created with: the clients' offsets are the source's. */
    private static void setEpoch(Connection connection, String epoch) throws SQLException {
        try (PreparedStatement update = connection.prepareStatement(
                "UPDATE chat_identity SET epoch = ? WHERE id = 1")) {
            update.setString(1, epoch);
            if (update.executeUpdate() != 1) {
                throw new SQLException("The PostgreSQL database has no chat_identity row to take the epoch");
            }
        }
    }

    /** @return the first rooms' names with their newest offsets, for the summary */
    private static List<String> copyRooms(Connection source, Connection target) throws SQLException {
        List<String> newest = new ArrayList<>();
        try (Statement statement = source.createStatement();
             ResultSet rows = statement.executeQuery(SQLITE_ROOMS);
             CopyRows copy = new CopyRows(target, "rooms", COPY_ROOMS)) {
            while (rows.next()) {
                String name = rows.getString(2);
                copy.number(rows.getLong(1)).text(name, "name", rows.getLong(1)).number(rows.getLong(3))
                        .number(rows.getLong(4)).endRow();
                if (newest.size() < SUMMARY_ROOMS) {
                    newest.add(name + " " + rows.getLong(3));
                }
            }
            copy.end();
        } catch (SQLException e) {
            throw new SQLException("Copying the rooms failed: " + e.getMessage(), e);
        }
        return newest;
    }

    /** Streams the messages in commit order; progress at most once a second. */
    private long copyMessages(Connection source, Connection target, long total) throws SQLException {
        long copied = 0;
        long lastProgress = System.nanoTime();
        try (Statement statement = source.createStatement();
             ResultSet rows = statement.executeQuery(SQLITE_MESSAGES);
             CopyRows copy = new CopyRows(target, "messages", COPY_MESSAGES)) {
            while (rows.next()) {
                long id = rows.getLong(1);
                copy.number(id).number(rows.getLong(2)).number(rows.getLong(3))
                        .text(rows.getString(4), "client_offset", id).text(rows.getString(5), "content", id)
                        .text(rows.getString(6), "author", id).bool(rows.getBoolean(7)).number(rows.getLong(8))
                        .endRow();
                copied++;
                if (copied % 1_000 == 0 && System.nanoTime() - lastProgress >= PROGRESS_NANOS) {
                    lastProgress = System.nanoTime();
                    err.println("Copied " + copied + " of " + total + " messages ("
                            + String.format(Locale.ROOT, "%.1f", 100.0 * copied / Math.max(1, total)) + "%)");
                }
            }
            long stored = copy.end();
            if (stored != copied) {
                throw new SQLException("PostgreSQL took " + stored + " of the " + copied + " messages sent");
            }
        } catch (SQLException e) {
            throw new SQLException("Copying the messages failed after " + copied + " of " + total + ": "
                    + e.getMessage(), e);
        }
        return copied;
    }

    /** The rows came with their ids: the sequences would hand those out again. */
    private static void restartSequences(Connection connection) throws SQLException {
        try (Statement statement = connection.createStatement()) {
            for (String table : List.of("rooms", "messages")) {
                statement.executeQuery("SELECT setval(pg_get_serial_sequence('" + table + "', 'id'),"
                        + " COALESCE(MAX(id), 0) + 1, false) FROM " + table).close();
            }
        }
    }

    /**
     * Reads each room's newest offset, message count and highest offset back from both databases, in the same
     * transactions as the copy, and compares them row by row: the rooms have the same ids in both.
     *
     * @throws Refused listing the first mismatches, so that the copy is rolled back
     */
    private void verify(Connection source, Connection target, long rooms, long messages)
            throws Refused, SQLException {
        List<String> mismatches = new ArrayList<>();
        long mismatched = 0;
        long compared = 0;
        try (Statement sqlite = source.createStatement(); Statement postgres = target.createStatement();
             ResultSet expected = sqlite.executeQuery(ROOM_TALLIES);
             ResultSet actual = postgres.executeQuery(ROOM_TALLIES)) {
            boolean more = expected.next();
            boolean moreCopied = actual.next();
            while (more || moreCopied) {
                String was = more ? tally(expected) : "no room";
                String is = moreCopied ? tally(actual) : "no room";
                if (!was.equals(is) && ++mismatched <= LISTED_MISMATCHES) {
                    mismatches.add("SQLite has " + was + ", PostgreSQL " + is);
                }
                compared++;
                more = more && expected.next();
                moreCopied = moreCopied && actual.next();
            }
        }
        long copiedRooms = count(target, "rooms");
        long copiedMessages = count(target, "messages");
        if (copiedRooms != rooms || copiedMessages != messages) {
            mismatches.add(0, "SQLite has " + rooms + " room(s) and " + messages + " message(s), PostgreSQL "
                    + copiedRooms + " and " + copiedMessages);
        }
        if (!mismatches.isEmpty()) {
            throw new Refused("Verification failed, so the copy is rolled back: " + String.join("; ", mismatches)
                    + (mismatched > LISTED_MISMATCHES ? "; and " + (mismatched - LISTED_MISMATCHES) + " more room(s)"
                    : ""));
        }
        err.println("Verified: each of the " + compared + " room(s) has the same newest offset, message count and"
                + " highest offset in PostgreSQL as in SQLite");
    }

    private static String tally(ResultSet room) throws SQLException {
        return "room " + room.getLong(1) + " '" + room.getString(2) + "' with newest offset " + room.getLong(3)
                + ", " + room.getLong(4) + " message(s) up to offset " + room.getLong(5);
    }

    private static String summary(List<String> newest, long rooms) {
        if (newest.isEmpty()) {
            return "none";
        }
        return String.join(", ", newest) + (rooms > newest.size() ? ", and " + (rooms - newest.size())
                + " more room(s)" : "");
    }

    /** The URL as it may be shown: a password in it is not. */
    private static String withoutPassword(String url) {
        return url.replaceAll("(?i)(password=)[^&]*", "$1***");
    }

    private static long count(Connection connection, String table) throws SQLException {
        try (Statement statement = connection.createStatement();
             ResultSet count = statement.executeQuery("SELECT COUNT(*) FROM " + table)) {
            count.next();
            return count.getLong(1);
        }
    }

    private static int intQuery(Statement statement, String sql) throws SQLException {
        try (ResultSet value = statement.executeQuery(sql)) {
            return value.next() ? value.getInt(1) : 0;
        }
    }

    private static boolean hasTable(Statement statement, String name) throws SQLException {
        try (ResultSet table = statement.executeQuery(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '" + name + "'")) {
            return table.next();
        }
    }

    private static void rollback(Connection connection, Exception cause) {
        try {
            connection.rollback();
        } catch (SQLException rollbackFailure) {
            cause.addSuppressed(rollbackFailure);
        }
    }

    /**
     * Rows in COPY's text format, sent in chunks of about {@value #COPY_CHUNK_CHARS} characters: a tab between
     * fields, {@code \N} for null, and backslash escapes for a backslash and the characters that would end a field.
     */
    private static final class CopyRows implements AutoCloseable {
        private final String table;
        private final CopyIn copy;
        private final StringBuilder rows = new StringBuilder(COPY_CHUNK_CHARS + 1024);
        private boolean rowStarted;

        CopyRows(Connection connection, String table, String sql) throws SQLException {
            this.table = table;
            this.copy = connection.unwrap(PGConnection.class).getCopyAPI().copyIn(sql);
        }

        private void separate() {
            if (rowStarted) {
                rows.append('\t');
            }
            rowStarted = true;
        }

        CopyRows number(long value) {
            separate();
            rows.append(value);
            return this;
        }

        CopyRows bool(boolean value) {
            separate();
            rows.append(value ? 't' : 'f');
            return this;
        }

        /** @param column and {@code id} name the value should it hold U+0000, which PostgreSQL's text cannot */
        CopyRows text(String value, String column, long id) throws SQLException {
            separate();
            if (value == null) {
                rows.append("\\N");
                return this;
            }
            for (int i = 0; i < value.length(); i++) {
                char c = value.charAt(i);
                switch (c) {
                    case '\\' -> rows.append("\\\\");
                    case '\t' -> rows.append("\\t");
                    case '\n' -> rows.append("\\n");
                    case '\r' -> rows.append("\\r");
                    case '\0' -> throw new SQLException("Column " + column + " of the " + table + " row with id "
                            + id + " holds the character U+0000, which PostgreSQL cannot store: remove it in the"
                            + " SQLite database first (UPDATE " + table + " SET " + column + " = replace(" + column
                            + ", char(0), '') WHERE id = " + id + ")");
                    default -> rows.append(c);
                }
            }
            return this;
        }

        void endRow() throws SQLException {
            rows.append('\n');
            rowStarted = false;
            if (rows.length() >= COPY_CHUNK_CHARS) {
                flush();
            }
        }

        private void flush() throws SQLException {
            byte[] bytes = rows.toString().getBytes(StandardCharsets.UTF_8);
            copy.writeToCopy(bytes, 0, bytes.length);
            rows.setLength(0);
        }

        /** @return the rows PostgreSQL stored */
        long end() throws SQLException {
            flush();
            return copy.endCopy();
        }

        /** Cancels a copy that did not end, so that the connection can roll back. */
        @Override
        public void close() throws SQLException {
            if (copy.isActive()) {
                copy.cancelCopy();
            }
        }
    }
}
