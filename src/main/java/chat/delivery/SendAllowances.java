package chat.delivery;

import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;

/**
 * The message rate of each client address, shared by all of its connections: a client that reconnects, or opens
 * many connections, gets no more than one that keeps a single connection open. An address's bucket outlives its
 * connections until it has filled up again; a full bucket is no different from a new one, so then it is dropped.
 */
final class SendAllowances {

    /** Buckets kept before the first sweep for full ones. */
    private static final int FIRST_SWEEP_AT = 1_024;

    private final int perSecond;
    private final int burst;
    private final LongSupplier nanoClock;
    private final ConcurrentHashMap<String, TokenBucket> byAddress = new ConcurrentHashMap<>();
    /** Written under the map's sweep, read racily: a sweep more or less changes nothing. */
    private volatile int nextSweepAt = FIRST_SWEEP_AT;

    /** @param perSecond 0 for no limit */
    SendAllowances(int perSecond, int burst, LongSupplier nanoClock) {
        this.perSecond = perSecond;
        this.burst = burst;
        this.nanoClock = nanoClock;
    }

    /** The bucket of {@code clientAddress}, the same one for each of its connections while it is not full. */
    TokenBucket of(String clientAddress) {
        if (byAddress.size() >= nextSweepAt) {
            sweep();
        }
        return byAddress.computeIfAbsent(clientAddress, address -> new TokenBucket(perSecond, burst, nanoClock));
    }

    /** Addresses with a bucket now. */
    int addresses() {
        return byAddress.size();
    }

    private synchronized void sweep() {
        if (byAddress.size() < nextSweepAt) {
            return;
        }
        byAddress.values().removeIf(TokenBucket::isFull);
        nextSweepAt = Math.max(FIRST_SWEEP_AT, 2 * byAddress.size());
    }
}
