package chat.it;

import chat.dev.EmbeddedTomcat;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.util.UUID;

/**
 * The exploded WAR as ROOT of an embedded Tomcat on a free loopback port, for the browser tests: stopped and started
 * again on the same port and database, or on a fresh database. Its settings are system properties, which the
 * embedded Tomcat's webapp reads.
 */
final class PageServer implements AutoCloseable {

    static final Path WORK = Path.of(System.getProperty("it.browser.work", "target/browser"));
    static final Path SCREENSHOTS = WORK.resolve("screenshots");
    private static final Path WEBAPP = Path.of(System.getProperty("it.webapp", "target/chat"));

    private final int port;
    private EmbeddedTomcat tomcat;

    private PageServer(int port) {
        this.port = port;
    }

    /** A server on a database of its own; messages are not rate-limited, since tests seed thousands at once. */
    static PageServer start() throws Exception {
        System.setProperty("chat.messagesPerSecond", "0");
        int port;
        try (ServerSocket free = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
            port = free.getLocalPort();
        }
        PageServer server = new PageServer(port);
        server.useNewDatabase();
        return server;
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
    public void close() throws Exception {
        stop();
        System.clearProperty("chat.db.path");
        System.clearProperty("chat.messagesPerSecond");
    }
}
