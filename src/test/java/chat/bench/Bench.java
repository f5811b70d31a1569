package chat.bench;

import chat.testsupport.StockTomcat;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;

/**
 * The load generator: {@code mvn -B -Pbench verify} (README, Performance). Starts the packaged WAR as ROOT in a stock
 * Tomcat of its own (or talks to {@code -Dbench.url}), runs the scenarios of {@link BenchOptions} over real
 * WebSockets, and writes the report to stdout, target/bench/report.txt and target/bench/report.json.
 */
public final class Bench {

    private static final long STARTED = System.nanoTime();

    private Bench() {
    }

    public static void main(String[] args) throws Exception {
        BenchOptions options = BenchOptions.fromSystemProperties();
        Report report = new Report();
        boolean failed = !run(options, report);
        report.write(options.outputDirectory);
        System.out.println();
        System.out.println(report.table());
        System.out.println("Report: " + options.outputDirectory.resolve("report.txt") + " and report.json");
        System.out.flush();
        System.exit(failed ? 1 : 0);
    }

    /**
     * Runs the scenarios of {@code options} into {@code report}, each after the other; every server it starts is
     * stopped before it returns.
     *
     * @return false if a scenario failed (it is reported as such, and the next still ran)
     */
    static boolean run(BenchOptions options, Report report) throws Exception {
        facts(report, options);
        WakeupJitter.measureIdle(report);
        boolean failed = false;
        StorageFloor floor = null;
        if (options.scenarios.contains("storage")) {
            floor = new StorageFloor(new BenchContext(options, null, report, null));
            failed |= !attempt(report, "storage", floor::run);
        }
        IngestScenario ingest = null;
        if (options.scenarios.stream().anyMatch(s -> !List.of("storage", "storm", "cluster").contains(s))) {
            StockTomcat tomcat = options.url == null ? startTomcat(options, report) : null;
            try {
                ServerUnderTest server = tomcat == null
                        ? new ServerUnderTest(options.url, OptionalLong.empty(), options.url.toString())
                        : new ServerUnderTest(URI.create("ws://127.0.0.1:" + tomcat.uri().getPort() + "/chat"),
                                OptionalLong.of(tomcat.pid()), "stock Tomcat, pid " + tomcat.pid());
                report.fact("server metrics", server.metrics().isPresent() ? "/metrics" : "none (/metrics absent)");
                WsClient client = WsClient.named(options.client);
                report.fact("client", client.description() + ", in the load generator's own JVM (max heap "
                        + Runtime.getRuntime().maxMemory() / (1024 * 1024) + " MiB)");
                BenchContext context = new BenchContext(options, server, report, client);
                // Replay first, while the history is only what it stores itself: 20 000, then 200 000.
                if (options.scenarios.contains("replay")) {
                    failed |= !attempt(report, "replay", new ReplayScenario(context)::run);
                }
                if (options.scenarios.contains("ingest")) {
                    ingest = new IngestScenario(context);
                    failed |= !attempt(report, "ingest", ingest::run);
                }
                if (options.scenarios.contains("fanout")) {
                    failed |= !attempt(report, "fanout", new FanoutScenario(context)::run);
                }
                if (options.scenarios.contains("rooms")) {
                    failed |= !attempt(report, "rooms", new RoomsScenario(context)::run);
                }
                if (options.scenarios.contains("idle")) {
                    failed |= !attempt(report, "idle", new IdleScenario(context, "idle")::run);
                }
                if (options.scenarios.contains("idle100k")) {
                    failed |= !attempt(report, "idle100k", new IdleScenario(context, "idle100k")::run);
                }
                if (options.scenarios.contains("abuse")) {
                    failed |= !attempt(report, "abuse", new AbuseScenario(context)::run);
                }
                client.close();
            } finally {
                if (tomcat != null) {
                    log("stopping Tomcat (pid " + tomcat.pid() + ")");
                    tomcat.close();
                }
            }
        }
        // Once the SQLite server is gone: a Tomcat of its own, which it stops, starts and redeploys.
        if (options.scenarios.contains("storm")) {
            failed |= !attempt(report, "storm", new StormScenario(options, report)::run);
        }
        // Last: its own PostgreSQL and Tomcat nodes.
        if (options.scenarios.contains("cluster")) {
            try (WsClient client = WsClient.named(options.client)) {
                failed |= !attempt(report, "cluster", new ClusterScenario(options, report, client)::run);
            }
        }
        if (ingest != null && floor != null && !Double.isNaN(ingest.ackedPerSecond)
                && !Double.isNaN(floor.singleCommitRowsPerSecond)) {
            report.note(String.format(java.util.Locale.ROOT, "group commit: ingest reached %.1f times the disk's"
                    + " one-commit-per-row rate and %.0f %% of its batched rate",
                    ingest.ackedPerSecond / floor.singleCommitRowsPerSecond,
                    100 * ingest.ackedPerSecond / floor.batchedRowsPerSecond));
        }
        return !failed;
    }

    interface Step {
        void run() throws Exception;
    }

    /** Runs one scenario; a failure goes into the report (and the exit code), and the next scenario still runs. */
    static boolean attempt(Report report, String scenario, Step step) {
        long start = System.nanoTime();
        try {
            step.run();
            log(scenario + ": done in " + Report.number((System.nanoTime() - start) / 1e9) + " s");
            return true;
        } catch (Exception | AssertionError e) {
            e.printStackTrace(System.out);
            report.add(scenario, "completed", 0.0, "", Report.Target.atLeast(1), null, "failed: " + e);
            return false;
        }
    }

    private static StockTomcat startTomcat(BenchOptions options, Report report) throws IOException, InterruptedException {
        StockTomcat tomcat = StockTomcat.create("bench");
        List<String> jvm = serverJvmOptions(options, "server");
        tomcat.jvmOptions(jvm);
        log("starting Tomcat (" + Path.of(System.getProperty("it.tomcat.home")).getFileName() + ") with "
                + String.join(" ", jvm));
        tomcat.start();
        report.fact("server JVM options", String.join(" ", jvm) + " (rate limit off, ping every 25 s)");
        report.fact("database", tomcat.database() + " (embedded pool, synchronous=FULL)");
        return tomcat;
    }

    /**
     * The benchmark's Tomcat's JVM options, every node's on a cluster: a fixed heap, no rate limit or quota, the
     * whole write queue and 20 000 connections for one address (with idle100k 25 000, and 110 000 in all), pings
     * every 25 s, bench.serverOptions, and with
     * bench.jfr a flight recording in target/bench/{@code recording}.jfr.
     */
    static List<String> serverJvmOptions(BenchOptions options, String recording) throws IOException {
        List<String> jvm = new ArrayList<>(List.of(
                "-Xms" + options.serverHeap, // a fixed heap, as tomcat-conf/bin/setenv.sh starts it
                "-Xmx" + options.serverHeap,
                "-Dchat.messagesPerSecond=0",
                "-Dchat.maxConnectionsPerAddress=20000",
                "-Dchat.maxStoredBytesPerAddressPerDay=0", // the load comes from a few loopback addresses
                "-Dchat.writeQueueShare=100",
                "-Dchat.pingIntervalSeconds=25",
                "-Dchat.db.busyTimeoutMs=5000"));
        if (options.scenarios.contains("idle100k")) {
            // Room for 100 000 connections from a few source addresses (IdleScenario.PER_SOURCE each).
            jvm.addAll(List.of("-Dchat.http.maxConnections=110000", "-Dchat.maxConnections=110000",
                    "-Dchat.maxConnectionsPerAddress=" + IdleScenario.PER_SOURCE));
        }
        jvm.addAll(options.serverOptions);
        if (options.jfr) {
            Files.createDirectories(options.outputDirectory);
            jvm.add("-XX:StartFlightRecording=settings=profile,filename="
                    + options.outputDirectory.resolve(recording + ".jfr"));
        }
        return jvm;
    }

    private static void facts(Report report, BenchOptions options) throws IOException {
        report.fact("date", Instant.now().toString());
        report.fact("cores", Runtime.getRuntime().availableProcessors() + " (load generator and server share them)");
        report.fact("cpu", cpuModel());
        report.fact("load average at start", loadAverage());
        report.fact("jvm", System.getProperty("java.vm.name") + " " + System.getProperty("java.runtime.version"));
        report.fact("os", System.getProperty("os.name") + " " + System.getProperty("os.version"));
        String home = System.getProperty("it.tomcat.home");
        report.fact("server", options.url != null ? options.url.toString()
                : home == null ? "?" : Path.of(home).getFileName() + ", the packaged WAR as ROOT");
        report.fact("scale", options.scale);
    }

    private static String loadAverage() throws IOException {
        Path loadavg = Path.of("/proc/loadavg");
        return Files.isReadable(loadavg) ? Files.readString(loadavg).trim() : "?";
    }

    private static String cpuModel() throws IOException {
        Path cpuinfo = Path.of("/proc/cpuinfo");
        if (!Files.isReadable(cpuinfo)) {
            return "?";
        }
        return Files.readAllLines(cpuinfo).stream().filter(l -> l.startsWith("model name"))
                .map(l -> l.substring(l.indexOf(':') + 1).trim()).findFirst().orElse("?");
    }

    static void log(String message) {
        System.out.printf(java.util.Locale.ROOT, "[bench %6.1fs] %s%n", (System.nanoTime() - STARTED) / 1e9, message);
        System.out.flush();
    }
}
