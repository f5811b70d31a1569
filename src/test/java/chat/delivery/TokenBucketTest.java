package chat.delivery;

import org.junit.jupiter.api.Test;

import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The message rate: a burst, then one message per interval; an idle client gets its burst back, refusals cost
 * nothing. */
class TokenBucketTest {

    private final AtomicLong nanos = new AtomicLong(1_000_000_000L);

    @Test
    void aBurstIsAllowedThenOneMessagePerIntervalOfItsRate() {
        TokenBucket bucket = new TokenBucket(10, 3, nanos::get);
        assertTrue(bucket.tryTake());
        assertTrue(bucket.tryTake());
        assertTrue(bucket.tryTake());
        assertFalse(bucket.tryTake(), "the burst of three is used up");

        nanos.addAndGet(99_000_000L);
        assertFalse(bucket.tryTake(), "a tenth of a second has not passed");
        nanos.addAndGet(1_000_000L);
        assertTrue(bucket.tryTake(), "one token back after 100 ms at 10 a second");
        assertFalse(bucket.tryTake());
    }

    @Test
    void anIdleClientGetsItsWholeBurstBackButNoMore() {
        TokenBucket bucket = new TokenBucket(10, 3, nanos::get);
        for (int i = 0; i < 3; i++) {
            assertTrue(bucket.tryTake());
        }
        nanos.addAndGet(60_000_000_000L);
        for (int i = 0; i < 3; i++) {
            assertTrue(bucket.tryTake(), "message " + i + " of the renewed burst");
        }
        assertFalse(bucket.tryTake(), "an idle minute does not save up more than the burst");
    }

    @Test
    void refusedMessagesDoNotUseUpTokens() {
        TokenBucket bucket = new TokenBucket(10, 1, nanos::get);
        assertTrue(bucket.tryTake());
        for (int i = 0; i < 100; i++) {
            assertFalse(bucket.tryTake());
        }
        nanos.addAndGet(100_000_000L);
        assertTrue(bucket.tryTake());
    }

    @Test
    void zeroMeansNoLimit() {
        TokenBucket bucket = new TokenBucket(0, 1, nanos::get);
        for (int i = 0; i < 10_000; i++) {
            assertTrue(bucket.tryTake());
        }
    }
}
