package chat.testsupport;

import java.io.File;
import java.io.IOException;
import java.lang.ProcessBuilder.Redirect;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;

/**
 * A Tomcat of the test's own, in a child JVM that the test starts, kills with SIGKILL and starts again on the same
 * database: Arquillian's managed Tomcat cannot survive a kill. CATALINA_HOME is the unpacked stock distribution of
 * the failsafe execution ({@code it.tomcat.home}, read only); CATALINA_BASE is a fresh directory under
 * {@code target/kill9/} with that distribution's {@code conf/} (tomcat-conf's server.xml among it), the packaged
 * WAR as {@code webapps/ROOT.war}, and the database in {@code data/chat.db}. When the execution names a context
 * descriptor ({@code it.context.xml}, Tomcat 11: tomcat-conf's ROOT.xml with its {@code jdbc/chat} DataSource), it
 * goes to {@code conf/Catalina/localhost/ROOT.xml}, as an operator would copy it; otherwise the WAR's embedded pool
 * opens the same file through {@code -Dchat.db.path}.
 *
 * <p>The JVM is started like arquillian.xml starts the managed one: the same java, heap and add-opens, Tomcat's
 * Bootstrap, {@code -Dchat.http.port} on a free port of 127.0.0.1 (a new one for every start but
 * {@link #restartOnSamePort()}),
 * {@code -Dchat.shutdown.port=-1}, one-second pings, no message rate limit and no storage quota. What it prints goes to {@code logs/jvm-<n>.out}.
 */
public final class StockTomcat implements AutoCloseable {

    private static final String LOOPBACK = TestFiles.LOOPBACK;
    private static final Duration START_TIMEOUT = Duration.ofSeconds(90);
    private static final Duration KILL_TIMEOUT = Duration.ofSeconds(20);
    private static final Duration STOP_TIMEOUT = Duration.ofSeconds(30);
    private static final int SIGKILL_EXIT = 128 + 9;
    private static final List<String> ADD_OPENS = List.of(
            "--add-opens=java.base/java.lang=ALL-UNNAMED",
            "--add-opens=java.base/java.io=ALL-UNNAMED",
            "--add-opens=java.base/java.util=ALL-UNNAMED",
            "--add-opens=java.base/java.util.concurrent=ALL-UNNAMED",
            "--add-opens=java.rmi/sun.rmi.transport=ALL-UNNAMED");

    private final Path home;
    private final Path base;
    private final Path database;
    private final Thread killOnExit;
    /** Put before java on the command line: {@link #withoutDacOverride()}. */
    private final List<String> launcher = new ArrayList<>();
    /** What {@code GET /health} must answer before a start returns: {@link #startExpectingHealth(int)}. */
    private int expectedHealth = 200;
    private Process process;
    private Path output;
    private int port;
    private int starts;
    private List<String> extraJvmOptions = List.of();

    private StockTomcat(Path home, Path base, Path database) {
        this.home = home;
        this.base = base;
        this.database = database;
        this.killOnExit = new Thread(this::killQuietly, "stock-tomcat-kill");
        Runtime.getRuntime().addShutdownHook(killOnExit);
    }

    /**
     * A fresh CATALINA_BASE in {@code target/<name>/<distribution>/} (whatever was there is deleted), not started.
     */
    public static StockTomcat create(String name) throws IOException {
        Path home = Path.of(TestFiles.required("it.tomcat.home")).toAbsolutePath();
        Path war = Path.of(TestFiles.required("it.war")).toAbsolutePath();
        if (!Files.isRegularFile(home.resolve("bin/bootstrap.jar"))) {
            throw new IllegalStateException(home + " is not an unpacked Tomcat; failsafe runs after"
                    + " pre-integration-test");
        }
        if (!Files.isRegularFile(war)) {
            throw new IllegalStateException(war + " is missing; the integration tests run after 'mvn package'");
        }
        Path target = Path.of(System.getProperty("basedir", ".")).toAbsolutePath().resolve("target");
        Path base = target.resolve(name).resolve(home.getFileName().toString());
        TestFiles.deleteRecursively(base);
        for (String directory : List.of("conf", "webapps", "logs", "temp", "work", "data")) {
            Files.createDirectories(base.resolve(directory));
        }
        // The distribution's own files, without what a deployment may have left in its subdirectories.
        try (DirectoryStream<Path> conf = Files.newDirectoryStream(home.resolve("conf"), Files::isRegularFile)) {
            for (Path file : conf) {
                Files.copy(file, base.resolve("conf").resolve(file.getFileName()));
            }
        }
        String contextXml = System.getProperty("it.context.xml");
        if (contextXml != null && !contextXml.isBlank()) {
            Path descriptors = Files.createDirectories(base.resolve("conf/Catalina/localhost"));
            Files.copy(Path.of(contextXml), descriptors.resolve("ROOT.xml"));
        }
        Files.copy(war, base.resolve("webapps/ROOT.war"), StandardCopyOption.COPY_ATTRIBUTES);
        // Resolved, as /proc/<pid>/fd shows it; tomcat-conf's ROOT.xml names ${catalina.base}/data/chat.db.
        Path database = base.resolve("data").toRealPath().resolve("chat.db");
        return new StockTomcat(home, base, database);
    }

    public Path database() {
        return database;
    }

    /**
     * Deploys the chat with {@code descriptor} as its context descriptor from the next start on, as an operator
     * copies one to {@code conf/Catalina/localhost/ROOT.xml}.
     */
    public void contextDescriptor(String descriptor) throws IOException {
        Path descriptors = Files.createDirectories(base.resolve("conf/Catalina/localhost"));
        Files.writeString(descriptors.resolve("ROOT.xml"), descriptor, StandardCharsets.UTF_8);
    }

    /** Whether the database is in the container's DataSource (tomcat-conf's ROOT.xml) rather than the embedded pool. */
    public boolean usesContextDataSource() {
        return Files.isRegularFile(base.resolve("conf/Catalina/localhost/ROOT.xml"));
    }

    /** {@code http://127.0.0.1:<port>/}, the chat deployed as ROOT. */
    public URI uri() {
        return URI.create("http://" + LOOPBACK + ':' + port + '/');
    }

    public long pid() {
        return process.pid();
    }

    public boolean isRunning() {
        return process != null && process.isAlive();
    }

    /**
     * JVM options for the next starts, after the defaults: a later {@code -Xmx} or {@code -Dname=value} replaces
     * an earlier one.
     */
    public void jvmOptions(List<String> options) {
        extraJvmOptions = List.copyOf(options);
    }

    /** Starts the JVM on a free port and returns once {@code GET /health} answers 200. */
    public void start() throws IOException, InterruptedException {
        startOn(TestFiles.freePort());
    }

    /**
     * Starts the JVM again on the port of the previous start, as a server comes back where its clients knew it,
     * and returns once {@code GET /health} answers 200. Call {@link #stop()} or {@link #kill()} first. Tomcat's
     * listening socket takes the port over even with the old connections in TIME_WAIT (SO_REUSEADDR).
     */
    public void restartOnSamePort() throws IOException, InterruptedException {
        if (starts == 0) {
            throw new IllegalStateException("Tomcat never started: there is no port to start it on again");
        }
        startOn(port);
    }

    /**
     * Copies the packaged WAR over {@code webapps/ROOT.war} with a newer modification time, as an operator
     * deploys a new version: Tomcat's autoDeploy (its background check, every 10 s) undeploys the running chat,
     * which closes its sessions with 1001, and deploys the copy on the same port and database.
     */
    public void redeploy() throws IOException {
        Path deployed = base.resolve("webapps/ROOT.war");
        Path copy = base.resolve("temp/ROOT.war.new");
        Files.copy(Path.of(TestFiles.required("it.war")).toAbsolutePath(), copy, StandardCopyOption.REPLACE_EXISTING);
        Files.setLastModifiedTime(copy, java.nio.file.attribute.FileTime.fromMillis(
                Math.max(System.currentTimeMillis(), Files.getLastModifiedTime(deployed).toMillis() + 1_000)));
        Files.move(copy, deployed, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    private void startOn(int listenPort) throws IOException, InterruptedException {
        if (isRunning()) {
            throw new IllegalStateException("Tomcat is running already (pid " + process.pid() + ")");
        }
        port = listenPort;
        starts++;
        output = base.resolve("logs/jvm-" + starts + ".out");
        List<String> command = new ArrayList<>(launcher);
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.add("-Xmx512m");
        command.addAll(ADD_OPENS);
        command.add("-Dorg.apache.tomcat.websocket.DEFAULT_BUFFER_SIZE=512"); // as tomcat-conf/bin/setenv.sh
        command.add("-Dchat.http.address=" + LOOPBACK);
        command.add("-Dchat.http.port=" + port);
        command.add("-Dchat.shutdown.port=-1");
        command.add("-Dchat.db.path=" + database);
        command.add("-Dchat.db.busyTimeoutMs=500");
        command.add("-Dchat.pingIntervalSeconds=1");
        command.add("-Dchat.messagesPerSecond=0"); // senders keep a full window in flight
        command.add("-Dchat.maxStoredBytesPerAddressPerDay=0"); // every test's messages come from 127.0.0.1
        command.add("-Djava.util.logging.config.file=" + base.resolve("conf/logging.properties"));
        command.add("-Djava.util.logging.manager=org.apache.juli.ClassLoaderLogManager");
        command.add("-Dcatalina.home=" + home);
        command.add("-Dcatalina.base=" + base);
        command.add("-Djava.io.tmpdir=" + base.resolve("temp"));
        command.addAll(extraJvmOptions); // after the defaults above, so that they win
        command.add("-cp");
        command.add(home.resolve("bin/bootstrap.jar") + File.pathSeparator + home.resolve("bin/tomcat-juli.jar"));
        command.add("org.apache.catalina.startup.Bootstrap");
        command.add("start");
        process = new ProcessBuilder(command)
                .directory(base.toFile())
                .redirectErrorStream(true)
                .redirectOutput(Redirect.to(output.toFile()))
                .start();
        try {
            awaitHealthy();
        } catch (RuntimeException | Error e) {
            killQuietly();
            throw e;
        }
    }

    private void awaitHealthy() throws InterruptedException {
        Health.await(uri(), expectedHealth, START_TIMEOUT, this::output, () -> {
            if (!process.isAlive()) {
                throw new IllegalStateException("Tomcat exited with " + process.exitValue()
                        + " before /health answered\n" + output());
            }
        });
    }

    /**
     * SIGKILL ({@link Process#destroyForcibly()} on Linux), and waits until the JVM is gone: it exited with 137
     * (killed by signal 9) and no process with its pid is left.
     */
    public void kill() throws InterruptedException {
        long pid = process.pid();
        List<ProcessHandle> children = process.descendants().toList();
        process.destroyForcibly();
        children.forEach(ProcessHandle::destroyForcibly);
        if (!process.waitFor(KILL_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
            throw new IllegalStateException("Tomcat (pid " + pid + ") still runs " + KILL_TIMEOUT + " after SIGKILL");
        }
        if (process.exitValue() != SIGKILL_EXIT) {
            throw new IllegalStateException("Tomcat (pid " + pid + ") exited with " + process.exitValue()
                    + ", not " + SIGKILL_EXIT + " (SIGKILL)");
        }
        if (ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)) {
            throw new IllegalStateException("pid " + pid + " is still alive after SIGKILL");
        }
    }

    /**
     * The processes that have the database (or its -wal or -shm file) open right now, from {@code /proc/<pid>/fd}.
     * Processes of other users cannot be looked into and are not listed.
     */
    public Set<Long> processesWithDatabaseOpen() throws IOException {
        Set<Path> files = Set.of(database, database.resolveSibling(database.getFileName() + "-wal"),
                database.resolveSibling(database.getFileName() + "-shm"));
        Set<Long> holders = new TreeSet<>();
        try (DirectoryStream<Path> processes = Files.newDirectoryStream(Path.of("/proc"),
                p -> p.getFileName().toString().chars().allMatch(Character::isDigit))) {
            for (Path proc : processes) {
                try (DirectoryStream<Path> descriptors = Files.newDirectoryStream(proc.resolve("fd"))) {
                    for (Path descriptor : descriptors) {
                        try {
                            if (files.contains(Files.readSymbolicLink(descriptor))) {
                                holders.add(Long.parseLong(proc.getFileName().toString()));
                            }
                        } catch (IOException closedMeanwhile) {
                            // the descriptor was closed while we looked
                        }
                    }
                } catch (IOException | SecurityException notOursOrGone) {
                    // another user's process, or it ended while we looked
                }
            }
        }
        return holders;
    }

    /** The end of what the current JVM printed, for failure messages. */
    public String output() {
        if (output == null || !Files.isRegularFile(output)) {
            return "(no output)";
        }
        try {
            String text = Files.readString(output, StandardCharsets.UTF_8);
            String tail = text.length() > 20_000 ? "..." + text.substring(text.length() - 20_000) : text;
            return "--- " + output + "\n" + tail;
        } catch (IOException e) {
            return "--- " + output + ": " + e;
        }
    }

    /** SIGTERM, so that Tomcat stops the webapp; SIGKILL if it has not exited within {@link #STOP_TIMEOUT}. */
    @Override
    public void close() {
        try {
            if (isRunning()) {
                process.destroy();
                if (!process.waitFor(STOP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
                    killQuietly();
                }
            }
        } catch (InterruptedException e) {
            killQuietly();
            Thread.currentThread().interrupt();
        } finally {
            try {
                Runtime.getRuntime().removeShutdownHook(killOnExit);
            } catch (IllegalStateException shuttingDown) {
                // The hook is running or about to; it kills the JVM as well.
            }
        }
    }

    private void killQuietly() {
        if (process != null && process.isAlive()) {
            process.descendants().forEach(ProcessHandle::destroyForcibly);
            process.destroyForcibly();
            try {
                process.waitFor(KILL_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    public static final String SETPRIV = "/usr/bin/setpriv";
    public static final String DROP_DAC_CAPABILITIES = "--bounding-set=-dac_override,-dac_read_search";

    /**
     * Starts the JVMs from now on through {@code setpriv} without CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH, so
     * that file modes bind Tomcat even when the tests run as root: a {@code chmod 0444} makes the database read-only
     * for it.
     */
    public StockTomcat withoutDacOverride() {
        if (!Files.isExecutable(Path.of(SETPRIV))) {
            throw new IllegalStateException(SETPRIV + " (util-linux) is missing; it drops root's file capabilities");
        }
        launcher.clear();
        launcher.addAll(List.of(SETPRIV, DROP_DAC_CAPABILITIES));
        return this;
    }

    /** Like {@link #start()}, but returns once {@code GET /health} answers {@code status} (503: a store that refuses writes). */
    public void startExpectingHealth(int status) throws IOException, InterruptedException {
        expectedHealth = status;
        try {
            start();
        } finally {
            expectedHealth = 200;
        }
    }

    /**
     * SIGTERM, Tomcat's normal stop (its shutdown hook stops every webapp), and waits for the JVM to exit by itself.
     *
     * @return its exit code: 143 after a SIGTERM it handled
     */
    public int stop() throws InterruptedException {
        long pid = process.pid();
        process.destroy();
        if (!process.waitFor(STOP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
            killQuietly();
            throw new IllegalStateException("Tomcat (pid " + pid + ") did not stop within " + STOP_TIMEOUT
                    + " of SIGTERM and was killed\n" + output());
        }
        return process.exitValue();
    }

    /** The Tomcat JVM's base directory, {@code target/<name>/<distribution>/}. */
    public Path base() {
        return base;
    }
}
