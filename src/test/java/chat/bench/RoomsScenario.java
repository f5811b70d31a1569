package chat.bench;

import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * 1 000 rooms with 10 connections each (10 000 connections, each in one room, v2) and 100 senders spread over
 * them, one in every tenth room, at full speed (window 32): delivered frames/s and end-to-end latency next to the
 * one-room fanout, and whether every client got every message of its room once, in order, and nothing of another.
 * Each room counts its own offsets from 1, so every run uses rooms of its own.
 */
final class RoomsScenario {

    static final int ROOMS = 1_000;
    static final int PER_ROOM = 10;
    /** One sender in every {@code SENDER_EVERY}-th room. */
    static final int SENDER_EVERY = 10;
    static final int WINDOW = 32;
    static final String FANOUT_METRIC = "delivered frames/s (" + FanoutScenario.CLIENTS + " clients)";

    private final BenchContext context;

    RoomsScenario(BenchContext context) {
        this.context = context;
    }

    void run() throws Exception {
        int rooms = context.options.scaled(ROOMS, 20);
        int clients = rooms * PER_ROOM;
        int perSender = context.options.scaled(200, 20);
        long deadline = context.deadline();
        String prefix = "bench-" + context.runTag + "-";
        Bench.log("rooms: connecting " + clients + " clients to " + rooms + " rooms");
        List<BenchSocket> sockets = Clients.connect(context, clients, i -> prefix + i / PER_ROOM, 0, 256, deadline);
        try {
            Clients.awaitSynced(sockets, deadline);
            measure(sockets, rooms, perSender);
        } finally {
            Clients.abortAll(sockets);
        }
    }

    private void measure(List<BenchSocket> sockets, int rooms, int perSender) throws Exception {
        long deadline = context.deadline();
        List<Sender> senders = new ArrayList<>();
        List<BenchSocket> recipients = new ArrayList<>();
        List<Samples> latencies = new ArrayList<>();
        for (int room = 0; room < rooms; room += SENDER_EVERY) {
            senders.add(new Sender(senders.size(), sockets.get(room * PER_ROOM), context.runTag + "-rooms", perSender));
            recipients.addAll(sockets.subList(room * PER_ROOM, (room + 1) * PER_ROOM));
        }
        CountDownLatch reached = new CountDownLatch(recipients.size());
        for (BenchSocket socket : recipients) {
            Samples samples = new Samples();
            socket.latencies(samples);
            latencies.add(samples);
            socket.expect(perSender, reached);
        }
        Bench.log("rooms: " + senders.size() + " senders x " + perSender + " messages, window " + WINDOW + ", each to"
                + " the " + PER_ROOM + " clients of its room");
        CpuMeter cpu = context.cpu();
        long start = System.nanoTime();
        Clients.sendAll(senders, WINDOW, deadline);
        if (!reached.await(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS)) {
            throw new TimeoutException(reached.getCount() + " of " + recipients.size() + " clients did not get"
                    + " their room's last message in time; first problem: " + Clients.firstProblem(sockets));
        }
        cpu.report(context.report, "rooms");
        long delivered = recipients.stream().mapToLong(BenchSocket::reachedAtNanos).max().orElseThrow();
        double framesPerSecond = (double) senders.size() * perSender * PER_ROOM / ((delivered - start) / 1e9);

        long violations = violations(sockets, recipients, senders, perSender);
        long[] sorted = Samples.sortedUnion(latencies);
        Report report = context.report;
        Double oneRoom = report.value("fanout", FANOUT_METRIC);
        report.add("rooms", "delivered frames/s (" + sockets.size() + " clients in " + rooms + " rooms)",
                framesPerSecond, "frames/s", oneRoom == null ? null : Report.Target.atLeast(0.8 * oneRoom), null,
                oneRoom == null ? "no target: the fanout scenario did not run before it"
                        : "at most 20 % below the one-room fanout's " + Report.number(oneRoom) + " frames/s");
        report.add("rooms", "end-to-end latency p50", Samples.percentile(sorted, 50) / 1e6, "ms");
        report.add("rooms", "end-to-end latency p99", Samples.percentile(sorted, 99) / 1e6, "ms");
        report.add("rooms", "lost, duplicated, reordered or misrouted deliveries", (double) violations, "",
                Report.Target.atMost(0), null, violations == 0 ? sorted.length + " deliveries checked"
                        : Clients.firstProblem(sockets));
    }

    /**
     * Every client of a room with a sender: exactly offsets 1 to {@code perSender}, each once, in order; every other
     * client: nothing. Every sender: one ack per message, inside that range.
     */
    private static long violations(List<BenchSocket> sockets, List<BenchSocket> recipients, List<Sender> senders,
            int perSender) {
        Set<BenchSocket> inRoomsWithASender = Collections.newSetFromMap(new IdentityHashMap<>());
        inRoomsWithASender.addAll(recipients);
        long violations = 0;
        for (BenchSocket socket : sockets) {
            long expected = inRoomsWithASender.contains(socket) ? perSender : 0;
            violations += socket.orderErrors() + Math.abs(socket.chatFrames() - expected)
                    + (socket.lastOffset() == expected ? 0 : 1) + socket.errorFrames();
        }
        for (Sender sender : senders) {
            violations += sender.duplicateAcks() + sender.refusedCount();
            for (int seq = 0; seq < sender.count(); seq++) {
                long offset = sender.ackedOffset(seq);
                if (offset < 1 || offset > perSender) {
                    violations++;
                }
            }
        }
        return violations;
    }
}
