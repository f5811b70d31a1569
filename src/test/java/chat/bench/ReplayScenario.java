package chat.bench;

import chat.testsupport.JvmProbe;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * 50 clients connect at once to a stored history and are replayed it: from offset 0, and from a recent offset
 * inside the server's memory recovery window; then from 0 again in front of ten times the history. Time until every
 * one is synced, frames replayed per second, and the server's peak heap over its heap after a GC just before. The
 * server's first replay warms its JIT up; it is reported, without a target, and measured again.
 */
final class ReplayScenario {

    static final int CLIENTS = 50;
    static final String REPLAYED_ONE_CLIENT = "replayed messages/s (1 client)";
    static final int RECOVERY_WINDOW = 10_000;
    private static final int SEED_SENDERS = 4;
    private static final int SEED_WINDOW = 256;

    private final BenchContext context;

    ReplayScenario(BenchContext context) {
        this.context = context;
    }

    void run() throws Exception {
        int small = context.options.scaled(20_000, 1_000);
        int large = context.options.scaled(200_000, 10_000);
        seed(small);
        replay("replay " + label(context.server.latestOffset()) + " cold", 0, true);
        Double smallGrowth = replay("replay " + label(context.server.latestOffset()), 0, false);
        long latest = context.server.latestOffset();
        int recent = (int) Math.min(RECOVERY_WINDOW / 2, latest / 4);
        replay("replay recent", latest - recent, false);
        seed(large);
        Double largeGrowth = replay("replay " + label(context.server.latestOffset()), 0, false);
        if (smallGrowth != null && largeGrowth != null) {
            context.report.add("replay", "heap growth difference, " + label(large) + " vs " + label(small),
                    (largeGrowth - smallGrowth), "MiB", null, null,
                    "should be near 0: a replay holds pages, not the history");
        }
    }

    /** The history size as the scenario's name shows it: 20k for 20 000 to 20 999 stored messages. */
    private static String label(long history) {
        return history >= 1000 ? history / 1000 + "k" : Long.toString(history);
    }

    /** Stores messages until the history holds at least {@code history}. */
    private void seed(int history) throws Exception {
        long latest = context.server.latestOffset();
        if (latest < history) {
            seed(null, latest, history - latest, "-seed" + history);
        }
    }

    /**
     * Stores {@code count} messages in {@code room} (null: general), whose newest offset is {@code latest}, from
     * {@link #SEED_SENDERS} senders on the context's nodes; returns the room's newest offset after them.
     */
    long seed(String room, long latest, long count, String tag) throws Exception {
        int perSender = (int) ((count + SEED_SENDERS - 1) / SEED_SENDERS);
        Bench.log("replay: storing " + (long) perSender * SEED_SENDERS + " messages"
                + (room == null ? " to reach " + (latest + count) : " in room " + room));
        long deadline = context.deadline();
        List<BenchSocket> sockets = Clients.connect(context, SEED_SENDERS, i -> room, latest, SEED_SENDERS,
                deadline);
        try {
            Clients.awaitSynced(sockets, deadline);
            List<Sender> senders = new ArrayList<>();
            for (int i = 0; i < SEED_SENDERS; i++) {
                senders.add(new Sender(i, sockets.get(i), context.runTag + tag, perSender));
            }
            long start = System.nanoTime();
            Clients.sendAll(senders, SEED_WINDOW, deadline);
            Bench.log("replay: stored at " + Report.number(perSender * SEED_SENDERS / StorageFloor.seconds(start))
                    + " msgs/s (" + SEED_SENDERS + " senders, window " + SEED_WINDOW + ")");
            int refused = senders.stream().mapToInt(Sender::refusedCount).sum();
            if (refused > 0) {
                throw new IllegalStateException(refused + " of the messages to replay were refused; first: "
                        + senders.stream().map(Sender::firstRefusal).filter(f -> f != null).findFirst().orElse(""));
            }
            return latest + (long) perSender * SEED_SENDERS;
        } finally {
            Clients.abortAll(sockets);
        }
    }

    private Double replay(String scenario, long fromOffset, boolean coldServer) throws Exception {
        return replay(scenario, null, fromOffset, context.server.latestOffset(), CLIENTS, coldServer, true);
    }

    /**
     * {@code clients} clients connect at once to {@code room} (null: general) from {@code fromOffset} and are
     * replayed up to {@code latest}, the room's newest offset.
     *
     * @param coldServer the server's first replay: only its time and rate are reported, without a target
     * @param heap whether to measure and report the server's heap (a GC before, jstat during)
     * @return the heap growth in MiB, or null if the server's JVM cannot be looked into or was not measured
     */
    Double replay(String scenario, String room, long fromOffset, long latest, int clients, boolean coldServer,
            boolean heap) throws Exception {
        long perClient = latest - fromOffset;
        Bench.log(scenario + ": " + clients + " client(s) from offset " + fromOffset
                + (room == null ? "" : " of room " + room) + " (" + perClient + " messages each, " + latest
                + " stored)");
        Optional<JvmProbe> probe = heap ? context.probe() : Optional.empty();
        Long baseline = probe.isPresent() ? probe.get().heapAfterGc() : null;
        HeapSampler sampler = baseline == null ? null : HeapSampler.start(context.server.pid().getAsLong());
        MetricsWindow metrics = MetricsWindow.open(context.servers);
        long deadline = context.deadline();
        CpuMeter cpu = context.cpu();
        long start = System.nanoTime();
        List<BenchSocket> sockets = List.of();
        long peak;
        long held;
        try {
            sockets = Clients.connect(context, clients, i -> room, fromOffset, clients, deadline);
            Clients.awaitSynced(sockets, deadline);
        } finally {
            Clients.abortAll(sockets);
            if (sampler != null) {
                sampler.close();
            }
        }
        peak = sampler == null ? 0 : sampler.peakBytes();
        held = sampler == null ? 0 : sampler.peakHeldBytes();
        metrics.close();
        cpu.report(context.report, scenario);
        long end = sockets.stream().mapToLong(BenchSocket::syncedAtNanos).max().orElseThrow();
        long replayed = sockets.stream().mapToLong(BenchSocket::chatFramesAtSync).sum();
        long wrong = wrongFrames(sockets, perClient);
        Report report = context.report;
        report.add(scenario, "time until all " + clients + " are synced", (end - start) / 1e6, "ms");
        String cold = coldServer ? "; the server's first replay, its JIT still compiling: no target, measured"
                + " again next" : "";
        if (clients == 1) {
            report.add(scenario, REPLAYED_ONE_CLIENT, replayed / ((end - start) / 1e9), "msgs/s", null,
                    null, replayed + " messages" + cold);
        } else {
            report.add(scenario, "replayed frames/s", replayed / ((end - start) / 1e9), "frames/s",
                    coldServer || !heap ? null : Report.Target.atLeast(500_000), heap ? "85 000 frames/s" : null,
                    replayed + " frames" + cold);
        }
        report.add(scenario, "missing, duplicated or reordered replayed frames", (double) wrong, "",
                Report.Target.atMost(0), null, wrong == 0 ? null : Clients.firstProblem(sockets));
        if (coldServer) {
            return null;
        }
        Double growth = null;
        if (baseline != null) {
            growth = (held - baseline) / (1024.0 * 1024);
            report.add(scenario, "peak server heap in use", peak / (1024.0 * 1024), "MiB", null, null,
                    "jstat every 100 ms, uncollected garbage included: mostly how far the collector lets eden grow");
            report.add(scenario, "heap growth (peak held minus heap after GC before)", growth, "MiB",
                    Report.Target.atMost(256), null, "held: survivor and old generation, what outlived young"
                            + " collections");
        } else if (heap) {
            report.add(scenario, "heap growth (peak held minus heap after GC before)", null, "MiB",
                    Report.Target.atMost(256), null, "the server's JVM is not local (bench.url)");
        }
        double fromStore = metrics.delta(MetricsWindow.REPLAYED_STORE);
        double fromMemory = metrics.delta(MetricsWindow.REPLAYED_MEMORY);
        String absent = metrics.available() ? null : MetricsWindow.absentNote();
        report.add(scenario, "messages replayed from memory", fromMemory, "", null, null, absent);
        report.add(scenario, "messages replayed from store pages another replay had just read",
                metrics.delta(MetricsWindow.REPLAYED_SHARED), "", null, null, absent);
        if (fromOffset > 0) {
            report.add(scenario, "messages replayed from " + context.storeName + " (should be 0)", fromStore, "",
                    Report.Target.atMost(0), null, absent);
        } else {
            report.add(scenario, "messages replayed from " + context.storeName, fromStore, "", null, null, absent);
        }
        return growth;
    }

    private static long wrongFrames(List<BenchSocket> sockets, long perClient) {
        long wrong = 0;
        for (BenchSocket socket : sockets) {
            wrong += socket.orderErrors() + socket.errorFrames() + (socket.wasReset() ? 1 : 0)
                    + Math.abs(socket.chatFramesAtSync() - perClient);
        }
        return wrong;
    }
}
