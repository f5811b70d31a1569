package chat.store;

import chat.config.ChatConfig;
import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** The embedded default: a HikariCP pool over an SQLite file, used when the container defines no jdbc/chat. */
public final class SqlitePool {

    private SqlitePool() {
    }

    /** One connection for the writer plus {@code chat.db.poolSize} for readers. */
    public static HikariDataSource open(ChatConfig config) throws StoreException {
        Path file = config.databasePath();
        try {
            Path parent = file.getParent();
            if (parent != null) {
                Files.createDirectories(parent);
            }
        } catch (IOException e) {
            throw new StoreException("Cannot create the directory for the database " + file + ": " + e, e);
        }
        HikariConfig hikari = new HikariConfig();
        hikari.setPoolName("chat-sqlite");
        hikari.setDriverClassName("org.sqlite.JDBC");
        hikari.setJdbcUrl("jdbc:sqlite:" + file);
        hikari.setMaximumPoolSize(config.readerPoolSize() + 1);
        hikari.setMinimumIdle(1);
        hikari.setExceptionOverrideClassName(SqliteErrorEviction.class.getName());
        hikari.addDataSourceProperty("journal_mode", "WAL");
        hikari.addDataSourceProperty("synchronous", config.durability().name());
        hikari.addDataSourceProperty("busy_timeout", String.valueOf(config.busyTimeoutMillis()));
        try {
            return new HikariDataSource(hikari);
        } catch (RuntimeException e) {
            throw new StoreException("Cannot open the SQLite database " + file + ": " + e.getMessage(), e);
        }
    }
}
