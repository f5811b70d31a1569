package chat.bench;

import chat.testsupport.JvmProbe;

import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.Optional;

/** 10 000 idle connections held open: the server's heap after a GC and its resident memory, per connection. */
final class IdleScenario {

    private static final long SETTLE_MILLIS = 2_000;
    private static final Pattern HISTOGRAM_LINE = Pattern.compile("(?m)^\\s*\\d+:\\s+(\\d+)\\s+(\\d+)\\s+(\\S+)");

    private final BenchContext context;

    IdleScenario(BenchContext context) {
        this.context = context;
    }

    void run() throws Exception {
        int count = context.options.scaled(10_000, 500);
        Optional<JvmProbe> probe = context.probe();
        if (probe.isEmpty()) {
            context.report.add("idle", "heap per idle connection", null, "KiB", Report.Target.atMost(16), null,
                    "the server's JVM is not local (bench.url)");
            return;
        }
        long heapBefore = probe.get().heapAfterGc();
        long rssBefore = probe.get().residentBytes();
        long latest = context.server.latestOffset();
        long deadline = context.deadline();
        Bench.log("idle: opening " + count + " connections");
        long start = System.nanoTime();
        List<BenchSocket> sockets = List.of();
        try {
            sockets = Clients.connect(context, count, latest, 256, deadline);
            Clients.awaitSynced(sockets, deadline);
            double opened = count / StorageFloor.seconds(start);
            Bench.log("idle: " + count + " open and synced at " + Report.number(opened) + " connections/s");
            Thread.sleep(SETTLE_MILLIS);
            long heapAfter = probe.get().heapAfterGc();
            long rssAfter = probe.get().residentBytes();
            String largest = largestClasses(probe.get(), count);
            long closed = sockets.stream().filter(s -> s.closeCode() >= 0).count();
            Report report = context.report;
            report.add("idle", "connections held open", (double) (count - closed), "");
            report.add("idle", "heap per idle connection (after GC)", (heapAfter - heapBefore) / 1024.0 / count,
                    "KiB", Report.Target.atMost(16), null, "heap after GC " + mib(heapBefore) + " -> "
                            + mib(heapAfter) + " MiB; " + largest);
            report.add("idle", "RSS per idle connection", (rssAfter - rssBefore) / 1024.0 / count, "KiB", null,
                    "34 KB RSS", "VmRSS " + mib(rssBefore) + " -> " + mib(rssAfter) + " MiB");
        } finally {
            Clients.abortAll(sockets);
        }
    }

    /**
     * The classes with the most live bytes while the connections are open (jcmd GC.class_histogram), per connection;
     * the whole histogram goes to target/bench/idle-class-histogram.txt.
     */
    private String largestClasses(JvmProbe probe, int connections) throws Exception {
        String histogram = probe.jcmd("GC.class_histogram");
        Files.createDirectories(context.options.outputDirectory);
        Files.writeString(context.options.outputDirectory.resolve("idle-class-histogram.txt"), histogram);
        List<String> top = new ArrayList<>();
        Matcher line = HISTOGRAM_LINE.matcher(histogram);
        while (line.find() && top.size() < 6) {
            top.add(line.group(3) + " " + Report.number(Long.parseLong(line.group(2)) / (double) connections)
                    + " B (" + Report.number(Long.parseLong(line.group(1)) / (double) connections) + " objects)");
        }
        return "live bytes per connection by class: " + String.join(", ", top)
                + "; all in idle-class-histogram.txt";
    }

    private static String mib(long bytes) {
        return Report.number(bytes / (1024.0 * 1024));
    }
}
