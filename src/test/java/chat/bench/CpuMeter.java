package chat.bench;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.DirectoryStream;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.stream.Collectors;

/**
 * CPU time the server's JVM (every node's, on a cluster), PostgreSQL's processes if the chat stores there, and this
 * load generator spent over a phase, as cores busy on average, and what the rest of the machine took meanwhile: on a shared 2-core machine it says which side a figure is limited by, and
 * whether other work competed for the cores.
 */
final class CpuMeter {

    /** USER_HZ: /proc/pid/stat counts clock ticks, 100 a second on Linux. */
    private static final double TICKS_PER_SECOND = 100;

    private static final String OTHERS_NOTE = "all cores busy (/proc/stat) minus the server, the load generator"
            + " and PostgreSQL if any;"
            + " above 0.1 cores, other work competed for the machine";

    private final List<Long> serverPids;
    /** Whether the server (or one node of it) is not a local process: its CPU counts as other processes'. */
    private final boolean remoteServer;
    private final OptionalLong databasePid;
    private final long startNanos;
    private final long clientStart;
    private final double serverStart;
    private final Map<String, Double> serverThreadsStart;
    private final Map<Long, Double> databaseStart;
    private final double machineStart;
    /** What PostgreSQL's sessions wait for over the phase, or null without PostgreSQL. */
    private final PostgresWaits.Window waits;

    private CpuMeter(List<Long> serverPids, boolean remoteServer, OptionalLong databasePid, PostgresWaits waits) {
        this.waits = waits == null ? null : waits.start();
        this.serverPids = List.copyOf(serverPids);
        this.remoteServer = remoteServer;
        this.databasePid = databasePid;
        this.startNanos = System.nanoTime();
        this.clientStart = clientCpuNanos();
        this.serverStart = serverCpuSeconds();
        this.serverThreadsStart = serverThreadSeconds();
        this.databaseStart = databaseProcessSeconds();
        this.machineStart = machineBusySeconds();
    }

    /**
     * @param serverPids the server's JVM, or every node's on a cluster (their CPU is summed)
     * @param remoteServer whether the server, or a node of it, runs elsewhere ({@code bench.url})
     * @param databasePid PostgreSQL's postmaster: it and its children are reported apart; empty for SQLite
     * @param waits PostgreSQL's sessions, sampled over the phase and reported with its CPU; null for SQLite
     */
    static CpuMeter start(List<Long> serverPids, boolean remoteServer, OptionalLong databasePid,
            PostgresWaits waits) {
        return new CpuMeter(serverPids, remoteServer, databasePid, waits);
    }

    /**
     * Adds "server CPU" and "load generator CPU" rows (and "PostgreSQL CPU" with a database), in cores busy on
     * average since the start.
     */
    void report(Report report, String scenario) {
        double wall = (System.nanoTime() - startNanos) / 1e9;
        double server = serverCpuSeconds() - serverStart;
        String nodes = serverPids.size() > 1 ? " (" + serverPids.size() + " nodes)" : "";
        report.add(scenario, "server CPU" + nodes, server / wall, "cores", null, null,
                Double.isNaN(server) ? "the server's JVM is not local" : busiestThreads(wall));
        double client = (clientCpuNanos() - clientStart) / 1e9;
        report.add(scenario, "load generator CPU", client / wall, "cores");
        double database = 0;
        if (databasePid.isPresent()) {
            Map<Long, Double> now = databaseProcessSeconds();
            for (Map.Entry<Long, Double> process : now.entrySet()) {
                // A backend started during the phase spent all its CPU in it.
                database += process.getValue() - databaseStart.getOrDefault(process.getKey(), 0.0);
            }
            report.add(scenario, "PostgreSQL CPU", database / wall, "cores", null, null,
                    "the postmaster and its children (backends, WAL writer, checkpointer)");
        }
        double others = machineBusySeconds() - machineStart - client - (Double.isNaN(server) ? 0 : server) - database;
        report.add(scenario, remoteServer ? "other processes' CPU (server included)" : "other processes' CPU",
                Math.max(0, others) / wall, "cores", null, null, OTHERS_NOTE);
        if (waits != null) {
            waits.report(report, scenario);
        }
    }

    /** CPU seconds of the postmaster and of each of its descendants now, by pid. */
    private Map<Long, Double> databaseProcessSeconds() {
        Map<Long, Double> byPid = new HashMap<>();
        if (databasePid.isEmpty()) {
            return byPid;
        }
        Optional<ProcessHandle> postmaster = ProcessHandle.of(databasePid.getAsLong());
        if (postmaster.isEmpty()) {
            return byPid;
        }
        List<Long> pids = new ArrayList<>();
        pids.add(databasePid.getAsLong());
        postmaster.get().descendants().forEach(child -> pids.add(child.pid()));
        for (long pid : pids) {
            double seconds = processCpuSeconds(pid);
            if (!Double.isNaN(seconds)) {
                byPid.put(pid, seconds);
            }
        }
        return byPid;
    }

    /** The server threads that used the most CPU since the start, by name (pooled threads summed). */
    private String busiestThreads(double wall) {
        Map<String, Double> now = serverThreadSeconds();
        Map<String, Double> used = new HashMap<>();
        now.forEach((name, seconds) -> used.put(name, seconds - serverThreadsStart.getOrDefault(name, 0.0)));
        return "busiest threads (cores): " + used.entrySet().stream()
                .sorted(Map.Entry.<String, Double>comparingByValue().reversed()).limit(4)
                .map(e -> e.getKey() + " " + String.format(Locale.ROOT, "%.2f", e.getValue() / wall))
                .collect(Collectors.joining(", "));
    }

    /** CPU seconds per thread name of the server (of all nodes), with the digits of pooled threads' names dropped. */
    private Map<String, Double> serverThreadSeconds() {
        Map<String, Double> byName = new HashMap<>();
        for (long pid : serverPids) {
            try (DirectoryStream<Path> tasks = Files.newDirectoryStream(Path.of("/proc/" + pid + "/task"))) {
                for (Path task : tasks) {
                    try {
                        String stat = Files.readString(task.resolve("stat"));
                        String name = stat.substring(stat.indexOf('(') + 1, stat.lastIndexOf(')'))
                                .replaceAll("\\d+", "N");
                        String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
                        double seconds = (Long.parseLong(fields[11]) + Long.parseLong(fields[12])) / TICKS_PER_SECOND;
                        byName.merge(name, seconds, Double::sum);
                    } catch (IOException | RuntimeException threadEnded) {
                        // the thread ended while we looked
                    }
                }
            } catch (IOException e) {
                // the process ended
            }
        }
        return byName;
    }

    /** Seconds all cores of the machine were busy (not idle, not waiting for I/O) since boot. */
    static double machineBusySeconds() {
        try {
            String[] fields = Files.readAllLines(Path.of("/proc/stat")).get(0).trim().split("\\s+");
            long busy = 0;
            for (int i = 1; i < fields.length && i <= 8; i++) {
                if (i != 4 && i != 5) {
                    busy += Long.parseLong(fields[i]);
                }
            }
            return busy / TICKS_PER_SECOND;
        } catch (IOException | RuntimeException e) {
            return Double.NaN;
        }
    }

    private static long clientCpuNanos() {
        return ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean())
                .getProcessCpuTime();
    }

    /** The server's CPU seconds since the start, summed over its nodes; NaN if it is not local. */
    double serverSecondsSinceStart() {
        return serverCpuSeconds() - serverStart;
    }

    /** The server's CPU seconds, summed over its nodes; NaN if it is not local. */
    private double serverCpuSeconds() {
        if (serverPids.isEmpty()) {
            return Double.NaN;
        }
        double sum = 0;
        for (long pid : serverPids) {
            sum += processCpuSeconds(pid);
        }
        return sum;
    }

    /** utime + stime of a process, NaN if it is gone or cannot be looked into. */
    private static double processCpuSeconds(long pid) {
        try {
            String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
            // Fields after the command name in parentheses, which may itself hold spaces; utime and stime are 14, 15.
            String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            return (Long.parseLong(fields[11]) + Long.parseLong(fields[12])) / TICKS_PER_SECOND;
        } catch (IOException | RuntimeException e) {
            return Double.NaN;
        }
    }
}
