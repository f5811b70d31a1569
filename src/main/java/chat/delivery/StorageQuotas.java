package chat.delivery;

import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;

/**
 * The bytes each client address may have stored in one day (UTC): a client that fills the disk is refused
 * before its messages reach the writer. Counted in memory from the texts sent for storage (UTF-8), resends
 * included; a day's count starts at zero, and a restart starts every count afresh.
 */
final class StorageQuotas {

    private static final long MILLIS_PER_DAY = 86_400_000L;
    /** Addresses counted before the first sweep for those of earlier days. */
    private static final int FIRST_SWEEP_AT = 1_024;

    private final long maxBytesPerDay;
    private final LongSupplier millisClock;
    private final ConcurrentHashMap<String, Usage> byAddress = new ConcurrentHashMap<>();
    /** Written under the sweep, read racily: a sweep more or less changes nothing. */
    private volatile int nextSweepAt = FIRST_SWEEP_AT;

    /** @param maxBytesPerDay 0 for no quota */
    StorageQuotas(long maxBytesPerDay, LongSupplier millisClock) {
        this.maxBytesPerDay = maxBytesPerDay;
        this.millisClock = millisClock;
    }

    long maxBytesPerDay() {
        return maxBytesPerDay;
    }

    /** @return true if {@code address} may store {@code bytes} more today, now counted; false if over its quota */
    boolean tryCharge(String address, long bytes) {
        if (maxBytesPerDay == 0) {
            return true;
        }
        long today = Math.floorDiv(millisClock.getAsLong(), MILLIS_PER_DAY);
        if (byAddress.size() >= nextSweepAt) {
            sweep(today);
        }
        boolean[] charged = new boolean[1];
        byAddress.compute(address, (key, usage) -> {
            long used = usage == null || usage.day != today ? 0 : usage.bytes;
            if (used + bytes > maxBytesPerDay) {
                return usage;
            }
            charged[0] = true;
            return new Usage(today, used + bytes);
        });
        return charged[0];
    }

    private synchronized void sweep(long today) {
        if (byAddress.size() < nextSweepAt) {
            return;
        }
        byAddress.values().removeIf(usage -> usage.day != today);
        nextSweepAt = Math.max(FIRST_SWEEP_AT, 2 * byAddress.size());
    }

    private record Usage(long day, long bytes) {
    }
}
