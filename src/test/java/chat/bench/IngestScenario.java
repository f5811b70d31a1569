package chat.bench;

import java.util.ArrayList;
import java.util.List;

/**
 * 10 clients, all senders, 1 000 acknowledged messages each with up to 32 unacknowledged: acked msgs/s. On a
 * cluster the senders are spread over the nodes (see {@link BenchContext#nodeOf}).
 */
final class IngestScenario {

    static final int CLIENTS = 10;
    static final int WINDOW = 32;
    static final String ACKED_METRIC = "acked messages/s (10 senders, window 32)";
    private static final int WARM_UP_ROUNDS = 3;

    private final BenchContext context;
    /** The report's name of the scenario: {@code ingest}, or a cluster's. */
    private final String scenario;
    private final Report.Target target;
    private final String reference;
    double ackedPerSecond = Double.NaN;

    IngestScenario(BenchContext context) {
        this(context, "ingest", Report.Target.atLeast(20_000), "1 200 msgs/s");
    }

    /** @param target the acked rate's, or null for none */
    IngestScenario(BenchContext context, String scenario, Report.Target target, String reference) {
        this.context = context;
        this.scenario = scenario;
        this.target = target;
        this.reference = reference;
    }

    /**
     * The same load, three times over, before measuring: the server's JIT compiles the path, and the figure is
     * its steady state rather than the first seconds of a fresh JVM.
     */
    private void warmUp(List<BenchSocket> sockets, int perClient, long deadline) throws Exception {
        int messages = WARM_UP_ROUNDS * perClient;
        Bench.log(scenario + ": warm-up, " + CLIENTS + " x " + messages + " messages, not measured");
        List<Sender> senders = new ArrayList<>();
        for (int i = 0; i < CLIENTS; i++) {
            senders.add(new Sender(i, sockets.get(i), context.runTag + "-warmup", messages));
        }
        Clients.sendAll(senders, WINDOW, deadline);
    }

    private String spread() {
        return context.nodes() > 1 ? " spread over " + context.nodes() + " nodes" : "";
    }

    void run() throws Exception {
        int perClient = context.options.scaled(1_000, 50);
        long latest = context.server.latestOffset();
        long deadline = context.deadline();
        Bench.log(scenario + ": " + CLIENTS + " clients" + spread() + ", " + perClient + " messages each, window "
                + WINDOW);
        List<BenchSocket> sockets = Clients.connect(context, CLIENTS, latest, CLIENTS, deadline);
        try {
            Clients.awaitSynced(sockets, deadline);
            warmUp(sockets, perClient, deadline);
            List<Sender> senders = new ArrayList<>();
            for (int i = 0; i < CLIENTS; i++) {
                senders.add(new Sender(i, sockets.get(i), context.runTag + "-ingest", perClient));
            }
            MetricsWindow metrics = MetricsWindow.open(context.servers);
            CpuMeter cpu = context.cpu();
            long start = System.nanoTime();
            Clients.sendAll(senders, WINDOW, deadline);
            long end = senders.stream().mapToLong(Sender::lastAnswerNanos).max().orElseThrow();
            metrics.close();
            cpu.report(context.report, scenario);
            int refused = senders.stream().mapToInt(Sender::refusedCount).sum();
            int duplicates = senders.stream().mapToInt(Sender::duplicateAcks).sum();
            long acked = (long) CLIENTS * perClient - refused;
            ackedPerSecond = acked / ((end - start) / 1e9);
            String problems = refused + duplicates == 0 ? null : refused + " refused (first: "
                    + senders.stream().map(Sender::firstRefusal).filter(f -> f != null).findFirst().orElse("")
                    + "), " + duplicates + " duplicate acks";
            context.report.add(scenario, ACKED_METRIC, ackedPerSecond, "msgs/s", target, reference,
                    problems != null ? problems : "after an unmeasured warm-up of three times the load");
            String noMetrics = metrics.available() ? null : MetricsWindow.absentNote();
            context.report.add(scenario, "messages per commit (mean)", metrics.meanBatchSize(), "",
                    null, null, noMetrics);
            context.report.add(scenario, "commits/s" + (context.nodes() > 1 ? " (all nodes)" : ""),
                    metrics.delta(MetricsWindow.BATCH_COUNT) / ((end - start) / 1e9), "", null, null, noMetrics);
            context.report.add(scenario, "server commit time (mean, waits for the store included)",
                    metrics.meanCommitMillis(), "ms", null, null, noMetrics);
        } finally {
            Clients.abortAll(sockets);
        }
    }
}
