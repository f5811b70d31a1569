package chat.bench;

import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Function;

/**
 * The benchmark's settings, all system properties: {@code bench.url} (a running server's {@code ws://host:port/chat};
 * absent: a stock Tomcat of the benchmark's own), {@code bench.scenarios} (comma-separated, default all but those
 * {@link #ON_REQUEST}; {@code cluster} brings {@code ingest} and {@code fanout} along),
 * {@code bench.clusterNodes} (the cluster scenario's node counts, default {@code 1,2,3}),
 * {@code bench.client} ({@code nio}, {@code tomcat} or {@code jdk}: the WebSocket client), {@code bench.frames}
 * ({@code lines}, the default: the clients connect with {@code frames=lines}, as the page does; {@code single}: one
 * frame per WebSocket message), {@code bench.stormSpread} ({@code false}: the storms only with every client
 * reconnecting at once), {@code bench.scale} (multiplies message counts, history sizes and idle connections, idle100k's too; 0.1 for a smoke run),
 * {@code bench.phaseTimeoutSeconds}, {@code bench.serverHeap}, {@code bench.serverOptions} (more JVM options for the
 * benchmark's Tomcat and the cluster's nodes, space-separated, e.g. {@code -Dchat.fanoutThreads=1}) and
 * {@code bench.jfr} (a flight recording of the server in target/bench/server.jfr, of each cluster node in
 * target/bench/bench-n&lt;nodes&gt;-node&lt;k&gt;.jfr).
 */
final class BenchOptions {

    static final List<String> ALL_SCENARIOS = List.of("storage", "ingest", "fanout", "rooms", "replay", "idle");
    /**
     * Run only when asked for: a long attack, not a figure of normal service; several nodes on a PostgreSQL of the
     * benchmark's own (minutes, and PostgreSQL installed), which brings ingest and fanout on SQLite along, for its
     * figures to be read next to theirs; 100 000 idle connections to one node (minutes to open; as many as the
     * open-files limits of this JVM and the server's allow, and the report says so when that is fewer; the full
     * count needs {@code ulimit -n} above 101 000 for both and {@code -Dbench.serverHeap=2g}); a reconnect storm,
     * which stops and redeploys a Tomcat of its own (after the other scenarios' server has stopped) and takes
     * minutes at full scale.
     */
    static final List<String> ON_REQUEST = List.of("abuse", "idle100k", "storm", "cluster");
    /** What {@code cluster} brings along: the same load on the default SQLite server, in the same run. */
    static final List<String> CLUSTER_COMPARES_WITH = List.of("ingest", "fanout");

    final URI url;
    final Set<String> scenarios;
    final double scale;
    final Duration phaseTimeout;
    final String serverHeap;
    final boolean jfr;
    final Path outputDirectory;
    final String client;
    final List<String> serverOptions;
    /** The node counts of the cluster scenario, in the order run. */
    final List<Integer> clusterNodes;
    /** {@code bench.frames}: {@code lines} (the default, as the page connects) or {@code single}. */
    final boolean framesAsLines;
    /** {@code bench.stormSpread}: whether each storm is also run with the page's backoff (default true). */
    final boolean stormSpread;

    private BenchOptions(URI url, Set<String> scenarios, double scale, Duration phaseTimeout, String serverHeap,
            boolean jfr, Path outputDirectory, String client, List<String> serverOptions, List<Integer> clusterNodes,
            boolean framesAsLines, boolean stormSpread) {
        this.url = url;
        this.scenarios = scenarios;
        this.scale = scale;
        this.phaseTimeout = phaseTimeout;
        this.serverHeap = serverHeap;
        this.jfr = jfr;
        this.outputDirectory = outputDirectory;
        this.client = client;
        this.serverOptions = serverOptions;
        this.clusterNodes = clusterNodes;
        this.framesAsLines = framesAsLines;
        this.stormSpread = stormSpread;
    }

    static BenchOptions fromSystemProperties() {
        return from(System::getProperty);
    }

    /** The options as {@code property} gives them by name (null: not set). */
    static BenchOptions from(Function<String, String> property) {
        String url = blankToNull(property.apply("bench.url"));
        Set<String> scenarios = new LinkedHashSet<>();
        String wanted = blankToNull(property.apply("bench.scenarios"));
        for (String name : wanted == null ? ALL_SCENARIOS : List.of(wanted.split(","))) {
            String scenario = name.trim();
            if (!ALL_SCENARIOS.contains(scenario) && !ON_REQUEST.contains(scenario)) {
                throw new IllegalArgumentException("bench.scenarios: unknown scenario '" + scenario + "'; known: "
                        + ALL_SCENARIOS + " and, only when named, " + ON_REQUEST);
            }
            scenarios.add(scenario);
        }
        if (scenarios.contains("cluster")) {
            scenarios.addAll(CLUSTER_COMPARES_WITH);
        }
        double scale = Double.parseDouble(orDefault(property.apply("bench.scale"), "1"));
        if (!(scale > 0 && scale <= 10)) {
            throw new IllegalArgumentException("bench.scale must be in (0, 10], got " + scale);
        }
        Duration timeout = Duration.ofSeconds(Long.parseLong(orDefault(property.apply("bench.phaseTimeoutSeconds"), "180")));
        Path target = Path.of(orDefault(property.apply("basedir"), ".")).toAbsolutePath().resolve("target");
        return new BenchOptions(url == null ? null : URI.create(url), scenarios, scale, timeout,
                orDefault(property.apply("bench.serverHeap"), "1g"),
                Boolean.parseBoolean(property.apply("bench.jfr")), target.resolve("bench"),
                orDefault(property.apply("bench.client"), "nio"),
                List.of(orDefault(property.apply("bench.serverOptions"), "").trim().split("\\s+")).stream()
                        .filter(option -> !option.isEmpty()).toList(),
                clusterNodes(orDefault(property.apply("bench.clusterNodes"), "1,2,3")),
                framesAsLines(orDefault(property.apply("bench.frames"), "lines")),
                !"false".equals(property.apply("bench.stormSpread")));
    }

    private static boolean framesAsLines(String value) {
        return switch (value) {
            case "lines" -> true;
            case "single" -> false;
            default -> throw new IllegalArgumentException("bench.frames must be lines (several frames in one"
                    + " WebSocket message, as the page takes them) or single (one frame per message), got " + value);
        };
    }

    private static List<Integer> clusterNodes(String value) {
        List<Integer> counts = new java.util.ArrayList<>();
        for (String count : value.split(",")) {
            int nodes = Integer.parseInt(count.trim());
            if (nodes < 1 || nodes > 8) {
                throw new IllegalArgumentException("bench.clusterNodes: node counts from 1 to 8, got " + value);
            }
            counts.add(nodes);
        }
        return List.copyOf(counts);
    }

    /** {@code count} times the scale, at least {@code minimum}. */
    int scaled(int count, int minimum) {
        return Math.max(minimum, (int) Math.round(count * scale));
    }

    private static String blankToNull(String value) {
        return value == null || value.isBlank() ? null : value;
    }

    private static String orDefault(String value, String fallback) {
        return value == null || value.isBlank() ? fallback : value;
    }
}
