package chat.bench;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.DirectoryStream;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.OptionalLong;
import java.util.stream.Collectors;

/**
 * CPU time the server's JVM and this load generator spent over a phase, as cores busy on average, and what the
 * rest of the machine took meanwhile: on a shared 2-core machine it says which side a figure is limited by, and
 * whether other work competed for the cores.
 */
final class CpuMeter {

    /** USER_HZ: /proc/pid/stat counts clock ticks, 100 a second on Linux. */
    private static final double TICKS_PER_SECOND = 100;

    private static final String OTHERS_NOTE = "all cores busy (/proc/stat) minus the server and the load generator;"
            + " above 0.1 cores, other work competed for the machine";

    private final OptionalLong serverPid;
    private final long startNanos;
    private final long clientStart;
    private final double serverStart;
    private final Map<String, Double> serverThreadsStart;
    private final double machineStart;

    private CpuMeter(OptionalLong serverPid) {
        this.serverPid = serverPid;
        this.startNanos = System.nanoTime();
        this.clientStart = clientCpuNanos();
        this.serverStart = serverCpuSeconds();
        this.serverThreadsStart = serverThreadSeconds();
        this.machineStart = machineBusySeconds();
    }

    static CpuMeter start(OptionalLong serverPid) {
        return new CpuMeter(serverPid);
    }

    /** Adds "server CPU" and "load generator CPU" rows, in cores busy on average since the start. */
    void report(Report report, String scenario) {
        double wall = (System.nanoTime() - startNanos) / 1e9;
        double server = serverCpuSeconds() - serverStart;
        report.add(scenario, "server CPU", server / wall, "cores", null, null,
                Double.isNaN(server) ? "the server's JVM is not local" : busiestThreads(wall));
        double client = (clientCpuNanos() - clientStart) / 1e9;
        report.add(scenario, "load generator CPU", client / wall, "cores");
        double others = machineBusySeconds() - machineStart - client - (Double.isNaN(server) ? 0 : server);
        report.add(scenario, serverPid.isPresent() ? "other processes' CPU" : "other processes' CPU (server included)",
                Math.max(0, others) / wall, "cores", null, null, OTHERS_NOTE);
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

    /** CPU seconds per thread name of the server, with the digits of pooled threads' names dropped. */
    private Map<String, Double> serverThreadSeconds() {
        Map<String, Double> byName = new HashMap<>();
        if (serverPid.isEmpty()) {
            return byName;
        }
        try (DirectoryStream<Path> tasks = Files.newDirectoryStream(Path.of("/proc/" + serverPid.getAsLong() + "/task"))) {
            for (Path task : tasks) {
                try {
                    String stat = Files.readString(task.resolve("stat"));
                    String name = stat.substring(stat.indexOf('(') + 1, stat.lastIndexOf(')')).replaceAll("\\d+", "N");
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

    private double serverCpuSeconds() {
        if (serverPid.isEmpty()) {
            return Double.NaN;
        }
        try {
            String stat = Files.readString(Path.of("/proc/" + serverPid.getAsLong() + "/stat"));
            // Fields after the command name in parentheses, which may itself hold spaces; utime and stime are 14, 15.
            String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            return (Long.parseLong(fields[11]) + Long.parseLong(fields[12])) / TICKS_PER_SECOND;
        } catch (IOException | RuntimeException e) {
            return Double.NaN;
        }
    }
}
