package chat.testsupport;

import org.jboss.shrinkwrap.api.ShrinkWrap;
import org.jboss.shrinkwrap.api.importer.ZipImporter;
import org.jboss.shrinkwrap.api.spec.WebArchive;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Map;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.sqlite.SQLiteDataSource;

/** The WAR that {@code mvn package} built, deployed under a sub-path, and ways to look at it from outside. */
public final class ChatWar {

    public static final String CONTEXT = "chat-app";
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();

    private ChatWar() {
    }

    public static WebArchive packaged() {
        return packaged(CONTEXT);
    }

    /** The same under another context path, for a test that must tell its own deployment from the others'. */
    public static WebArchive packaged(String context) {
        File war = new File(System.getProperty("it.war", "target/chat.war"));
        if (!war.isFile()) {
            throw new IllegalStateException(war + " is missing; the integration tests run after 'mvn package'");
        }
        WebArchive archive = ShrinkWrap.create(ZipImporter.class, context + ".war").importFrom(war).as(WebArchive.class);
        String contextXml = System.getProperty("it.context.xml");
        if (contextXml != null) {
            // The operator's context descriptor from tomcat-conf/, carried in the WAR so that the manager uses it.
            archive.addAsManifestResource(new File(contextXml), "context.xml");
            createDatabaseDirectory();
        }
        return archive;
    }

    /**
     * The same WAR as ROOT.war, with a database of its own (a context parameter in META-INF/context.xml), so that
     * it never shares a file with the sub-path deployment.
     */
    public static WebArchive packagedAsRoot() {
        return packagedAs("ROOT.war", "root-chat.db", Map.of());
    }

    /**
     * The same WAR under another name, with its own database file next to the tests' one and the given settings,
     * all as context parameters in META-INF/context.xml (they take precedence over the JVM's system properties).
     */
    public static WebArchive packagedAs(String archiveName, String databaseFileName, Map<String, String> settings) {
        File war = new File(System.getProperty("it.war", "target/chat.war"));
        Map<String, String> parameters = new java.util.TreeMap<>(settings);
        parameters.put("chat.db.path", Path.of(System.getProperty("chat.db.path")).resolveSibling(databaseFileName).toString());
        StringBuilder context = new StringBuilder("<Context>");
        parameters.forEach((name, value) -> context.append("<Parameter name=\"").append(name).append("\" value=\"")
                .append(value).append("\" override=\"false\"/>"));
        context.append("</Context>");
        return ShrinkWrap.create(ZipImporter.class, archiveName).importFrom(war).as(WebArchive.class)
                .addAsManifestResource(new org.jboss.shrinkwrap.api.asset.StringAsset(context.toString()), "context.xml");
    }

    private static void createDatabaseDirectory() {
        try {
            Files.createDirectories(Path.of(System.getProperty("chat.db.path")).getParent());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static HttpResponse<String> get(URI uri) throws IOException, InterruptedException {
        return HTTP.send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(10)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    /** The newest stored offset, as /health reports it. */
    public static long latestOffset(URI base) throws IOException, InterruptedException {
        HttpResponse<String> health = get(base.resolve("health"));
        if (health.statusCode() != 200) {
            throw new IllegalStateException("/health answered " + health.statusCode() + ": " + health.body());
        }
        return new ObjectMapper().readTree(health.body()).path("offset").asLong();
    }

    /**
     * One sample of {@code /metrics}, e.g. {@code chat_replayed_messages_total{source="memory"}}.
     *
     * @throws IllegalStateException if /metrics does not answer 200 or has no such sample
     */
    public static double metric(URI base, String sample) throws IOException, InterruptedException {
        HttpResponse<String> metrics = get(base.resolve("metrics"));
        if (metrics.statusCode() != 200) {
            throw new IllegalStateException("/metrics answered " + metrics.statusCode() + ": " + metrics.body());
        }
        for (String line : metrics.body().split("\n")) {
            if (line.startsWith(sample + " ")) {
                return Double.parseDouble(line.substring(sample.length() + 1).trim());
            }
        }
        throw new IllegalStateException("/metrics has no sample " + sample + ":\n" + metrics.body());
    }

    /**
     * A plain JDBC connection to the database the deployed app writes, for checking what it committed: the
     * PostgreSQL of the run when there is one ({@code it.db.url}, see {@link PostgresSession}), else the SQLite file.
     * The server runs in its own JVM, so SQLite's file locks work between it and this connection.
     */
    public static Connection database() throws SQLException {
        String url = System.getProperty("it.db.url");
        if (url != null) {
            return DriverManager.getConnection(url, System.getProperty("it.db.user"),
                    System.getProperty("it.db.password"));
        }
        SQLiteDataSource file = new SQLiteDataSource();
        file.setUrl("jdbc:sqlite:" + Path.of(System.getProperty("chat.db.path")));
        return file.getConnection();
    }

    /** Whether the deployed app stores in PostgreSQL. */
    public static boolean onPostgres() {
        return System.getProperty("it.db.url") != null;
    }

    /**
     * Makes the database refuse the app's writes until {@link #takeWrites}: SQLite's write lock held by
     * {@code db}, or, on PostgreSQL, the database made read-only (as after a failover to a standby) and the app's
     * sessions ended, so that its pool opens read-only ones.
     */
    public static void refuseWrites(Connection db) throws SQLException {
        try (Statement statement = db.createStatement()) {
            if (onPostgres()) {
                statement.execute("ALTER DATABASE " + db.getCatalog() + " SET default_transaction_read_only = on");
                endAppSessions(statement);
            } else {
                statement.execute("BEGIN IMMEDIATE");
            }
        }
    }

    /** Undoes {@link #refuseWrites}. */
    public static void takeWrites(Connection db) throws SQLException {
        try (Statement statement = db.createStatement()) {
            if (onPostgres()) {
                statement.execute("ALTER DATABASE " + db.getCatalog() + " RESET default_transaction_read_only");
                endAppSessions(statement);
            } else {
                statement.execute("ROLLBACK");
            }
        }
    }

    private static void endAppSessions(Statement statement) throws SQLException {
        statement.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database()"
                + " AND pid <> pg_backend_pid() AND application_name = 'chat'");
    }

    /** {@code /health} answers 200 again once the store takes writes: at once on SQLite, once the pool has let go of
     * the sessions {@link #takeWrites} ended on PostgreSQL. */
    public static void awaitHealthy(URI base) throws InterruptedException {
        Health.await(base, 200, Duration.ofSeconds(20));
    }
}
