package chat.testsupport;

import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * An nginx child process running the operator's {@code tomcat-conf/nginx/chat.conf} in front of the Tomcat under
 * test. The config is taken as it is, except for the addresses (upstream: the test Tomcat's port; listen: a free
 * port of 127.0.0.1, plus a TLS listener on another one with a self-signed certificate for 127.0.0.1) and the
 * proxy timeouts ({@link #PROXY_TIMEOUT}, so that a test can outlast them). Everything nginx writes (pid, logs,
 * temporary files, the certificate) stays in {@code target/nginx-<tomcat>/}.
 */
public final class Nginx implements AutoCloseable {

    /** proxy_read_timeout and proxy_send_timeout in the tests' nginx. */
    public static final Duration PROXY_TIMEOUT = Duration.ofSeconds(3);
    public static final String LOOPBACK = TestFiles.LOOPBACK;
    private static final Duration START_TIMEOUT = Duration.ofSeconds(20);
    private static final Duration STOP_TIMEOUT = Duration.ofSeconds(10);
    private static final Duration OPENSSL_TIMEOUT = Duration.ofSeconds(60);

    private final Path directory;
    private final Path config;
    private final Path certificate;
    private final int httpPort;
    private final int httpsPort;
    private final Process process;
    private final Thread stopOnExit;

    private Nginx(Path directory, Path config, Path certificate, int httpPort, int httpsPort, Process process) {
        this.directory = directory;
        this.config = config;
        this.certificate = certificate;
        this.httpPort = httpPort;
        this.httpsPort = httpsPort;
        this.process = process;
        this.stopOnExit = new Thread(this::stop, "nginx-stop");
        Runtime.getRuntime().addShutdownHook(stopOnExit);
    }

    /** Starts nginx in front of the Tomcat on 127.0.0.1:{@code it.http.port}; returns once both ports accept. */
    public static Nginx start() throws IOException, InterruptedException {
        String tomcatHome = System.getProperty("it.tomcat.home");
        String name = tomcatHome == null ? "default" : Path.of(tomcatHome).getFileName().toString();
        return start("nginx-" + name, List.of(Integer.parseInt(TestFiles.required("it.http.port"))));
    }

    /**
     * Starts nginx in {@code target/<name>/} in front of the nodes on 127.0.0.1 at {@code upstreamPorts}, one
     * upstream server line each, as an operator lists several nodes; returns once both ports accept.
     */
    public static Nginx start(String name, List<Integer> upstreamPorts) throws IOException, InterruptedException {
        Path basedir = Path.of(System.getProperty("basedir", ".")).toAbsolutePath();
        Path directory = basedir.resolve("target").resolve(name);
        TestFiles.deleteRecursively(directory);
        Files.createDirectories(directory.resolve("logs"));

        Path certificate = directory.resolve("cert.pem");
        Path key = directory.resolve("key.pem");
        createSelfSignedCertificate(directory, certificate, key);

        int httpPort = TestFiles.freePort();
        int httpsPort = TestFiles.freePort();
        String site = Files.readString(basedir.resolve("tomcat-conf/nginx/chat.conf"), StandardCharsets.UTF_8);
        Path config = directory.resolve("nginx.conf");
        Files.writeString(config, wrapper(directory, adapt(site, upstreamPorts, httpPort, httpsPort, certificate,
                        key)), StandardCharsets.UTF_8);

        Path output = directory.resolve("logs/nginx.out");
        Process process = new ProcessBuilder(executable().toString(), "-p", directory + "/", "-c", config.toString())
                .directory(directory.toFile())
                .redirectErrorStream(true)
                .redirectOutput(output.toFile())
                .start();
        Nginx nginx = new Nginx(directory, config, certificate, httpPort, httpsPort, process);
        try {
            nginx.awaitListening();
        } catch (IOException | RuntimeException | Error e) {
            nginx.close();
            throw e;
        }
        return nginx;
    }

    public int httpPort() {
        return httpPort;
    }

    public int httpsPort() {
        return httpsPort;
    }

    /** {@code http://127.0.0.1:<nginx>/<context>/}, or {@code .../} for the empty context (ROOT). */
    public URI http(String context) {
        return URI.create("http://" + LOOPBACK + ':' + httpPort + path(context));
    }

    /** {@code https://127.0.0.1:<nginx tls>/<context>/}, or {@code .../} for the empty context (ROOT). */
    public URI https(String context) {
        return URI.create("https://" + LOOPBACK + ':' + httpsPort + path(context));
    }

    /** {@code /<context>/}, or {@code /} for the empty context. */
    public static String path(String context) {
        return context.isEmpty() ? "/" : '/' + context + '/';
    }

    public Path directory() {
        return directory;
    }

    /** The generated nginx.conf. */
    public Path config() {
        return config;
    }

    /** The chat.conf the generated config was made from. */
    public static Path siteConfig() {
        return Path.of(System.getProperty("basedir", ".")).toAbsolutePath().resolve("tomcat-conf/nginx/chat.conf");
    }

    /** A TLS context that trusts exactly the certificate nginx serves, and nothing else. */
    public SSLContext trustingItsCertificate() throws IOException, GeneralSecurityException {
        Certificate served;
        try (InputStream pem = Files.newInputStream(certificate)) {
            served = CertificateFactory.getInstance("X.509").generateCertificate(pem);
        }
        KeyStore trusted = KeyStore.getInstance("PKCS12");
        trusted.load(null, null);
        trusted.setCertificateEntry("nginx-test", served);
        TrustManagerFactory trust = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        trust.init(trusted);
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(null, trust.getTrustManagers(), null);
        return context;
    }

    /** What nginx printed and logged, for failure messages. */
    public String logs() {
        StringBuilder text = new StringBuilder();
        for (String log : List.of("logs/nginx.out", "logs/error.log")) {
            Path file = directory.resolve(log);
            try {
                if (Files.isRegularFile(file)) {
                    text.append("--- ").append(file).append('\n').append(Files.readString(file, StandardCharsets.UTF_8));
                }
            } catch (IOException e) {
                text.append("--- ").append(file).append(": ").append(e).append('\n');
            }
        }
        return text.toString();
    }

    @Override
    public void close() {
        stop();
        try {
            Runtime.getRuntime().removeShutdownHook(stopOnExit);
        } catch (IllegalStateException shuttingDown) {
            // The hook is running or about to; it stops nginx as well.
        }
    }

    /** SIGTERM (nginx's fast shutdown, the master stops its workers), then SIGKILL for whatever is left. */
    private void stop() {
        if (!process.isAlive()) {
            return;
        }
        List<ProcessHandle> workers = process.descendants().toList();
        process.destroy();
        boolean stopped;
        try {
            stopped = process.waitFor(STOP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            stopped = false;
        }
        if (!stopped) {
            workers.forEach(ProcessHandle::destroyForcibly);
            process.destroyForcibly();
        }
    }

    private void awaitListening() throws IOException, InterruptedException {
        long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
        while (!(accepts(httpPort) && accepts(httpsPort))) {
            if (!process.isAlive()) {
                throw new IllegalStateException("nginx exited with " + process.exitValue() + " (config " + config
                        + ")\n" + logs());
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("nginx did not accept on ports " + httpPort + " and " + httpsPort
                        + " within " + START_TIMEOUT + "\n" + logs());
            }
            Thread.sleep(50);
        }
    }

    private static boolean accepts(int port) {
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress(LOOPBACK, port), 500);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    /** chat.conf with only the addresses, the TLS listener and the timeouts changed. */
    public static String adapt(String site, int upstreamPort, int httpPort, int httpsPort, Path certificate, Path key) {
        return adapt(site, List.of(upstreamPort), httpPort, httpsPort, certificate, key);
    }

    /** The same with the upstream's one uncommented server line repeated for each of {@code upstreamPorts}. */
    public static String adapt(String site, List<Integer> upstreamPorts, int httpPort, int httpsPort,
                               Path certificate, Path key) {
        String timeout = PROXY_TIMEOUT.toSeconds() + "s";
        StringBuilder servers = new StringBuilder();
        for (int port : upstreamPorts) {
            servers.append(servers.length() == 0 ? "" : "\n").append("$1server ").append(LOOPBACK).append(':')
                    .append(port).append("$2;");
        }
        String adapted = replaceOnce(site, "(?m)^([ \\t]*)server[ \\t]+[^\\s;{]+([^;{\\n]*);",
                servers.toString(), "the upstream's server line");
        adapted = replaceOnce(adapted, "(?m)^([ \\t]*)listen[ \\t]+[^;\\n]*;",
                "$1listen " + LOOPBACK + ':' + httpPort + ";\n"
                        + "$1listen " + LOOPBACK + ':' + httpsPort + " ssl;\n"
                        + "$1ssl_certificate " + Matcher.quoteReplacement(quoted(certificate)) + ";\n"
                        + "$1ssl_certificate_key " + Matcher.quoteReplacement(quoted(key)) + ";", "the listen line");
        adapted = replaceOnce(adapted, "(?m)^([ \\t]*)proxy_read_timeout[ \\t]+[^;\\n]*;",
                "$1proxy_read_timeout " + timeout + ";", "proxy_read_timeout");
        return replaceOnce(adapted, "(?m)^([ \\t]*)proxy_send_timeout[ \\t]+[^;\\n]*;",
                "$1proxy_send_timeout " + timeout + ";", "proxy_send_timeout");
    }

    /** The main context around the site: everything nginx writes goes into {@code directory}. */
    private static String wrapper(Path directory, String site) {
        boolean root = ProcessHandle.current().info().user().map("root"::equals).orElse(false);
        return "# Generated by chat.it.Nginx from tomcat-conf/nginx/chat.conf for the integration tests.\n"
                + "daemon off;\n"
                // As root, nginx's workers would switch to 'nobody', which cannot use the files in here.
                + (root ? "user root;\n" : "")
                + "worker_processes 1;\n"
                + "pid " + quoted(directory.resolve("nginx.pid")) + ";\n"
                + "error_log " + quoted(directory.resolve("logs/error.log")) + " notice;\n"
                + "events {\n    worker_connections 256;\n}\n"
                + "http {\n"
                + "    access_log " + quoted(directory.resolve("logs/access.log")) + ";\n"
                + "    client_body_temp_path " + quoted(directory.resolve("client_body_temp")) + ";\n"
                + "    proxy_temp_path " + quoted(directory.resolve("proxy_temp")) + ";\n"
                + "    fastcgi_temp_path " + quoted(directory.resolve("fastcgi_temp")) + ";\n"
                + "    uwsgi_temp_path " + quoted(directory.resolve("uwsgi_temp")) + ";\n"
                + "    scgi_temp_path " + quoted(directory.resolve("scgi_temp")) + ";\n"
                + "\n# ---- tomcat-conf/nginx/chat.conf, adapted ----\n"
                + site
                + "\n# ---- end of chat.conf ----\n"
                + "}\n";
    }

    private static String replaceOnce(String text, String regex, String replacement, String what) {
        Matcher matcher = Pattern.compile(regex).matcher(text);
        int count = 0;
        while (matcher.find()) {
            count++;
        }
        if (count != 1) {
            throw new IllegalStateException("tomcat-conf/nginx/chat.conf has " + count + " uncommented matches for "
                    + what + " where chat.it.Nginx expects exactly one; adapt the harness to the new config");
        }
        return matcher.replaceFirst(replacement);
    }

    private static String quoted(Path path) {
        return "\"" + path + '"';
    }

    private static void createSelfSignedCertificate(Path directory, Path certificate, Path key)
            throws IOException, InterruptedException {
        Path openssl = onPath("openssl", Path.of("/usr/bin/openssl"));
        if (openssl == null) {
            throw new IllegalStateException("openssl is not installed; the nginx tests need it for a certificate");
        }
        Path output = directory.resolve("logs/openssl.out");
        Process process = new ProcessBuilder(openssl.toString(), "req", "-x509", "-newkey", "rsa:2048", "-nodes",
                "-keyout", key.toString(), "-out", certificate.toString(), "-days", "2",
                "-subj", "/CN=" + LOOPBACK, "-addext", "subjectAltName=IP:" + LOOPBACK)
                .redirectErrorStream(true)
                .redirectOutput(output.toFile())
                .start();
        if (!process.waitFor(OPENSSL_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
            process.destroyForcibly();
            throw new IllegalStateException("openssl did not finish within " + OPENSSL_TIMEOUT);
        }
        if (process.exitValue() != 0 || !Files.isRegularFile(certificate)) {
            throw new IllegalStateException("openssl failed with " + process.exitValue() + ":\n"
                    + Files.readString(output, StandardCharsets.UTF_8));
        }
    }

    private static Path executable() {
        Path nginx = onPath("nginx", Path.of("/usr/sbin/nginx"));
        if (nginx == null) {
            throw new IllegalStateException("nginx is not installed; bash .ci/run installs nginx-light");
        }
        return nginx;
    }

    private static Path onPath(String name, Path fallback) {
        List<Path> candidates = new ArrayList<>();
        String path = System.getenv("PATH");
        if (path != null) {
            for (String dir : path.split(java.io.File.pathSeparator)) {
                if (!dir.isEmpty()) {
                    candidates.add(Path.of(dir, name));
                }
            }
        }
        candidates.add(fallback);
        return candidates.stream().filter(c -> Files.isRegularFile(c) && Files.isExecutable(c)).findFirst().orElse(null);
    }
}
