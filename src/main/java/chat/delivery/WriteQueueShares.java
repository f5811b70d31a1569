package chat.delivery;

import java.util.concurrent.ConcurrentHashMap;

/**
 * How many of the messages waiting to be stored each client address holds: at most {@code maxPerAddress}, so
 * that an address that floods the writer gets {@code overloaded} while the others' messages still find room in
 * its queue. An address is forgotten once none of its messages waits.
 */
final class WriteQueueShares {

    private final int maxPerAddress;
    private final ConcurrentHashMap<String, Integer> queued = new ConcurrentHashMap<>();

    WriteQueueShares(int maxPerAddress) {
        this.maxPerAddress = maxPerAddress;
    }

    int maxPerAddress() {
        return maxPerAddress;
    }

    /** @return true if {@code address} may queue one more message, now counted; false if it holds its share */
    boolean tryTake(String address) {
        boolean[] taken = new boolean[1];
        queued.compute(address, (key, count) -> {
            int now = count == null ? 0 : count;
            if (now >= maxPerAddress) {
                return count;
            }
            taken[0] = true;
            return now + 1;
        });
        return taken[0];
    }

    /** One message of {@code address} left the queue: stored, or refused. */
    void release(String address) {
        queued.computeIfPresent(address, (key, count) -> count == 1 ? null : count - 1);
    }

    /** Messages of {@code address} waiting now. */
    int queued(String address) {
        return queued.getOrDefault(address, 0);
    }
}
