package chat.dev;

import org.apache.catalina.Context;
import org.apache.catalina.LifecycleException;
import org.apache.catalina.Wrapper;
import org.apache.catalina.servlets.DefaultServlet;
import org.apache.catalina.realm.MemoryRealm;
import org.apache.catalina.startup.Tomcat;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Runs the exploded WAR ({@code target/chat}) in an embedded Tomcat: {@code mvn -DskipTests package exec:java}.
 * System properties: {@code http.port} (8080), {@code http.address} (127.0.0.1); every {@code chat.*} setting as
 * in README; {@code chat.dev.users}, a tomcat-users.xml whose users may log in. Without {@code CHAT_DB_PATH} the database is {@code target/embedded-tomcat/data/chat.db}.
 */
public final class EmbeddedTomcat implements AutoCloseable {

    private final Tomcat tomcat;
    private final int port;

    private EmbeddedTomcat(Tomcat tomcat, int port) {
        this.tomcat = tomcat;
        this.port = port;
    }

    /** Starts Tomcat on {@code address:port} (0 picks a free port) with the webapp under {@code contextPath}. */
    public static EmbeddedTomcat start(Path webapp, String address, int port, String contextPath, Path baseDir)
            throws LifecycleException {
        if (!Files.isDirectory(webapp.resolve("WEB-INF"))) {
            throw new IllegalArgumentException(webapp.toAbsolutePath()
                    + " is not an exploded webapp; run 'mvn -DskipTests package' first");
        }
        Tomcat tomcat = new Tomcat();
        tomcat.setBaseDir(baseDir.toAbsolutePath().toString());
        tomcat.setPort(port);
        tomcat.getConnector().setProperty("address", address);
        tomcat.setAddDefaultWebXmlToWebapp(false);
        Context context = tomcat.addWebapp(contextPath, webapp.toAbsolutePath().toString());
        // exec:java runs this class in its own class loader; the webapp must see Tomcat's classes through it.
        context.setParentClassLoader(EmbeddedTomcat.class.getClassLoader());
        // What conf/web.xml gives a stock Tomcat, less JSP: static files and their content types.
        Wrapper files = Tomcat.addServlet(context, "default", DefaultServlet.class.getName());
        files.setLoadOnStartup(1);
        context.addServletMappingDecoded("/", "default");
        Tomcat.addDefaultMimeTypeMappings(context);
        String users = System.getProperty("chat.dev.users");
        if (users != null && !users.isBlank()) {
            // For trying chat.loginRoles: the users of a tomcat-users.xml, such as tomcat-conf's demo users.
            MemoryRealm realm = new MemoryRealm();
            realm.setPathname(Path.of(users).toAbsolutePath().toString());
            context.setRealm(realm);
        }
        tomcat.start();
        if (!context.getState().isAvailable()) {
            tomcat.stop();
            tomcat.destroy();
            throw new IllegalStateException("The chat webapp failed to start; see the log above");
        }
        return new EmbeddedTomcat(tomcat, tomcat.getConnector().getLocalPort());
    }

    public int port() {
        return port;
    }

    @Override
    public void close() throws LifecycleException {
        tomcat.stop();
        tomcat.destroy();
    }

    public static void main(String[] args) throws Exception {
        Path webapp = Path.of(args.length > 0 ? args[0] : "target/chat");
        String address = System.getProperty("http.address", "127.0.0.1");
        int port = Integer.parseInt(System.getProperty("http.port", "8080"));
        EmbeddedTomcat server = start(webapp, address, port, "", Path.of("target", "embedded-tomcat"));
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                server.close();
            } catch (LifecycleException e) {
                e.printStackTrace();
            }
        }, "chat-shutdown"));
        System.out.println("Chat running at http://" + (address.equals("127.0.0.1") ? "localhost" : address)
                + ':' + server.port() + "/  (Ctrl-C stops it)");
        server.tomcat.getServer().await();
    }
}
