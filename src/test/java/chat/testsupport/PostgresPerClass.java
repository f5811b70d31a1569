package chat.testsupport;

import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * A {@link Postgres} for one test class ({@code @RegisterExtension static}), started before its first test and
 * stopped after its last, with a fresh empty database for each test that asks.
 */
public final class PostgresPerClass implements BeforeAllCallback, AfterAllCallback {

    private final String name;
    private final AtomicInteger databases = new AtomicInteger();
    private Postgres server;

    /** @param name the server's directory under {@code target/}, and the prefix of its databases' names */
    public PostgresPerClass(String name) {
        this.name = name;
    }

    @Override
    public void beforeAll(ExtensionContext context) throws Exception {
        server = Postgres.start(name);
    }

    @Override
    public void afterAll(ExtensionContext context) {
        if (server != null) {
            server.close();
            server = null;
        }
    }

    public Postgres server() {
        if (server == null) {
            throw new IllegalStateException("PostgreSQL " + name + " runs only while its test class does");
        }
        return server;
    }

    /** A new empty database, owned by {@link Postgres#USER}: its JDBC URL. */
    public String freshDatabase() throws java.sql.SQLException {
        return server().createDatabase(name.replace('-', '_') + '_' + databases.incrementAndGet());
    }
}
