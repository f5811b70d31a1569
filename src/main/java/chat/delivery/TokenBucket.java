package chat.delivery;

import java.util.function.LongSupplier;

/**
 * How many messages one connection may send: {@code burst} at once, then {@code perSecond} on average (a token
 * bucket, kept as the time at which the next message would be due if the bucket were drained steadily). Used on
 * the connection's own receive path only (Tomcat delivers one frame of a session at a time), so it needs no lock.
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
    boolean tryTake() {
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
}
