package chat.delivery;

import java.util.function.LongSupplier;

/**
 * How many messages one client address may send: {@code burst} at once, then {@code perSecond} on average (a token
 * bucket, kept as the time at which the next message would be due if the bucket were drained steadily). Shared by
 * the address's connections, whose frames Tomcat delivers on different threads: hence the lock, which is only
 * ever contended by connections of one address.
 */
final class TokenBucket {

    private static final long NANOS_PER_SECOND = 1_000_000_000L;

    private final long interval;
    private final long tolerance;
    private final LongSupplier nanoClock;
    private long due;

    /** @param perSecond 0 for no limit */
    TokenBucket(int perSecond, int burst, LongSupplier nanoClock) {
        this.interval = perSecond == 0 ? 0 : NANOS_PER_SECOND / perSecond;
        this.tolerance = interval * (burst - 1L);
        this.nanoClock = nanoClock;
        this.due = nanoClock.getAsLong();
    }

    /** @return true if a message may be sent now, and counts it */
    synchronized boolean tryTake() {
        if (interval == 0) {
            return true;
        }
        long now = nanoClock.getAsLong();
        long next = Math.max(due, now);
        if (next - now > tolerance) {
            return false;
        }
        due = next + interval;
        return true;
    }

    /** @return true if the whole burst could be sent now: the bucket is as good as a new one */
    synchronized boolean isFull() {
        return due - nanoClock.getAsLong() <= 0;
    }
}
