package chat.bench;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * How late a thread wakes on this machine: a thread parks for 1 ms again and again and records how much longer each
 * park took. Every hand-off between threads in a latency figure can meet this much scheduling noise, so the report
 * shows it for the idle machine and again while the paced fan-out runs.
 */
final class WakeupJitter implements AutoCloseable {

    private static final long PARK_NANOS = TimeUnit.MILLISECONDS.toNanos(1);

    private final Samples late = new Samples();
    private final Thread thread;
    private volatile boolean running = true;

    private WakeupJitter() {
        thread = new Thread(this::run, "wakeup-jitter");
        thread.setDaemon(true);
        thread.start();
    }

    /** Starts parking on a thread of its own until {@link #close()}. */
    static WakeupJitter start() {
        return new WakeupJitter();
    }

    /** The idle machine, before the server starts: a few seconds of parks. */
    static void measureIdle(Report report) throws InterruptedException {
        WakeupJitter jitter = start();
        Thread.sleep(3_000);
        jitter.close();
        jitter.report(report, "machine", "3 s of parks of 1 ms before the server starts");
    }

    private void run() {
        while (running) {
            long start = System.nanoTime();
            LockSupport.parkNanos(PARK_NANOS);
            late.add(System.nanoTime() - start - PARK_NANOS);
        }
    }

    @Override
    public void close() throws InterruptedException {
        running = false;
        thread.join(1_000);
    }

    /** After {@link #close()}: p99, p99.9 and the maximum of the delays, in ms. */
    void report(Report report, String scenario, String note) {
        long[] sorted = Samples.sortedUnion(java.util.List.of(late));
        report.add(scenario, "thread wake-up delay p99", Samples.percentile(sorted, 99) / 1e6, "ms", null, null, note);
        report.add(scenario, "thread wake-up delay p99.9", Samples.percentile(sorted, 99.9) / 1e6, "ms", null, null,
                note);
        report.add(scenario, "thread wake-up delay max", sorted.length == 0 ? Double.NaN
                : sorted[sorted.length - 1] / 1e6, "ms", null, null, note);
    }
}
