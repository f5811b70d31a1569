package chat.bench;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.OptionalLong;

/**
 * CPU time the server's JVM and this load generator spent over a phase, as cores busy on average: on a shared
 * 2-core machine it says which side a figure is limited by.
 */
final class CpuMeter {

    /** USER_HZ: /proc/pid/stat counts clock ticks, 100 a second on Linux. */
    private static final double TICKS_PER_SECOND = 100;

    private final OptionalLong serverPid;
    private final long startNanos;
    private final long clientStart;
    private final double serverStart;

    private CpuMeter(OptionalLong serverPid) {
        this.serverPid = serverPid;
        this.startNanos = System.nanoTime();
        this.clientStart = clientCpuNanos();
        this.serverStart = serverCpuSeconds();
    }

    static CpuMeter start(OptionalLong serverPid) {
        return new CpuMeter(serverPid);
    }

    /** Adds "server CPU" and "load generator CPU" rows, in cores busy on average since the start. */
    void report(Report report, String scenario) {
        double wall = (System.nanoTime() - startNanos) / 1e9;
        double server = serverCpuSeconds() - serverStart;
        report.add(scenario, "server CPU", server / wall, "cores", null, null,
                Double.isNaN(server) ? "the server's JVM is not local" : null);
        report.add(scenario, "load generator CPU", (clientCpuNanos() - clientStart) / 1e9 / wall, "cores");
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
