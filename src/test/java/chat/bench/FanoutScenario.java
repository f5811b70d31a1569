package chat.bench;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.locks.LockSupport;

/**
 * 100 connected clients, 10 of them senders. First at full speed (500 messages per sender, window 32): persisted
 * msgs/s, delivered frames/s, end-to-end latency, and whether every client got every message exactly once in
 * order. Then paced at 500 msgs/s offered in all: end-to-end latency measured from each message's scheduled send
 * time, so that a sender falling behind its schedule counts against the server, not in its favour.
 *
 * <p>Then, on one server, an A/B of how the frames go out: three pairs of full-speed runs on fresh connections,
 * alternating clients that take one frame per WebSocket message and clients that take several as lines
 * ({@code frames=lines}): delivered frames/s and the server's CPU per delivered frame of each, and the ratio of the
 * pairs' medians.
 *
 * <p>On a cluster ({@link ClusterScenario}) the clients, senders among them, are spread over the nodes (client
 * {@code i} on node {@code i % nodes}), and the paced latencies are split by whether the message's sender and its
 * recipient are on the same node or not.
 */
final class FanoutScenario {

    static final int CLIENTS = 100;
    static final int SENDERS = 10;
    static final int WINDOW = 32;
    static final int PACED_RATE = 500;
    static final int AB_PAIRS = 3;
    static final String DELIVERED_METRIC = "delivered frames/s (" + CLIENTS + " clients)";
    static final String SAME_NODE_P99 = "same-node latency p99";
    static final String CROSS_NODE_P99 = "cross-node latency p99";

    private final BenchContext context;
    /** The report's name of the scenario, {@code fanout} or a cluster's; the paced run's adds " paced". */
    private final String scenario;
    /** A cluster's run: its targets, and latencies split by the sender's and the recipient's node. */
    private final boolean cluster;

    FanoutScenario(BenchContext context) {
        this(context, "fanout", false);
    }

    FanoutScenario(BenchContext context, String scenario, boolean cluster) {
        this.context = context;
        this.scenario = scenario;
        this.cluster = cluster;
    }

    void run() throws Exception {
        long latest = context.server.latestOffset();
        long deadline = context.deadline();
        Bench.log(scenario + ": connecting " + CLIENTS + " clients"
                + (context.nodes() > 1 ? " spread over " + context.nodes() + " nodes" : ""));
        List<BenchSocket> sockets = Clients.connect(context, CLIENTS, latest, 50, deadline);
        try {
            Clients.awaitSynced(sockets, deadline);
            fullSpeed(sockets, latest);
            paced(sockets, context.server.latestOffset());
        } finally {
            Clients.abortAll(sockets);
        }
        if (!cluster) {
            framesAsLinesAB();
        }
    }

    /** Delivered frames/s and server CPU per frame, one frame per message against lines, pairs interleaved. */
    private void framesAsLinesAB() throws Exception {
        double[][] framesPerSecond = new double[2][AB_PAIRS];
        double[][] cpuMicros = new double[2][AB_PAIRS];
        for (int pair = 0; pair < AB_PAIRS; pair++) {
            for (int lines = 0; lines < 2; lines++) {
                BenchContext side = context.framesAsLines(lines == 1);
                String name = scenario + " A/B " + (pair + 1) + (lines == 1 ? " lines" : " single");
                long deadline = context.deadline();
                List<BenchSocket> sockets = Clients.connect(side, CLIENTS, context.server.latestOffset(), 50,
                        deadline);
                try {
                    Clients.awaitSynced(sockets, deadline);
                    Run run = fullSpeed(sockets, context.server.latestOffset(), name, false);
                    framesPerSecond[lines][pair] = run.framesPerSecond;
                    cpuMicros[lines][pair] = run.serverCpuMicrosPerFrame;
                    context.report.add(name, "delivered frames/s", run.framesPerSecond, "frames/s");
                    context.report.add(name, "server CPU per delivered frame", run.serverCpuMicrosPerFrame, "us");
                    context.report.add(name, "lost, duplicated or reordered deliveries", (double) run.violations, "",
                            Report.Target.atMost(0), null, null);
                } finally {
                    Clients.abortAll(sockets);
                }
            }
        }
        double single = median(framesPerSecond[0]);
        double lines = median(framesPerSecond[1]);
        context.report.add(scenario + " A/B", "delivered frames/s, lines over single (medians of "
                + AB_PAIRS + " pairs)", lines / single, "x", Report.Target.atLeast(1.5), null,
                Report.number(single) + " -> " + Report.number(lines) + " frames/s; server CPU per frame "
                        + Report.number(median(cpuMicros[0])) + " -> " + Report.number(median(cpuMicros[1])) + " us");
    }

    private static double median(double[] values) {
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        return sorted[sorted.length / 2];
    }

    /** One full-speed run's figures. */
    private record Run(double framesPerSecond, double serverCpuMicrosPerFrame, long violations) {
    }

    private void fullSpeed(List<BenchSocket> sockets, long latest) throws Exception {
        fullSpeed(sockets, latest, scenario, true);
    }

    /** The full-speed run; its rows under {@code name} when {@code reported}, else only its figures. */
    private Run fullSpeed(List<BenchSocket> sockets, long latest, String name, boolean reported) throws Exception {
        int perSender = context.options.scaled(500, 50);
        int total = perSender * SENDERS;
        long deadline = context.deadline();
        Bench.log(name + ": " + SENDERS + " senders x " + perSender + " messages, window " + WINDOW + ", to "
                + CLIENTS + " clients");
        Audit audit = new Audit(latest, total);
        sockets.get(CLIENTS - 1).observer(audit);
        List<Samples> latencies = expectAll(sockets, latest + total);
        CountDownLatch reached = reachedLatch(sockets, latest + total);
        List<Sender> senders = senders(sockets, name.replace(' ', '-'), perSender);
        CpuMeter cpu = context.cpu();
        long start = System.nanoTime();
        Clients.sendAll(senders, WINDOW, deadline);
        long persisted = senders.stream().mapToLong(Sender::lastAnswerNanos).max().orElseThrow();
        awaitReached(reached, sockets, deadline);
        double serverSeconds = cpu.serverSecondsSinceStart();
        if (reported) {
            cpu.report(context.report, name);
        }
        long delivered = sockets.stream().mapToLong(BenchSocket::reachedAtNanos).max().orElseThrow();
        sockets.get(CLIENTS - 1).observer(null);

        long violations = violations(sockets, senders, latest, total, audit);
        long frames = (long) total * CLIENTS;
        Run run = new Run(frames / ((delivered - start) / 1e9), serverSeconds * 1e6 / frames, violations);
        if (!reported) {
            return run;
        }
        long[] sorted = Samples.sortedUnion(latencies);
        Report report = context.report;
        report.add(name, "persisted messages/s", total / ((persisted - start) / 1e9), "msgs/s");
        report.add(name, DELIVERED_METRIC, run.framesPerSecond, "frames/s",
                cluster ? null : Report.Target.atLeast(400_000), cluster ? null : "83 000 frames/s", null);
        report.add(name, "end-to-end latency p50", millis(Samples.percentile(sorted, 50)), "ms");
        report.add(name, "end-to-end latency p95", millis(Samples.percentile(sorted, 95)), "ms");
        report.add(name, "end-to-end latency p99", millis(Samples.percentile(sorted, 99)), "ms", null,
                cluster ? null : "490 ms at saturation", null);
        report.add(name, "lost, duplicated or reordered deliveries", (double) violations, "",
                Report.Target.atMost(0), null, violations == 0 ? sorted.length + " deliveries checked"
                        : violationSummary(sockets, senders));
        return run;
    }

    private void paced(List<BenchSocket> sockets, long latest) throws Exception {
        double seconds = Math.max(2, 10 * context.options.scale);
        int total = (int) (PACED_RATE * seconds);
        int perSender = (total + SENDERS - 1) / SENDERS;
        total = perSender * SENDERS;
        long deadline = context.deadline();
        String paced = scenario + " paced";
        Bench.log(paced + ": " + PACED_RATE + " msgs/s offered for " + seconds + " s (" + total + " messages)");
        List<Samples> latencies = expectAll(sockets, latest + total);
        List<Samples> sameNode = new ArrayList<>();
        List<Samples> crossNode = new ArrayList<>();
        if (cluster) {
            splitByNode(sockets, latencies, sameNode, crossNode);
        }
        CountDownLatch reached = reachedLatch(sockets, latest + total);
        List<Sender> senders = senders(sockets, "paced", perSender);
        CpuMeter cpu = context.cpu();
        MetricsWindow commits = MetricsWindow.open(context.servers);
        WakeupJitter jitter = WakeupJitter.start();
        long period = TimeUnit.SECONDS.toNanos(1) / PACED_RATE;
        long start = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(10);
        long behindMax = 0;
        for (int k = 0; k < total; k++) {
            long scheduled = start + k * period;
            long wait = scheduled - System.nanoTime();
            if (wait > 0) {
                LockSupport.parkNanos(wait);
            } else {
                behindMax = Math.max(behindMax, -wait);
            }
            senders.get(k % SENDERS).sendOne(k / SENDERS, scheduled);
        }
        double offered = total / ((System.nanoTime() - start) / 1e9);
        for (Sender sender : senders) {
            if (!sender.awaitAnswered(deadline)) {
                throw new TimeoutException("paced: sender " + sender.id + " did not get every ack in time");
            }
        }
        awaitReached(reached, sockets, deadline);
        jitter.close();
        commits.close();
        cpu.report(context.report, paced);
        long violations = violations(sockets, senders, latest, total, null);
        long[] sorted = Samples.sortedUnion(latencies);
        Report report = context.report;
        report.add(paced, "offered messages/s", offered, "msgs/s", null, null,
                "one message every " + period / 1000 + " us in turn from " + SENDERS + " senders; the pacer was at"
                        + " most " + Report.number(behindMax / 1e6) + " ms behind schedule");
        report.add(paced, "delivered frames/s", offered * CLIENTS, "frames/s");
        if (cluster) {
            long[] same = Samples.sortedUnion(sameNode);
            long[] cross = Samples.sortedUnion(crossNode);
            String sameNote = same.length + " deliveries from a sender on the recipient's node";
            report.add(paced, "same-node latency p50", millis(Samples.percentile(same, 50)), "ms", null, null,
                    sameNote);
            report.add(paced, SAME_NODE_P99, millis(Samples.percentile(same, 99)), "ms", null, null, sameNote);
            if (context.nodes() > 1) {
                String crossNote = cross.length + " deliveries from a sender on another node: its commit, NOTIFY,"
                        + " and the recipient's node reading the messages from PostgreSQL";
                report.add(paced, "cross-node latency p50", millis(Samples.percentile(cross, 50)), "ms", null, null,
                        crossNote);
                report.add(paced, CROSS_NODE_P99, millis(Samples.percentile(cross, 99)), "ms",
                        Report.Target.atMost(25), null, crossNote);
            }
        } else {
            report.add(paced, "end-to-end latency p50", millis(Samples.percentile(sorted, 50)), "ms");
            report.add(paced, "end-to-end latency p99", millis(Samples.percentile(sorted, 99)), "ms",
                    Report.Target.atMost(10), null, null);
        }
        report.add(paced, "end-to-end latency max", millis(sorted.length == 0 ? Double.NaN
                : sorted[sorted.length - 1]), "ms");
        long[][] firstAndSpread = firstAndSpread(latencies, total);
        report.add(paced, "latency to a message's first recipient p99",
                millis(Samples.percentile(firstAndSpread[0], 99)), "ms", null, null,
                "commit and hand-off: what every recipient waits for");
        report.add(paced, "fan-out spread p99 (last recipient minus first)",
                millis(Samples.percentile(firstAndSpread[1], 99)), "ms", null, null,
                "the writes to " + CLIENTS + " sockets and their reading");
        jitter.report(report, paced, "a thread of the load generator parking 1 ms again and again"
                + " meanwhile: the scheduling noise each hand-off between threads can meet");
        String noMetrics = commits.available() ? null : MetricsWindow.absentNote();
        report.add(paced, "server commit time (mean, disk sync included)", commits.meanCommitMillis(), "ms",
                null, null, noMetrics);
        report.add(paced, "server commits over 10 ms", commits.commitsOver10MillisPercent(), "%",
                null, null, noMetrics);
        report.add(paced, "lost, duplicated or reordered deliveries", (double) violations, "",
                Report.Target.atMost(0), null, violations == 0 ? sorted.length + " deliveries checked"
                        : violationSummary(sockets, senders));
    }

    /**
     * Records, besides every socket's latencies, those of the messages from a sender on the socket's own node in
     * {@code sameNode} and from a sender on another node in {@code crossNode} (one list entry per socket). The
     * sender is read from the text ({@code ... from sender <id>}); sender {@code id} is socket {@code id}.
     */
    private void splitByNode(List<BenchSocket> sockets, List<Samples> latencies, List<Samples> sameNode,
            List<Samples> crossNode) {
        for (int i = 0; i < sockets.size(); i++) {
            Samples all = latencies.get(i);
            Samples same = new Samples();
            Samples cross = new Samples();
            int node = context.nodeOf(i);
            sockets.get(i).latencies((nanos, frame) -> {
                all.add(nanos);
                int at = FrameScan.indexOf(frame, Audit.SENDER, 0);
                if (at >= 0) {
                    int sender = (int) FrameScan.digits(frame, at + Audit.SENDER.length());
                    (context.nodeOf(sender) == node ? same : cross).add(nanos);
                }
            });
            sameNode.add(same);
            crossNode.add(cross);
        }
    }

    /**
     * Per message (each socket's samples are in offset order, one per message): the latency to its first recipient
     * and how much later its last one got it, each sorted. Messages some socket has no sample of are left out.
     */
    private static long[][] firstAndSpread(List<Samples> latencies, int messages) {
        long[] first = new long[messages];
        long[] spread = new long[messages];
        int counted = 0;
        for (int m = 0; m < messages; m++) {
            long min = Long.MAX_VALUE;
            long max = Long.MIN_VALUE;
            boolean complete = true;
            for (Samples samples : latencies) {
                if (samples.size() <= m) {
                    complete = false;
                    break;
                }
                min = Math.min(min, samples.get(m));
                max = Math.max(max, samples.get(m));
            }
            if (complete) {
                first[counted] = min;
                spread[counted] = max - min;
                counted++;
            }
        }
        first = Arrays.copyOf(first, counted);
        spread = Arrays.copyOf(spread, counted);
        Arrays.sort(first);
        Arrays.sort(spread);
        return new long[][] {first, spread};
    }

    private List<Sender> senders(List<BenchSocket> sockets, String phase, int perSender) {
        List<Sender> senders = new ArrayList<>();
        for (int i = 0; i < SENDERS; i++) {
            senders.add(new Sender(i, sockets.get(i), context.runTag + "-" + phase, perSender));
        }
        return senders;
    }

    private static List<Samples> expectAll(List<BenchSocket> sockets, long last) {
        List<Samples> all = new ArrayList<>();
        for (BenchSocket socket : sockets) {
            Samples samples = new Samples();
            socket.latencies(samples);
            all.add(samples);
        }
        return all;
    }

    private static CountDownLatch reachedLatch(List<BenchSocket> sockets, long last) {
        CountDownLatch reached = new CountDownLatch(sockets.size());
        sockets.forEach(socket -> socket.expect(last, reached));
        return reached;
    }

    private static void awaitReached(CountDownLatch reached, List<BenchSocket> sockets, long deadline)
            throws InterruptedException, TimeoutException {
        if (!reached.await(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS)) {
            throw new TimeoutException(reached.getCount() + " of " + sockets.size() + " clients did not get the last"
                    + " message in time; first problem: " + Clients.firstProblem(sockets));
        }
    }

    /**
     * Every client: exactly the offsets after {@code latest} up to {@code latest + total}, each once, in order.
     * Every sender: one ack per message, inside that range; with an audit, the message at each acked offset is the
     * one that was acknowledged.
     */
    private static long violations(List<BenchSocket> sockets, List<Sender> senders, long latest, int total,
            Audit audit) {
        long violations = 0;
        for (BenchSocket socket : sockets) {
            violations += socket.orderErrors() + Math.abs(socket.chatFrames() - total - (latest - socket.fromOffset))
                    + (socket.lastOffset() == latest + total ? 0 : 1) + socket.errorFrames();
        }
        for (Sender sender : senders) {
            violations += sender.duplicateAcks() + sender.refusedCount();
            for (int seq = 0; seq < sender.count(); seq++) {
                long offset = sender.ackedOffset(seq);
                if (offset <= latest || offset > latest + total) {
                    violations++;
                } else if (audit != null && !audit.holds(offset, sender.id, seq)) {
                    violations++;
                }
            }
        }
        return violations;
    }

    private static String violationSummary(List<BenchSocket> sockets, List<Sender> senders) {
        long order = sockets.stream().mapToLong(BenchSocket::orderErrors).sum();
        long errors = sockets.stream().mapToLong(BenchSocket::errorFrames).sum();
        int duplicateAcks = senders.stream().mapToInt(Sender::duplicateAcks).sum();
        return order + " out-of-sequence frames, " + errors + " error frames, " + duplicateAcks
                + " duplicate acks; first problem: " + Clients.firstProblem(sockets);
    }

    private static double millis(double nanos) {
        return nanos / 1e6;
    }

    /** Which sender and message each offset of the run carried, as one client saw it. */
    private static final class Audit implements BenchSocket.ChatObserver {
        private static final String SEQ = " bench message ";
        private static final String SENDER = " from sender ";
        private final long latest;
        private final long[] senderAndSeq;

        Audit(long latest, int total) {
            this.latest = latest;
            this.senderAndSeq = new long[total];
            Arrays.fill(senderAndSeq, -1);
        }

        @Override
        public void chat(long offset, CharSequence frame) {
            int index = (int) (offset - latest - 1);
            if (index < 0 || index >= senderAndSeq.length) {
                return;
            }
            int seqAt = FrameScan.indexOf(frame, SEQ, 0);
            int senderAt = seqAt < 0 ? -1 : FrameScan.indexOf(frame, SENDER, seqAt);
            if (senderAt > 0) {
                long seq = FrameScan.digits(frame, seqAt + SEQ.length());
                long sender = FrameScan.digits(frame, senderAt + SENDER.length());
                senderAndSeq[index] = sender << 32 | seq;
            }
        }

        boolean holds(long offset, int sender, int seq) {
            return senderAndSeq[(int) (offset - latest - 1)] == ((long) sender << 32 | seq);
        }
    }
}
