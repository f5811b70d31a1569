package chat.web;

import chat.config.ChatConfig;
import chat.config.OriginPolicy;
import chat.config.TrustedProxy;
import chat.delivery.ChatHub;
import chat.metrics.ChatMetrics;
import chat.store.MessageStore;
import chat.store.PostgresMessageStore;
import chat.store.PostgresPool;
import chat.store.SqliteMessageStore;
import chat.store.SqlitePool;
import chat.store.StoreException;
import com.zaxxer.hikari.HikariDataSource;
import io.prometheus.metrics.instrumentation.jvm.JvmMemoryMetrics;
import io.prometheus.metrics.instrumentation.jvm.ProcessMetrics;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import jakarta.servlet.ServletContext;
import jakarta.servlet.ServletContextEvent;
import jakarta.servlet.ServletContextListener;
import jakarta.websocket.server.ServerContainer;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.logging.Logger;
import javax.naming.InitialContext;
import javax.naming.NameNotFoundException;
import javax.naming.NamingException;
import javax.naming.NoInitialContextException;
import javax.sql.DataSource;

/**
 * Starts the chat when the webapp starts (the store, the hub, the heartbeat) and publishes it as the
 * {@link RunningChat}; stops it and lets go of the webapp's class loader when the webapp stops.
 */
public final class ChatLifecycle implements ServletContextListener {

    static final String JNDI_NAME = "java:comp/env/jdbc/chat";
    private static final Logger LOG = Logger.getLogger(ChatLifecycle.class.getName());
    /**
     * Loaded now, with the listener, rather than on the first undeploy: by then the webapp's files may be gone
     * (its expanded directory deleted before Tomcat stops it), and a NoClassDefFoundError in contextDestroyed
     * would skip every release in WebappReferences and leave the class loader behind.
     */
    private static final Class<?> RELEASER = WebappReferences.class;

    private RunningChat chat;

    @Override
    public void contextInitialized(ServletContextEvent event) {
        ServletContext context = event.getServletContext();
        if (context.getAttribute(ServerContainer.class.getName()) == null) {
            throw new IllegalStateException("No WebSocket container in this servlet container; Tomcat 10.1 or 11 needed");
        }
        ChatConfig config = ChatConfig.load(context::getInitParameter);
        LoginConstraints.apply(context, config.loginRoles());
        MessageStore store = openStore(config);
        PrometheusRegistry registry = new PrometheusRegistry();
        JvmMemoryMetrics.builder().register(registry);
        ProcessMetrics.builder().register(registry);
        chat = new RunningChat(new ChatHub(config, store, new ChatMetrics(registry)),
                new Heartbeat(config.pingIntervalSeconds(), config.controlFrameTimeoutMillis()),
                new ConnectionLimits(config.maxConnections(), config.maxConnectionsPerAddress()),
                new OriginPolicy(config.publicOrigins(), config.allowedOrigins(), config.allowMissingOrigin()),
                registry, config.maxFrameBytes(), config.requireLogin(),
                new TrustedProxy(config.trustedUserHeader(), config.trustedProxies()));
        chat.publishIn(context);
    }

    private static MessageStore openStore(ChatConfig config) {
        try {
            DataSource container = lookupContainerDataSource();
            if (container != null && isPostgres(container)) {
                LOG.info("Storing messages in PostgreSQL through the container's DataSource " + JNDI_NAME);
                return PostgresMessageStore.open(container, closedWithTheWebapp(container),
                        PostgresPool.listeningBeside(container));
            }
            if (container != null) {
                LOG.info("Storing messages in the container's DataSource " + JNDI_NAME);
                try {
                    return SqliteMessageStore.open(container, config.durability(), closedWithTheWebapp(container));
                } catch (StoreException e) {
                    throw new StoreException(e.getMessage() + " (through " + JNDI_NAME + "; check the jdbcUrl of its"
                            + " Resource and that the database's directory exists and is writable)", e);
                }
            }
            if (config.postgresUrl() != null) {
                LOG.info("Storing messages in PostgreSQL at " + config.postgresUrl() + " (chat.db.url)");
                HikariDataSource pool = PostgresPool.open(config);
                try {
                    return PostgresMessageStore.open(pool, pool, PostgresPool.unpooled(config.postgresUrl(),
                            config.databaseUser(), config.databasePassword()));
                } catch (StoreException e) {
                    pool.close();
                    throw e;
                }
            }
            LOG.info("Storing messages in " + config.databasePath() + " (no " + JNDI_NAME + " defined)");
            HikariDataSource pool = SqlitePool.open(config);
            try {
                return SqliteMessageStore.open(pool, config.durability(), pool);
            } catch (StoreException e) {
                pool.close();
                throw e;
            }
        } catch (StoreException e) {
            throw new IllegalStateException(e.getMessage(), e);
        }
    }

    /** Whether the container's data source is PostgreSQL's; anything else is taken for SQLite. */
    private static boolean isPostgres(DataSource container) throws StoreException {
        try (Connection connection = container.getConnection()) {
            return "PostgreSQL".equals(connection.getMetaData().getDatabaseProductName());
        } catch (SQLException e) {
            throw new StoreException("The container's DataSource " + JNDI_NAME + " gives no connection: "
                    + e.getMessage(), e);
        }
    }

    /**
     * A pool defined in the webapp's own context descriptor is built from the WAR's classes (HikariJNDIFactory in
     * WEB-INF/lib) and cannot outlive the webapp. Tomcat closes it (closeMethod) just before it looks for threads
     * the webapp left running, and the pool's last closer thread can still be ending then; closed with the store,
     * earlier in the stop, it is gone by that check. A pool of the server's (its classes in $CATALINA_BASE/lib,
     * shared through a ResourceLink) belongs to Tomcat and is left alone.
     *
     * @return the data source as something to close with the store, or null to leave it to the container
     */
    private static AutoCloseable closedWithTheWebapp(DataSource container) {
        boolean fromThisWebapp = container.getClass().getClassLoader() == ChatLifecycle.class.getClassLoader();
        return fromThisWebapp && container instanceof AutoCloseable closeable ? closeable : null;
    }

    /** @return the container's data source, or null when it defines none */
    private static DataSource lookupContainerDataSource() {
        try {
            return (DataSource) new InitialContext().lookup(JNDI_NAME);
        } catch (NameNotFoundException | NoInitialContextException absent) {
            return null;
        } catch (NamingException e) {
            throw new IllegalStateException("The container defines " + JNDI_NAME + " but it cannot be created: " + e, e);
        }
    }

    @Override
    public void contextDestroyed(ServletContextEvent event) {
        RunningChat.withdrawFrom(event.getServletContext());
        try {
            if (chat != null) {
                chat.close();
            }
        } finally {
            WebappReferences.release(RELEASER.getClassLoader());
        }
    }
}
