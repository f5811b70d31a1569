package chat.bench;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.Statement;

/**
 * What this machine's disk allows SQLite, without the chat: the server's table in WAL mode with synchronous=FULL,
 * rows inserted with one commit each, then with one commit per batch. Group commit should land between the two.
 */
final class StorageFloor {

    static final int BATCH = 1000;

    private final BenchContext context;
    double singleCommitRowsPerSecond = Double.NaN;
    double batchedRowsPerSecond = Double.NaN;

    StorageFloor(BenchContext context) {
        this.context = context;
    }

    void run() throws Exception {
        Path directory = Files.createDirectories(context.options.outputDirectory);
        Path database = directory.resolve("storage-floor.db");
        for (String suffix : new String[] {"", "-wal", "-shm"}) {
            Files.deleteIfExists(database.resolveSibling(database.getFileName() + suffix));
        }
        int singles = context.options.scaled(2_000, 200);
        int batched = context.options.scaled(100_000, 10 * BATCH);
        try (Connection connection = DriverManager.getConnection("jdbc:sqlite:" + database)) {
            try (Statement statement = connection.createStatement()) {
                statement.execute("PRAGMA journal_mode = WAL");
                statement.execute("PRAGMA synchronous = FULL");
                statement.execute("CREATE TABLE messages (id INTEGER PRIMARY KEY AUTOINCREMENT,"
                        + " client_offset TEXT UNIQUE, content TEXT NOT NULL, created_at INTEGER NOT NULL)");
            }
            try (PreparedStatement insert = connection.prepareStatement(
                    "INSERT INTO messages (client_offset, content, created_at) VALUES (?, ?, ?)")) {
                Bench.log("storage: " + singles + " rows, one commit each (WAL, synchronous=FULL)");
                connection.setAutoCommit(true);
                long start = System.nanoTime();
                for (int i = 0; i < singles; i++) {
                    insertRow(insert, "single-" + i);
                }
                singleCommitRowsPerSecond = singles / seconds(start);
                Bench.log("storage: " + batched + " rows, one commit per " + BATCH);
                connection.setAutoCommit(false);
                start = System.nanoTime();
                for (int i = 0; i < batched; i++) {
                    insertRow(insert, "batch-" + i);
                    if ((i + 1) % BATCH == 0) {
                        connection.commit();
                    }
                }
                connection.commit();
                batchedRowsPerSecond = batched / seconds(start);
            }
        }
        context.report.add("storage", "SQLite insert, one commit per row", singleCommitRowsPerSecond, "rows/s",
                null, null, "WAL, synchronous=FULL, " + singles + " rows, " + database.getParent());
        context.report.add("storage", "SQLite insert, one commit per " + BATCH + " rows", batchedRowsPerSecond,
                "rows/s", null, null, batched + " rows");
    }

    private static void insertRow(PreparedStatement insert, String clientOffset) throws Exception {
        insert.setString(1, clientOffset);
        insert.setString(2, "123456789012345 bench message of about the size the load uses");
        insert.setLong(3, System.currentTimeMillis());
        insert.executeUpdate();
    }

    static double seconds(long startNanos) {
        return (System.nanoTime() - startNanos) / 1e9;
    }
}
