package chat.delivery;

import org.junit.jupiter.api.Test;

import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The bytes one client address may store a day (UTC), charged only for messages taken. */
class StorageQuotasTest {

    private static final long DAY = 86_400_000L;

    @Test
    void anAddressStoresUpToItsDailyBytesAndAnotherAddressIsNotCharged() {
        StorageQuotas quotas = new StorageQuotas(1_000, () -> 5 * DAY);
        assertTrue(quotas.tryCharge("10.0.0.1", 600));
        assertTrue(quotas.tryCharge("10.0.0.1", 400), "exactly the quota");
        assertFalse(quotas.tryCharge("10.0.0.1", 1), "over it");
        assertTrue(quotas.tryCharge("10.0.0.2", 1_000), "another address has its own");
    }

    @Test
    void aRefusedMessageIsNotChargedAndASmallerOneStillFits() {
        StorageQuotas quotas = new StorageQuotas(1_000, () -> 5 * DAY);
        assertTrue(quotas.tryCharge("10.0.0.1", 900));
        assertFalse(quotas.tryCharge("10.0.0.1", 200));
        assertTrue(quotas.tryCharge("10.0.0.1", 100));
    }

    @Test
    void theNextDayUtcStartsAtZero() {
        AtomicLong now = new AtomicLong(5 * DAY + DAY - 1);
        StorageQuotas quotas = new StorageQuotas(1_000, now::get);
        assertTrue(quotas.tryCharge("10.0.0.1", 1_000));
        assertFalse(quotas.tryCharge("10.0.0.1", 1));
        now.set(6 * DAY);
        assertTrue(quotas.tryCharge("10.0.0.1", 1_000));
    }

    @Test
    void zeroMeansNoQuota() {
        StorageQuotas quotas = new StorageQuotas(0, () -> 0);
        assertTrue(quotas.tryCharge("10.0.0.1", Long.MAX_VALUE / 2));
        assertTrue(quotas.tryCharge("10.0.0.1", Long.MAX_VALUE / 2));
    }
}
