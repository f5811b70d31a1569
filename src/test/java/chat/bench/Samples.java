package chat.bench;

import java.util.Arrays;
import java.util.List;

/** Latencies in nanoseconds, appended by one thread (a socket's), read after the run. */
final class Samples {

    private long[] values = new long[1024];
    private int size;

    void add(long value) {
        if (size == values.length) {
            values = Arrays.copyOf(values, size * 2);
        }
        values[size++] = value;
    }

    int size() {
        return size;
    }

    long get(int index) {
        return values[index];
    }

    /** All samples of all the given sets, sorted. */
    static long[] sortedUnion(List<Samples> all) {
        int total = all.stream().mapToInt(Samples::size).sum();
        long[] union = new long[total];
        int at = 0;
        for (Samples samples : all) {
            System.arraycopy(samples.values, 0, union, at, samples.size);
            at += samples.size;
        }
        Arrays.sort(union);
        return union;
    }

    /** The {@code p}-th percentile (0 < p <= 100) of sorted values, by the nearest-rank method; NaN if empty. */
    static double percentile(long[] sorted, double p) {
        if (sorted.length == 0) {
            return Double.NaN;
        }
        int rank = (int) Math.ceil(p / 100.0 * sorted.length);
        return sorted[Math.max(0, Math.min(sorted.length - 1, rank - 1))];
    }
}
