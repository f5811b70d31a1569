package chat.bench;

import chat.testsupport.ChatClient;
import chat.testsupport.RawWebSocket;

import java.io.IOException;
import java.net.URI;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

/**
 * One client address attacks the chat while another client keeps chatting: 40 connections replayed a history of
 * 700 messages of 10 000 control characters (60 KB frames) from offset 0, never reading and keeping alive with
 * unsolicited pongs, until the server has closed them all for stalling (two waves of chat.stalledReplaySeconds).
 * Once a second meanwhile a probe connects from the newest offset, is synced, sends and gets its ack. Reported:
 * whether the server stayed up, the probes' synced and ack p99, and the server's peak heap. ReplayHeapAttackIT is
 * the short variant of the same attack in the tests; the heartbeat under stalled peers is HeartbeatIT's.
 */
final class AbuseScenario {

    private static final int HISTORY = 700;
    private static final String HUGE_TEXT = "\u0001".repeat(10_000);
    private static final int ATTACKERS = 40;
    private static final long PROBE_EVERY_MILLIS = 1_000;
    /** Two waves of the default chat.stalledReplaySeconds (30 s), and some. */
    private static final long ATTACK_MILLIS = TimeUnit.SECONDS.toMillis(2 * 30 + 15);

    private final BenchContext context;

    AbuseScenario(BenchContext context) {
        this.context = context;
    }

    void run() throws Exception {
        URI base = URI.create(context.server.chatUri().toString().replaceFirst("^ws", "http")).resolve(".");
        int history = context.options.scaled(HISTORY, 100);
        Bench.log("abuse: storing " + history + " messages of 10 000 control characters");
        ChatClient.storeAll(base, HUGE_TEXT, history, context.runTag + "-abuse");
        probe(base); // the load generator's first connection of this client: not a figure of the server's

        Optional<HeapSampler> heap = context.server.pid().isPresent()
                ? Optional.of(HeapSampler.start(context.server.pid().getAsLong())) : Optional.empty();
        List<RawWebSocket> attackers = new ArrayList<>();
        Samples synced = new Samples();
        Samples acked = new Samples();
        Set<RawWebSocket> closed = new HashSet<>();
        try {
            for (int i = 0; i < ATTACKERS; i++) {
                attackers.add(RawWebSocket.open(base, "?serverOffset=0", 4_096));
            }
            Bench.log("abuse: " + ATTACKERS + " connections replaying " + history + " large messages, never reading");
            long end = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(ATTACK_MILLIS);
            while (System.nanoTime() < end && closed.size() < ATTACKERS) {
                for (RawWebSocket attacker : attackers) {
                    try {
                        attacker.pong();
                    } catch (IOException closedByTheServer) {
                        closed.add(attacker);
                    }
                }
                long[] times = probe(base);
                synced.add(times[0]);
                acked.add(times[1]);
                Thread.sleep(PROBE_EVERY_MILLIS);
            }
        } finally {
            attackers.forEach(RawWebSocket::abort);
            if (heap.isPresent()) {
                heap.get().close();
            }
        }
        Report report = context.report;
        boolean up;
        try {
            context.server.latestOffset();
            up = true;
        } catch (IOException down) {
            up = false;
        }
        report.add("abuse", "server up after the replay heap attack", up ? 1.0 : 0.0, "", Report.Target.atLeast(1),
                null, closed.size() + " of " + ATTACKERS + " stalled replays closed by the server");
        long[] syncedSorted = Samples.sortedUnion(List.of(synced));
        long[] ackedSorted = Samples.sortedUnion(List.of(acked));
        report.add("abuse", "others' synced p99 during the attack", Samples.percentile(syncedSorted, 99) / 1e6,
                "ms", Report.Target.atMost(1_000), null, synced.size() + " probes, one a second");
        report.add("abuse", "others' ack p99 during the attack", Samples.percentile(ackedSorted, 99) / 1e6, "ms",
                Report.Target.atMost(1_000), null, null);
        if (heap.isPresent()) {
            report.add("abuse", "server heap peak during the attack", heap.get().peakBytes() / (1024.0 * 1024),
                    "MiB", null, null, "chat.replayMemoryMax is a quarter of the heap");
        }
    }

    /** @return nanoseconds from connecting to synced, and from sending to the ack */
    private long[] probe(URI base) throws Exception {
        long start = System.nanoTime();
        try (ChatClient client = ChatClient.connect(base, context.server.latestOffset())) {
            client.awaitSyncedFrame();
            long syncedAt = System.nanoTime();
            client.sendChat("probe", "probe-" + UUID.randomUUID());
            client.nextAck();
            return new long[] {syncedAt - start, System.nanoTime() - syncedAt};
        }
    }
}
