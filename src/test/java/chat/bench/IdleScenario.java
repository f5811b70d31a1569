package chat.bench;

import chat.testsupport.JvmProbe;

import java.io.IOException;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Idle connections held open: the server's heap after a GC and its resident memory, per connection.
 * {@code idle}: 10 000 from 127.0.0.1. {@code idle100k}: 100 000 from several loopback source addresses
 * (at most {@link #PER_SOURCE} each), as many as the open-files limits of the load generator and of the server allow (the
 * count is capped, and the report says by what, where they are lower), then how fast they were opened and how long
 * one message takes to reach them all.
 */
final class IdleScenario {

    private static final long SETTLE_MILLIS = 2_000;
    private static final Pattern HISTOGRAM_LINE = Pattern.compile("(?m)^\\s*\\d+:\\s+(\\d+)\\s+(\\d+)\\s+(\\S+)");
    private static final Pattern MAX_OPEN_FILES = Pattern.compile("(?m)^Max open files\\s+(\\d+|unlimited)");
    /** Connections per source address: one address runs out of ephemeral ports near 28 000. */
    static final int PER_SOURCE = 25_000;
    /** Descriptors left free in each process beyond those open before the scenario, for files, pools and logs. */
    private static final int DESCRIPTOR_MARGIN = 500;
    private static final double HEAP_TARGET_KIB = 12;

    private final BenchContext context;
    private final String name;

    IdleScenario(BenchContext context, String name) {
        this.context = context;
        this.name = name;
    }

    void run() throws Exception {
        boolean large = name.equals("idle100k");
        int wanted = large ? context.options.scaled(100_000, 1_000) : context.options.scaled(10_000, 500);
        Optional<JvmProbe> probe = context.probe();
        if (probe.isEmpty()) {
            context.report.add(name, "heap per idle connection", null, "KiB", Report.Target.atMost(HEAP_TARGET_KIB),
                    null, "the server's JVM is not local (bench.url)");
            return;
        }
        int count = wanted;
        String cap = null;
        if (large) {
            long pid = probe.get().pid();
            long own = FileLimit.of("self").headroom();
            long server = FileLimit.of(Long.toString(pid)).headroom();
            long allowed = (Math.min(own, server) - DESCRIPTOR_MARGIN) / 1_000 * 1_000;
            if (allowed < wanted) {
                count = (int) Math.max(1_000, allowed);
                cap = "capped at " + count + " of " + wanted + " by the open-files limit (RLIMIT_NOFILE, not"
                        + " raisable here) of the " + (own <= server ? "load generator" : "server") + ": load generator "
                        + FileLimit.of("self") + ", server " + FileLimit.of(Long.toString(pid)) + ", "
                        + DESCRIPTOR_MARGIN + " kept free";
                Bench.log(name + ": " + cap);
            }
        }
        WsClient client = large ? new NioWsClient(64, sources(count), 4 << 10) : null;
        BenchContext opening = large ? new BenchContext(context.options, context.server, context.report, client)
                : context;
        try {
            measure(opening, probe.get(), count, cap);
        } finally {
            if (client != null) {
                client.close();
            }
        }
    }

    private void measure(BenchContext opening, JvmProbe probe, int count, String cap) throws Exception {
        double openBefore = openConnections();
        long heapBefore = probe.heapAfterGc();
        long rssBefore = probe.residentBytes();
        long latest = context.server.latestOffset();
        // A phase per 20 000 connections: opening 100 000 takes minutes on two cores.
        long deadline = System.nanoTime()
                + context.options.phaseTimeout.toNanos() * Math.max(1, (count + 19_999) / 20_000);
        Bench.log(name + ": opening " + count + " connections");
        long start = System.nanoTime();
        List<BenchSocket> sockets = List.of();
        try {
            sockets = Clients.connect(opening, count, latest, 256, deadline);
            Clients.awaitSynced(sockets, deadline);
            double seconds = StorageFloor.seconds(start);
            Bench.log(name + ": " + count + " open and synced in " + Report.number(seconds) + " s, "
                    + Report.number(count / seconds) + " connections/s");
            Thread.sleep(SETTLE_MILLIS);
            long heapAfter = probe.heapAfterGc();
            long rssAfter = probe.residentBytes();
            String largest = largestClasses(probe, count);
            long closed = sockets.stream().filter(s -> s.closeCode() >= 0).count();
            Report report = context.report;
            report.add(name, "connections held open", (double) (count - closed), "", null, null, cap);
            report.add(name, "heap per idle connection (after GC)", (heapAfter - heapBefore) / 1024.0 / count,
                    "KiB", Report.Target.atMost(HEAP_TARGET_KIB), null, "heap after GC " + mib(heapBefore) + " -> "
                            + mib(heapAfter) + " MiB; " + largest);
            report.add(name, "RSS per idle connection", (rssAfter - rssBefore) / 1024.0 / count, "KiB", null,
                    "34 KB RSS", "VmRSS " + mib(rssBefore) + " -> " + mib(rssAfter) + " MiB");
            if (name.equals("idle100k")) {
                report.add(name, "accept rate (opened and synced)", count / seconds, "connections/s");
                report.add(name, "time to open them all", seconds, "s");
                broadcast(sockets, latest + 1, deadline);
            }
        } finally {
            Clients.abortAll(sockets);
            awaitClosed(openBefore);
        }
    }

    /**
     * Waits, a minute at most, until the server has closed the connections this scenario dropped, so that the next
     * scenario's heap before is not theirs.
     */
    private void awaitClosed(double openBefore) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(1);
        double open;
        while ((open = openConnections()) > openBefore && System.nanoTime() < deadline) {
            Thread.sleep(200);
        }
        if (open > openBefore) {
            Bench.log(name + ": the server still counts " + Report.number(open) + " connections a minute after"
                    + " they were dropped (" + Report.number(openBefore) + " before)");
        }
    }

    /** The server's chat_connections gauge; 0 without /metrics. */
    private double openConnections() {
        return context.server.metrics().map(metrics -> metrics.value("chat_connections")).orElse(0.0);
    }

    /**
     * One chat message from the first connection: the time from its send until the last connection got it. Nothing
     * else writes meanwhile, so it is stored under the offset after the newest one (its ack says so).
     */
    private void broadcast(List<BenchSocket> sockets, long offset, long deadline) throws Exception {
        CountDownLatch reached = new CountDownLatch(sockets.size());
        sockets.forEach(socket -> socket.expect(offset, reached));
        AtomicLong acked = new AtomicLong(-1);
        BenchSocket sender = sockets.get(0);
        sender.ackSink(new BenchSocket.AckSink() {
            @Override
            public void acked(String clientOffset, long stored) {
                acked.set(stored);
            }

            @Override
            public void refused(String clientOffset, String frame) {
                Bench.log(name + ": the broadcast was refused: " + frame);
            }
        });
        long sent = System.nanoTime();
        sender.send("{\"type\":\"chat message\",\"text\":\"" + sent + " broadcast to every idle connection\","
                + "\"clientOffset\":\"" + context.runTag + "-" + name + "\"}");
        boolean all = reached.await(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
        long last = sockets.stream().mapToLong(BenchSocket::reachedAtNanos).max().orElse(sent);
        if (acked.get() != offset) {
            throw new IllegalStateException("the broadcast was stored under " + acked.get() + ", not " + offset
                    + ": something else wrote meanwhile");
        }
        String note = all ? "one message from one of the " + sockets.size() + " connections, until the last got it"
                : "only " + (sockets.size() - reached.getCount()) + " of " + sockets.size() + " got it in time";
        context.report.add(name, "broadcast to all (last recipient)", all ? (last - sent) / 1e6 : Double.NaN, "ms",
                Report.Target.atMost(2_000), null, note);
    }

    /** 127.0.0.2, 127.0.0.3, ...: enough for {@code count} connections at {@link #PER_SOURCE} each. */
    private static List<InetAddress> sources(int count) throws IOException {
        List<InetAddress> sources = new ArrayList<>();
        for (int i = 0; i * PER_SOURCE < count; i++) {
            sources.add(InetAddress.getByAddress(new byte[] {127, 0, 0, (byte) (2 + i)}));
        }
        return sources;
    }

    /**
     * A process's open-files limit (its soft RLIMIT_NOFILE, /proc/pid/limits; a JVM raises it to the hard limit
     * as it starts) and the descriptors it has open now (/proc/pid/fd).
     */
    private record FileLimit(long limit, long open) {
        static FileLimit of(String pid) throws IOException {
            Matcher limit = MAX_OPEN_FILES.matcher(Files.readString(Path.of("/proc", pid, "limits")));
            if (!limit.find()) {
                throw new IOException("/proc/" + pid + "/limits names no 'Max open files'");
            }
            try (Stream<Path> descriptors = Files.list(Path.of("/proc", pid, "fd"))) {
                return new FileLimit(limit.group(1).equals("unlimited") ? Long.MAX_VALUE / 2
                        : Long.parseLong(limit.group(1)), descriptors.count());
            }
        }

        long headroom() {
            return limit - open;
        }

        @Override
        public String toString() {
            return limit + " files, " + open + " open before";
        }
    }

    /**
     * The classes with the most live bytes while the connections are open (jcmd GC.class_histogram), per connection;
     * the whole histogram goes to target/bench/{@code name}-class-histogram.txt.
     */
    private String largestClasses(JvmProbe probe, int connections) throws Exception {
        String histogram = probe.jcmd("GC.class_histogram");
        Files.createDirectories(context.options.outputDirectory);
        Files.writeString(context.options.outputDirectory.resolve(name + "-class-histogram.txt"), histogram);
        List<String> top = new ArrayList<>();
        Matcher line = HISTOGRAM_LINE.matcher(histogram);
        while (line.find() && top.size() < 6) {
            top.add(line.group(3) + " " + Report.number(Long.parseLong(line.group(2)) / (double) connections)
                    + " B (" + Report.number(Long.parseLong(line.group(1)) / (double) connections) + " objects)");
        }
        return "live bytes per connection by class: " + String.join(", ", top)
                + "; all in " + name + "-class-histogram.txt";
    }

    private static String mib(long bytes) {
        return Report.number(bytes / (1024.0 * 1024));
    }
}
