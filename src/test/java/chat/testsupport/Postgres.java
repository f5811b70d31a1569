package chat.testsupport;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.ProcessBuilder.Redirect;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserPrincipalLookupService;
import java.nio.file.attribute.UserPrincipalNotFoundException;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * A PostgreSQL server of the test's own, for the chat nodes that share one database: a fresh cluster (initdb) in
 * {@code target/<name>/postgres/data/}, listening only on 127.0.0.1 on a free port, with a role {@code chat}
 * (password {@code chat}) that owns a database {@code chat}. Tests stop it, kill it with SIGKILL and start it again
 * on the same data and the same port, so that the nodes reconnect to the URL they were given.
 *
 * <p>PostgreSQL refuses to run as root. When the tests run as root (CI), initdb, pg_ctl and the server run as the
 * {@code postgres} user that the Debian package creates, and the instance directory is chowned to it; otherwise
 * (a developer's machine) they run as the current user. The server is the test JVM's own child (through
 * {@code setpriv}, which execs, rather than {@code pg_ctl start}, which daemonizes): the JVM reaps it after a
 * SIGKILL, so its stale {@code postmaster.pid} cannot name a zombie that blocks the next start, whatever the
 * container's init does with orphans.
 *
 * <p>Passwords are checked for real: TCP connections authenticate with scram-sha-256 (the superuser
 * {@code postgres} too, with a random password), only the Unix socket in the instance directory trusts its local
 * users, for a developer's {@code psql -h target/<name>/postgres -p <port> -U postgres}. fsync and
 * synchronous_commit are on (PostgreSQL's defaults, set explicitly): a test that kills the server must find every
 * acknowledged commit. The binaries are those of the highest {@code /usr/lib/postgresql/<version>/bin} (Debian's
 * package {@code postgresql}), or of {@code -Dit.postgres.bin}.
 */
public final class Postgres implements AutoCloseable {

    public static final String USER = "chat";
    public static final String PASSWORD = "chat";
    public static final String DATABASE = "chat";
    /** The OS user of the Debian package, who runs the server when the tests run as root. */
    public static final String OS_USER = "postgres";
    private static final String SUPERUSER = "postgres";
    private static final String LOOPBACK = TestFiles.LOOPBACK;
    private static final Path DEBIAN_VERSIONS = Path.of("/usr/lib/postgresql");
    private static final String SETPRIV = StockTomcat.SETPRIV;
    private static final Duration INITDB_TIMEOUT = Duration.ofSeconds(60);
    private static final Duration START_TIMEOUT = Duration.ofSeconds(60);
    private static final Duration STOP_TIMEOUT = Duration.ofSeconds(60);
    private static final Duration KILL_TIMEOUT = Duration.ofSeconds(20);
    /** A Unix socket's path must fit sun_path: 108 bytes with the terminating NUL. */
    private static final int MAX_SOCKET_PATH = 107;
    private static final Pattern DATABASE_NAME = Pattern.compile("[a-z_][a-z0-9_]{0,62}");

    private final Path bin;
    private final boolean root;
    /** {@code target/<name>/postgres/} (or a directory in /tmp, see {@link #instanceDirectory}). */
    private final Path directory;
    private final boolean temporary;
    private final Path data;
    private final Path serverLog;
    private final int port;
    private final String superuserPassword;
    private final Thread killOnExit;
    private Process process;
    private boolean closed;

    private Postgres(Path bin, boolean root, Path directory, boolean temporary, int port, String superuserPassword)
            throws IOException {
        this.bin = bin;
        this.root = root;
        this.directory = directory;
        this.temporary = temporary;
        this.data = directory.resolve("data").toRealPath();
        this.serverLog = directory.resolve("server.log");
        this.port = port;
        this.superuserPassword = superuserPassword;
        this.killOnExit = new Thread(this::killOnExit, "postgres-kill");
        Runtime.getRuntime().addShutdownHook(killOnExit);
    }

    /**
     * A new cluster in {@code target/<name>/postgres/} (whatever was there is deleted, a server left running in it
     * by a JVM that was killed is killed first), started; returns once it accepts the chat's connections.
     */
    public static Postgres start(String name) throws IOException, InterruptedException {
        Path bin = binaries();
        boolean root = ProcessHandle.current().info().user().map("root"::equals).orElse(false);
        Path target = Path.of(System.getProperty("basedir", ".")).toAbsolutePath().resolve("target");
        Path wanted = target.resolve(name).resolve("postgres");
        if (Files.isDirectory(wanted.resolve("data"))) {
            awaitNoProcesses(wanted.resolve("data").toRealPath());
        }
        TestFiles.deleteRecursively(wanted);
        Path directory = instanceDirectory(wanted, root);
        boolean temporary = !directory.equals(wanted);
        int port = TestFiles.freePort();
        byte[] secret = new byte[16];
        new SecureRandom().nextBytes(secret);
        String superuserPassword = HexFormat.of().formatHex(secret);
        try {
            initdb(bin, root, directory, superuserPassword);
            configure(directory, port);
        } catch (IOException | InterruptedException | RuntimeException | Error e) {
            if (temporary) {
                TestFiles.deleteRecursively(directory);
            }
            throw e;
        }
        Postgres postgres = new Postgres(bin, root, directory, temporary, port, superuserPassword);
        try {
            postgres.launch();
            try (Connection connection = postgres.connectAsSuperuser("postgres");
                 Statement statement = connection.createStatement()) {
                statement.execute("CREATE ROLE " + USER + " LOGIN PASSWORD '" + PASSWORD + "'");
                statement.execute("CREATE DATABASE " + DATABASE + " OWNER " + USER);
            }
        } catch (SQLException e) {
            String log = postgres.log();
            postgres.close();
            throw new IllegalStateException("Creating the role and the database " + DATABASE + " failed: " + e
                    + "\n" + log, e);
        } catch (IOException | InterruptedException | RuntimeException | Error e) {
            postgres.close();
            throw e;
        }
        return postgres;
    }

    /** {@code jdbc:postgresql://127.0.0.1:<port>/chat}. */
    public String jdbcUrl() {
        return jdbcUrl(DATABASE);
    }

    public String user() {
        return USER;
    }

    public String password() {
        return PASSWORD;
    }

    /** The same for every start: {@link #restart()} listens on it again. */
    public int port() {
        return port;
    }

    /** The cluster's data directory. */
    public Path dataDirectory() {
        return data;
    }

    /** The postmaster's pid. */
    public long pid() {
        requireRunning();
        return process.pid();
    }

    /** A new empty database owned by {@code chat}; returns its JDBC URL. */
    public String createDatabase(String name) throws SQLException {
        if (!DATABASE_NAME.matcher(name).matches()) {
            throw new IllegalArgumentException("'" + name + "' is not a database name for the tests: lower-case"
                    + " letters, digits and _, at most 63, not starting with a digit");
        }
        requireRunning();
        try (Connection connection = connectAsSuperuser("postgres");
             Statement statement = connection.createStatement()) {
            statement.execute("CREATE DATABASE " + name + " OWNER " + USER);
        }
        return jdbcUrl(name);
    }

    /** A connection to {@link #jdbcUrl()} as {@code chat}, over TCP with its password. */
    public Connection connect() throws SQLException {
        return connect(jdbcUrl());
    }

    /** To {@code url}, one of {@link #createDatabase}'s, as chat over TCP with its password. */
    public Connection connect(String url) throws SQLException {
        return DriverManager.getConnection(url, credentials(USER, PASSWORD, 10));
    }

    /** Whether the postmaster runs (it may still be recovering, not yet accepting connections). */
    public boolean isRunning() {
        return process != null && process.isAlive();
    }

    /**
     * pg_ctl's fast shutdown (sessions are ended, a checkpoint is written), and waits until the postmaster has
     * exited. The data stays, for {@link #restart()}.
     */
    public void stop() throws InterruptedException {
        requireRunning();
        long pid = process.pid();
        String output = pgCtlStop("fast");
        if (!process.waitFor(KILL_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
            killQuietly();
            throw new IllegalStateException("PostgreSQL (pid " + pid + ") still ran after pg_ctl stop -m fast,"
                    + " killed it\n" + output + "\n" + log());
        }
        awaitNoProcesses();
    }

    /** Starts the server again on the same data and the same port; returns once it accepts connections. */
    public void restart() throws IOException, InterruptedException {
        if (closed) {
            throw new IllegalStateException("PostgreSQL in " + directory + " was closed, its data deleted");
        }
        if (isRunning()) {
            throw new IllegalStateException("PostgreSQL is running already (pid " + process.pid() + ")");
        }
        launch();
    }

    /**
     * SIGKILL to the postmaster and then to every process of the cluster (its backends and background workers,
     * which would otherwise hold the shared memory and block the next start): a crash with no shutdown checkpoint,
     * so the next start recovers from the WAL. Waits until they are all gone.
     */
    public void kill() throws InterruptedException {
        requireRunning();
        long pid = process.pid();
        process.destroyForcibly();
        if (!process.waitFor(KILL_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
            throw new IllegalStateException("PostgreSQL (pid " + pid + ") still runs " + KILL_TIMEOUT
                    + " after SIGKILL");
        }
        // Its children see the postmaster gone only when they next wait; they are killed as well, found by their
        // working directory (now that the postmaster cannot fork, no new one can appear).
        awaitNoProcesses();
    }

    /** The end of the server's log (everything the postmaster printed, every start), for failure messages. */
    public String log() {
        if (!Files.isRegularFile(serverLog)) {
            return "(no server log)";
        }
        try {
            String text = Files.readString(serverLog, StandardCharsets.UTF_8);
            String tail = text.length() > 20_000 ? "..." + text.substring(text.length() - 20_000) : text;
            return "--- " + serverLog + "\n" + tail;
        } catch (IOException e) {
            return "--- " + serverLog + ": " + e;
        }
    }

    /** pg_ctl's immediate shutdown (SIGKILL if that fails), then deletes the instance directory. Idempotent. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            if (isRunning()) {
                try {
                    pgCtlStop("immediate");
                    process.waitFor(KILL_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
                } catch (IllegalStateException e) {
                    // SIGKILL below
                }
                killQuietly();
            }
            awaitNoProcesses();
            TestFiles.deleteRecursively(directory);
        } catch (InterruptedException e) {
            killQuietly();
            Thread.currentThread().interrupt();
        } catch (IOException e) {
            throw new UncheckedIOException("Deleting " + directory + " failed", e);
        } finally {
            try {
                Runtime.getRuntime().removeShutdownHook(killOnExit);
            } catch (IllegalStateException shuttingDown) {
                // The hook is running or about to; it kills the server as well.
            }
        }
    }

    /**
     * {@code start <name>}: a server in {@code target/<name>/postgres/} for trying things by hand; prints its JDBC
     * URL and runs until standard input closes.
     */
    public static void main(String[] args) throws IOException, InterruptedException {
        if (args.length != 2 || !args[0].equals("start")) {
            System.err.println("usage: Postgres start <name>   (runs until standard input closes)");
            System.exit(2);
        }
        try (Postgres postgres = start(args[1])) {
            System.out.println(postgres.jdbcUrl() + " user " + postgres.user() + " password " + postgres.password()
                    + " (data in " + postgres.dataDirectory() + ")");
            System.out.flush();
            while (System.in.read() != -1) {
                // until EOF
            }
        }
    }

    private String jdbcUrl(String database) {
        return "jdbc:postgresql://" + LOOPBACK + ':' + port + '/' + database;
    }

    private Connection connectAsSuperuser(String database) throws SQLException {
        return DriverManager.getConnection(jdbcUrl(database), credentials(SUPERUSER, superuserPassword, 10));
    }

    private static Properties credentials(String user, String password, int connectTimeoutSeconds) {
        Properties properties = new Properties();
        properties.setProperty("user", user);
        properties.setProperty("password", password);
        properties.setProperty("connectTimeout", Integer.toString(connectTimeoutSeconds));
        properties.setProperty("loginTimeout", Integer.toString(connectTimeoutSeconds));
        return properties;
    }

    private void requireRunning() {
        if (!isRunning()) {
            throw new IllegalStateException("PostgreSQL in " + directory + " is not running"
                    + (process == null ? "" : " (exited with " + process.exitValue() + ")"));
        }
    }

    /** The postmaster as the JVM's child; returns once the superuser can connect over TCP. */
    private void launch() throws IOException, InterruptedException {
        process = new ProcessBuilder(command(bin.resolve("postgres").toString(), "-D", data.toString()))
                .directory(data.toFile())
                .redirectErrorStream(true)
                .redirectOutput(Redirect.appendTo(serverLog.toFile()))
                .redirectInput(Redirect.from(Path.of("/dev/null").toFile()))
                .start();
        long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
        String last = "no attempt";
        while (true) {
            // Crash recovery after kill() counts: the server refuses connections until it has replayed the WAL.
            try (Connection ignored = DriverManager.getConnection(jdbcUrl("postgres"),
                    credentials(SUPERUSER, superuserPassword, 2))) {
                return;
            } catch (SQLException e) {
                last = e.getMessage();
            }
            if (!process.isAlive()) {
                throw new IllegalStateException("PostgreSQL exited with " + process.exitValue() + " before it"
                        + " accepted connections on " + LOOPBACK + ':' + port + "\n" + log());
            }
            if (System.nanoTime() - deadline > 0) {
                killQuietly();
                throw new IllegalStateException("PostgreSQL did not accept connections on " + LOOPBACK + ':' + port
                        + " within " + START_TIMEOUT + " (last: " + last + "), killed it\n" + log());
            }
            Thread.sleep(50);
        }
    }

    /** pg_ctl stop in {@code mode}, which waits until the postmaster has removed its pid file; returns its output. */
    private String pgCtlStop(String mode) throws InterruptedException {
        List<String> command = command(bin.resolve("pg_ctl").toString(), "stop", "-D", data.toString(),
                "-m", mode, "-w", "-t", Long.toString(STOP_TIMEOUT.toSeconds()));
        try {
            return run(command, directory, STOP_TIMEOUT.plusSeconds(10), "pg_ctl stop -m " + mode);
        } catch (IOException e) {
            throw new IllegalStateException("pg_ctl stop -m " + mode + " could not run: " + e, e);
        }
    }

    /** The command as the server's user: through setpriv when the tests run as root. */
    private List<String> command(String... command) {
        return asServerUser(root, command);
    }

    private static List<String> asServerUser(boolean root, String... command) {
        List<String> full = new ArrayList<>();
        if (root) {
            if (!Files.isExecutable(Path.of(SETPRIV))) {
                throw new IllegalStateException(SETPRIV + " (util-linux) is missing; as root the tests run"
                        + " PostgreSQL as the user " + OS_USER + " through it");
            }
            // setpriv execs (runuser would stay in between as a PAM session's parent), and from root to another
            // uid the capabilities go.
            full.addAll(List.of(SETPRIV, "--reuid=" + OS_USER, "--regid=" + OS_USER, "--init-groups", "--"));
        }
        full.addAll(List.of(command));
        return full;
    }

    /**
     * Where the cluster goes: {@code wanted}, unless the tests run as root and the user {@code postgres} cannot
     * reach it (a checkout under a home directory of mode 0700, say), then a new directory in java.io.tmpdir.
     * Whether it can is asked of the kernel, as that user ({@code test -w -x}), rather than worked out from the
     * modes of the parents, which would miss ACLs and other users' groups.
     */
    private static Path instanceDirectory(Path wanted, boolean root) throws IOException, InterruptedException {
        Files.createDirectories(wanted);
        if (!root) {
            return wanted;
        }
        chownToServerUser(wanted);
        if (serverUserCanUse(wanted)) {
            return wanted;
        }
        TestFiles.deleteRecursively(wanted);
        Path temporary = Files.createTempDirectory("chat-postgres-");
        chownToServerUser(temporary);
        if (!serverUserCanUse(temporary)) {
            TestFiles.deleteRecursively(temporary);
            throw new IllegalStateException("The user " + OS_USER + " can write neither to " + wanted + " nor to "
                    + temporary + "; PostgreSQL refuses to run as root and needs a directory of its own");
        }
        return temporary;
    }

    private static boolean serverUserCanUse(Path directory) throws IOException, InterruptedException {
        List<String> test = asServerUser(true, "/usr/bin/test", "-w", directory.toString(), "-a", "-x",
                directory.toString());
        Process process = new ProcessBuilder(test).redirectErrorStream(true).redirectOutput(Redirect.DISCARD)
                .directory(Path.of("/").toFile()).start();
        if (!process.waitFor(10, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new IllegalStateException(String.join(" ", test) + " did not finish within 10 s");
        }
        return process.exitValue() == 0;
    }

    private static void chownToServerUser(Path path) throws IOException {
        UserPrincipalLookupService users = path.getFileSystem().getUserPrincipalLookupService();
        PosixFileAttributeView view = Files.getFileAttributeView(path, PosixFileAttributeView.class);
        try {
            view.setOwner(users.lookupPrincipalByName(OS_USER));
            view.setGroup(users.lookupPrincipalByGroupName(OS_USER));
        } catch (UserPrincipalNotFoundException e) {
            throw new IllegalStateException("There is no user " + OS_USER + "; the Debian package postgresql"
                    + " creates it (bash .ci/run installs the package)", e);
        }
    }

    /**
     * initdb in {@code directory/data}: UTF-8 in the C locale (whatever the machine's LANG), the superuser
     * {@code postgres} with {@code superuserPassword} (passed in a file, removed afterwards), scram-sha-256 for TCP
     * and trust on the Unix socket. {@code --no-sync}: the files initdb writes need not reach the disk, a test's
     * cluster does not outlive the machine's page cache; the server itself does fsync.
     */
    private static void initdb(Path bin, boolean root, Path directory, String superuserPassword)
            throws IOException, InterruptedException {
        Path data = Files.createDirectory(directory.resolve("data"));
        Path passwordFile = Files.createFile(directory.resolve("superuser.password"),
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        Files.writeString(passwordFile, superuserPassword + "\n", StandardCharsets.UTF_8);
        if (root) {
            chownToServerUser(data);
            chownToServerUser(passwordFile);
        }
        try {
            run(asServerUser(root, bin.resolve("initdb").toString(), "-D", data.toString(),
                    "-U", SUPERUSER, "--pwfile=" + passwordFile,
                    "--auth-host=scram-sha-256", "--auth-local=trust",
                    "--encoding=UTF8", "--locale=C", "--no-sync", "--no-instructions"),
                    directory, INITDB_TIMEOUT, "initdb");
        } finally {
            Files.deleteIfExists(passwordFile);
        }
    }

    /** Settings appended to postgresql.conf, so that a restart (or a developer's pg_ctl) finds them there. */
    private static void configure(Path directory, int port) throws IOException {
        Path socket = directory.resolve(".s.PGSQL." + port);
        boolean socketFits = socket.toString().getBytes(StandardCharsets.UTF_8).length <= MAX_SOCKET_PATH;
        String settings = "\n# chat.testsupport.Postgres\n"
                + "listen_addresses = '" + LOOPBACK + "'\n"
                + "port = " + port + "\n"
                // Not /var/run/postgresql, which may be missing or not writable; none at all if the path is too
                // long for a Unix socket (the tests connect over TCP).
                + "unix_socket_directories = '" + (socketFits ? directory.toString().replace("'", "''") : "") + "'\n"
                + "max_connections = 200\n"
                + "shared_buffers = 32MB\n"
                // The defaults, stated: a test that kills the server must find every acknowledged commit.
                + "fsync = on\n"
                + "synchronous_commit = on\n"
                + "full_page_writes = on\n"
                + "logging_collector = off\n"
                + "log_line_prefix = '%m [%p] %q%u@%d '\n";
        // Appending keeps the file's owner (the server's user).
        Files.writeString(directory.resolve("data/postgresql.conf"), settings, StandardCharsets.UTF_8,
                StandardOpenOption.APPEND);
    }

    /** Runs {@code command} in {@code directory} to its end; returns its output, throws if it fails or hangs. */
    private static String run(List<String> command, Path directory, Duration timeout, String what)
            throws IOException, InterruptedException {
        // To a file, not a pipe: nothing that outlives the command can hold the JVM's read open.
        Path output = Files.createTempFile("chat-postgres-", ".out");
        try {
            Process process = new ProcessBuilder(command)
                    .directory(directory.toFile()) // the server's user must be able to enter it
                    .redirectErrorStream(true)
                    .redirectOutput(output.toFile())
                    .redirectInput(Redirect.from(Path.of("/dev/null").toFile()))
                    .start();
            if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                process.destroyForcibly();
                throw new IllegalStateException(what + " did not finish within " + timeout + ":\n"
                        + Files.readString(output, StandardCharsets.UTF_8));
            }
            String text = Files.readString(output, StandardCharsets.UTF_8);
            if (process.exitValue() != 0) {
                throw new IllegalStateException(what + " failed with " + process.exitValue() + " ("
                        + String.join(" ", command) + "):\n" + text);
            }
            return text;
        } finally {
            Files.deleteIfExists(output);
        }
    }

    /**
     * The directory with initdb, pg_ctl and postgres: {@code -Dit.postgres.bin}, or the highest version under
     * {@code /usr/lib/postgresql/} (Debian installs each major version side by side there).
     */
    static Path binaries() throws IOException {
        String configured = System.getProperty("it.postgres.bin");
        if (configured != null && !configured.isBlank()) {
            Path bin = Path.of(configured).toAbsolutePath();
            if (!hasBinaries(bin)) {
                throw new IllegalStateException("-Dit.postgres.bin=" + configured + " has no executable initdb,"
                        + " pg_ctl and postgres");
            }
            return bin;
        }
        Path best = null;
        int bestVersion = -1;
        if (Files.isDirectory(DEBIAN_VERSIONS)) {
            try (DirectoryStream<Path> versions = Files.newDirectoryStream(DEBIAN_VERSIONS)) {
                for (Path version : versions) {
                    String number = version.getFileName().toString();
                    if (number.matches("\\d{1,4}") && hasBinaries(version.resolve("bin"))
                            && Integer.parseInt(number) > bestVersion) {
                        bestVersion = Integer.parseInt(number);
                        best = version.resolve("bin");
                    }
                }
            }
        }
        if (best == null) {
            throw new IllegalStateException("PostgreSQL is not installed: no " + DEBIAN_VERSIONS
                    + "/<version>/bin with initdb, pg_ctl and postgres; bash .ci/run installs the Debian package"
                    + " postgresql (or name another directory with -Dit.postgres.bin)");
        }
        return best;
    }

    private static boolean hasBinaries(Path bin) {
        return Stream.of("initdb", "pg_ctl", "postgres").map(bin::resolve)
                .allMatch(file -> Files.isRegularFile(file) && Files.isExecutable(file));
    }

    /** SIGKILL to every process whose working directory is {@code data}: the postmaster's, and its children's. */
    private static void killAll(Path data) {
        processesIn(data).forEach(ProcessHandle::destroyForcibly);
    }

    /**
     * The live processes whose working directory is {@code data}, from {@code /proc/<pid>/cwd} (a zombie has none,
     * another user's process cannot be looked into unless the tests run as root).
     */
    private static List<ProcessHandle> processesIn(Path data) {
        List<ProcessHandle> found = new ArrayList<>();
        try (DirectoryStream<Path> processes = Files.newDirectoryStream(Path.of("/proc"),
                p -> p.getFileName().toString().chars().allMatch(Character::isDigit))) {
            for (Path proc : processes) {
                try {
                    if (Files.readSymbolicLink(proc.resolve("cwd")).equals(data)) {
                        ProcessHandle.of(Long.parseLong(proc.getFileName().toString())).ifPresent(found::add);
                    }
                } catch (IOException | SecurityException notOursOrGone) {
                    // another user's process, a zombie, or it ended while we looked
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("Listing /proc failed", e);
        }
        return found;
    }

    private void awaitNoProcesses() throws InterruptedException {
        awaitNoProcesses(data);
    }

    /** Kills the processes of the cluster in {@code data} until none is left; throws after {@link #KILL_TIMEOUT}. */
    private static void awaitNoProcesses(Path data) throws InterruptedException {
        long deadline = System.nanoTime() + KILL_TIMEOUT.toNanos();
        List<ProcessHandle> left;
        while (!(left = processesIn(data)).isEmpty()) {
            if (System.nanoTime() - deadline > 0) {
                throw new IllegalStateException("Processes of the cluster in " + data + " still run after "
                        + KILL_TIMEOUT + " of SIGKILL: "
                        + left.stream().map(p -> p.pid() + " " + p.info().commandLine().orElse("?")).toList());
            }
            killAll(data);
            Thread.sleep(20);
        }
    }

    private void killQuietly() {
        if (process != null && process.isAlive()) {
            process.destroyForcibly();
            try {
                process.waitFor(KILL_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        killAll(data);
    }

    /** The shutdown hook: the server dies with the JVM; a directory in /tmp goes too, nobody would look there. */
    private void killOnExit() {
        killQuietly();
        if (temporary) {
            try {
                TestFiles.deleteRecursively(directory);
            } catch (IOException | UncheckedIOException e) {
                // a server process still let go of a file; /tmp is cleaned eventually
            }
        }
    }
}
