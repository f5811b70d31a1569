package chat.bench;

import java.util.Arrays;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * How late a thread wakes on this machine with nothing else running: a thread parks for 1 ms a few thousand times
 * and records how much longer each park took. Every hand-off between threads in a latency figure can meet this much
 * scheduling noise, so the report shows it next to the end-to-end latencies.
 */
final class WakeupJitter {

    private static final int PARKS = 3_000;
    private static final long PARK_NANOS = TimeUnit.MILLISECONDS.toNanos(1);

    private WakeupJitter() {
    }

    static void measure(Report report) {
        long[] late = new long[PARKS];
        for (int i = 0; i < PARKS; i++) {
            long start = System.nanoTime();
            LockSupport.parkNanos(PARK_NANOS);
            late[i] = System.nanoTime() - start - PARK_NANOS;
        }
        Arrays.sort(late);
        String note = PARKS + " parks of 1 ms, before the server starts";
        report.add("machine", "thread wake-up delay p99", Samples.percentile(late, 99) / 1e6, "ms", null, null, note);
        report.add("machine", "thread wake-up delay p99.9", Samples.percentile(late, 99.9) / 1e6, "ms", null, null, note);
        report.add("machine", "thread wake-up delay max", late[PARKS - 1] / 1e6, "ms", null, null, note);
    }
}
