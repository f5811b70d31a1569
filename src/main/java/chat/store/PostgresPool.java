package chat.store;

import chat.config.ChatConfig;
import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.Properties;
import javax.sql.DataSource;

/**
 * The WAR's own HikariCP pool over the PostgreSQL database of {@code chat.db.url}, and the one connection outside
 * any pool that a node listens on.
 */
public final class PostgresPool {

    /**
     * How long a connection is waited for: while PostgreSQL is down, a sender is told {@code store-unavailable}
     * and {@code /health} says 503 within it, in time for a load balancer's health check.
     */
    static final long CONNECTION_TIMEOUT_MILLIS = 2_000;
    /** Shown in {@code pg_stat_activity}, so that an operator tells the chat's sessions from others. */
    private static final String APPLICATION_NAME = "chat";

    private PostgresPool() {
    }

    /**
     * One connection for the writer plus {@code chat.db.poolSize} for readers; a connection is waited for at most
     * {@link #CONNECTION_TIMEOUT_MILLIS}, or {@code chat.db.busyTimeoutMs} if shorter.
     *
     * @throws StoreException if PostgreSQL cannot be reached or refuses the login now
     */
    public static HikariDataSource open(ChatConfig config) throws StoreException {
        HikariConfig hikari = new HikariConfig();
        hikari.setPoolName("chat-postgresql");
        hikari.setDriverClassName("org.postgresql.Driver");
        hikari.setJdbcUrl(config.postgresUrl());
        hikari.setUsername(config.databaseUser());
        hikari.setPassword(config.databasePassword());
        hikari.setMaximumPoolSize(config.readerPoolSize() + 1);
        hikari.setMinimumIdle(1);
        hikari.setConnectionTimeout(Math.max(250, Math.min(CONNECTION_TIMEOUT_MILLIS, config.busyTimeoutMillis())));
        hikari.addDataSourceProperty("ApplicationName", APPLICATION_NAME);
        hikari.addDataSourceProperty("tcpKeepAlive", "true");
        try {
            return new HikariDataSource(hikari);
        } catch (RuntimeException e) {
            throw new StoreException("Cannot connect to PostgreSQL at " + config.postgresUrl()
                    + " (setting chat.db.url): " + e.getMessage(), e);
        }
    }

    /** Connections to {@code url} made by the driver itself, outside any pool. */
    public static PostgresMessageStore.ListenConnections unpooled(String url, String user, String password) {
        return () -> {
            Properties properties = new Properties();
            if (user != null) {
                properties.setProperty("user", user);
            }
            if (password != null) {
                properties.setProperty("password", password);
            }
            properties.setProperty("ApplicationName", APPLICATION_NAME + "-listen");
            properties.setProperty("tcpKeepAlive", "true");
            Connection connection = new org.postgresql.Driver().connect(url, properties);
            if (connection == null) {
                throw new SQLException("The PostgreSQL driver does not take the URL " + url);
            }
            return connection;
        };
    }

    /**
     * The listening connection for a container's pool: a connection of the driver's own to the same database when
     * the pool is HikariCP's (its URL, user and password are known), else one connection taken from the pool for
     * as long as the node runs, which the pool's size must allow for.
     */
    public static PostgresMessageStore.ListenConnections listeningBeside(DataSource pool) {
        try {
            if (pool.isWrapperFor(HikariDataSource.class)) {
                HikariDataSource hikari = pool.unwrap(HikariDataSource.class);
                if (hikari.getJdbcUrl() != null) {
                    return unpooled(hikari.getJdbcUrl(), hikari.getUsername(), hikari.getPassword());
                }
            }
        } catch (SQLException notHikari) {
            // a pool of another kind: lend a connection of it
        }
        return pool::getConnection;
    }
}
