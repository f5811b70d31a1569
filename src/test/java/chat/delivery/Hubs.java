package chat.delivery;

import chat.config.ChatConfig;
import chat.metrics.ChatMetrics;
import chat.store.PostgresMessageStore;
import chat.store.PostgresPool;
import chat.store.SqliteMessageStore;
import chat.store.SqlitePool;
import com.zaxxer.hikari.HikariDataSource;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Chat hubs on real SQLite files (or a real PostgreSQL) and the recording sinks of their connections ({@code @RegisterExtension}), closed
 * after each test, sinks first. Messages are not rate-limited unless a test's settings say so.
 */
final class Hubs implements AfterEachCallback {

    private final List<AutoCloseable> toClose = new ArrayList<>();
    private ChatMetrics metrics;

    /** A hub on {@code directory/chat.db} with {@code settings} over the defaults. */
    ChatHub open(Path directory, Map<String, String> settings) throws Exception {
        Map<String, String> values = new HashMap<>(settings);
        values.put("chat.db.path", directory.resolve("chat.db").toString());
        values.putIfAbsent("chat.messagesPerSecond", "0");
        ChatConfig config = ChatConfig.of(values);
        HikariDataSource pool = SqlitePool.open(config);
        metrics = ChatMetrics.unregistered();
        ChatHub hub = new ChatHub(config, SqliteMessageStore.open(pool, config.durability(), pool), metrics);
        toClose.add(hub);
        return hub;
    }

    /**
     * A hub on PostgreSQL at {@code url}, a node of its own with a pool of its own, with {@code settings} over the
     * defaults.
     */
    ChatHub openOnPostgres(String url, String user, String password, Map<String, String> settings) throws Exception {
        Map<String, String> values = new HashMap<>(settings);
        values.put("chat.db.url", url);
        values.put("chat.db.user", user);
        values.put("chat.db.password", password);
        values.putIfAbsent("chat.messagesPerSecond", "0");
        values.putIfAbsent("chat.db.pollMillis", "200");
        ChatConfig config = ChatConfig.of(values);
        HikariDataSource pool = PostgresPool.open(config);
        metrics = ChatMetrics.unregistered();
        ChatHub hub = new ChatHub(config, PostgresMessageStore.open(pool, pool,
                PostgresPool.unpooled(url, user, password)), metrics);
        toClose.add(hub);
        return hub;
    }

    /** The metrics of the hub opened last. */
    ChatMetrics metrics() {
        return metrics;
    }

    RecordingSink sink() {
        RecordingSink sink = new RecordingSink();
        toClose.add(sink);
        return sink;
    }

    @Override
    public void afterEach(ExtensionContext context) throws Exception {
        for (int i = toClose.size() - 1; i >= 0; i--) {
            toClose.get(i).close();
        }
        toClose.clear();
    }
}
