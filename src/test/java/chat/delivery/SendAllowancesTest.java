package chat.delivery;

import org.junit.jupiter.api.Test;

import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The message rate belongs to the client address, and a bucket that filled up again is forgotten. */
class SendAllowancesTest {

    private final AtomicLong now = new AtomicLong(1_000_000_000L);
    private final SendAllowances allowances = new SendAllowances(2, 3, now::get);

    @Test
    void reconnectingFromTheSameAddressDoesNotRefillTheBurst() {
        TokenBucket first = allowances.of("192.0.2.1");
        for (int i = 0; i < 3; i++) {
            assertTrue(first.tryTake());
        }
        TokenBucket reconnected = allowances.of("192.0.2.1");
        assertSame(first, reconnected);
        assertFalse(reconnected.tryTake(), "the burst of three is used up for the address");
        assertTrue(allowances.of("192.0.2.2").tryTake(), "another address has its own");
    }

    @Test
    void bucketsThatFilledUpAgainAreDroppedAndOnesStillPayingBackKept() {
        TokenBucket busy = allowances.of("busy");
        assertTrue(busy.tryTake());
        for (int i = 0; i < 5_000; i++) {
            allowances.of("idle-" + i);
        }
        assertTrue(allowances.addresses() <= 1_025, allowances.addresses() + " addresses kept");
        assertSame(busy, allowances.of("busy"), "a bucket still paying back a message is kept");
    }

    @Test
    void aFullBucketIsNoDifferentFromANewOne() {
        TokenBucket bucket = allowances.of("a");
        assertTrue(bucket.isFull());
        assertTrue(bucket.tryTake());
        assertFalse(bucket.isFull());
        now.addAndGet(500_000_000L);
        assertTrue(bucket.isFull(), "one message at 2 a second is paid back after half a second");
    }

    @Test
    void withoutALimitEveryAddressMaySendAlways() {
        SendAllowances unlimited = new SendAllowances(0, 1, now::get);
        TokenBucket bucket = unlimited.of("a");
        for (int i = 0; i < 1_000; i++) {
            assertTrue(bucket.tryTake());
        }
    }
}
