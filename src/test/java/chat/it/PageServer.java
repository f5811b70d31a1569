package chat.it;

import chat.dev.EmbeddedTomcat;

import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.util.Map;
import java.util.UUID;

/**
 * The exploded WAR as ROOT of an embedded Tomcat on a free loopback port, for the browser tests: a JUnit extension
 * ({@code @RegisterExtension static}) started before the class's tests on a database of its own and stopped after
 * them, which a test may stop and start again on the same port and database, or on a fresh database. Its settings
 * are system properties, which the embedded Tomcat's webapp reads; messages are not rate-limited, since tests
 * seed thousands at once.
 */
final class PageServer implements BeforeAllCallback, AfterAllCallback {

    static final Path WORK = Path.of(System.getProperty("it.browser.work", "target/browser"));
    static final Path SCREENSHOTS = WORK.resolve("screenshots");
    private static final Path WEBAPP = Path.of(System.getProperty("it.webapp", "target/chat"));

    private final Map<String, String> settings;
    private int port;
    private EmbeddedTomcat tomcat;

    PageServer() {
        this(Map.of());
    }

    /** With more settings (system properties) for the webapp, such as {@code chat.loginRoles}. */
    PageServer(Map<String, String> settings) {
        this.settings = Map.copyOf(settings);
    }

    @Override
    public void beforeAll(ExtensionContext context) throws Exception {
        System.setProperty("chat.messagesPerSecond", "0");
        settings.forEach(System::setProperty);
        try (ServerSocket free = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
            port = free.getLocalPort();
        }
        useNewDatabase();
    }

    String page() {
        return "http://127.0.0.1:" + port + "/";
    }

    int port() {
        return port;
    }

    void stop() throws Exception {
        if (tomcat != null) {
            tomcat.close();
            tomcat = null;
        }
    }

    /** Starts it again, on the same port and database. */
    void restart() throws Exception {
        stop();
        tomcat = EmbeddedTomcat.start(WEBAPP, "127.0.0.1", port, "", WORK.resolve("tomcat"));
    }

    /** Starts it again, on the same port and a new, empty database. */
    void useNewDatabase() throws Exception {
        stop();
        System.setProperty("chat.db.path", WORK.resolve("chat-" + UUID.randomUUID() + ".db").toAbsolutePath().toString());
        restart();
    }

    @Override
    public void afterAll(ExtensionContext context) throws Exception {
        stop();
        System.clearProperty("chat.db.path");
        System.clearProperty("chat.messagesPerSecond");
        settings.keySet().forEach(System::clearProperty);
    }
}
