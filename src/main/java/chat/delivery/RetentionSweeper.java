package chat.delivery;

import chat.metrics.ChatMetrics;
import chat.store.MessageStore;
import chat.store.StoreException;

import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Deletes the oldest messages past {@code chat.retentionDays} or {@code chat.retentionMaxBytes}. It runs on the
 * writer's thread, between commits, one DELETE of at most {@link #BATCH_ROWS} rows at a time, so that the store
 * keeps a single writer and no commit waits behind a long deletion. When a batch was full it goes on at the next
 * turn of the writer, otherwise it looks again a minute later.
 */
final class RetentionSweeper {

    private static final Logger LOG = Logger.getLogger(RetentionSweeper.class.getName());
    static final int BATCH_ROWS = 1_000;
    private static final long CHECK_EVERY_NANOS = TimeUnit.MINUTES.toNanos(1);

    private final MessageStore store;
    private final ChatMetrics metrics;
    private final long maxAgeMillis;
    private final long maxBytes;
    private final LongSupplier millisClock;
    private final LongSupplier nanoClock;
    /** Written and read by the writer's thread only. */
    private long nextRunNanos;

    /**
     * @param maxAgeMillis 0: no limit of age
     * @param maxBytes     0: no limit of size
     */
    RetentionSweeper(MessageStore store, ChatMetrics metrics, long maxAgeMillis, long maxBytes,
                     LongSupplier millisClock, LongSupplier nanoClock) {
        this.store = store;
        this.metrics = metrics;
        this.maxAgeMillis = maxAgeMillis;
        this.maxBytes = maxBytes;
        this.millisClock = millisClock;
        this.nanoClock = nanoClock;
        this.nextRunNanos = nanoClock.getAsLong();
    }

    boolean isOn() {
        return maxAgeMillis > 0 || maxBytes > 0;
    }

    /** Deletes one batch if one is due; called by the writer between commits. */
    void runIfDue() {
        if (!isOn() || nanoClock.getAsLong() - nextRunNanos < 0) {
            return;
        }
        long storedBefore = maxAgeMillis > 0 ? millisClock.getAsLong() - maxAgeMillis : Long.MIN_VALUE;
        int deleted;
        try {
            deleted = store.deleteOldest(storedBefore, maxBytes, BATCH_ROWS);
        } catch (StoreException e) {
            LOG.log(Level.WARNING, e.getMessage() + "; retention tries again in a minute", e);
            deleted = 0;
        }
        metrics.retentionDeleted(deleted);
        nextRunNanos = nanoClock.getAsLong() + (deleted == BATCH_ROWS ? 0 : CHECK_EVERY_NANOS);
    }
}
