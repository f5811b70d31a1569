package chat.web;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/** How many WebSockets the chat holds open, in all and per client address. */
final class ConnectionLimits {

    private final int maxConnections;
    private final int maxPerAddress;
    private final AtomicInteger open = new AtomicInteger();
    private final ConcurrentHashMap<String, Integer> openPerAddress = new ConcurrentHashMap<>();

    ConnectionLimits(int maxConnections, int maxPerAddress) {
        this.maxConnections = maxConnections;
        this.maxPerAddress = maxPerAddress;
    }

    /**
     * Counts a new connection from {@code address} if both limits allow it; a counted one must be
     * {@link #release released} when it closes.
     *
     * @return null if counted, else why not
     */
    String admit(String address) {
        if (open.incrementAndGet() > maxConnections) {
            open.decrementAndGet();
            return "The chat is full (" + maxConnections + " connections); try again later";
        }
        int fromAddress = openPerAddress.merge(address, 1, Integer::sum);
        if (fromAddress > maxPerAddress) {
            release(address);
            return "Too many connections from " + address + " (at most " + maxPerAddress + ")";
        }
        return null;
    }

    void release(String address) {
        openPerAddress.computeIfPresent(address, (key, count) -> count == 1 ? null : count - 1);
        open.decrementAndGet();
    }

    int open() {
        return open.get();
    }
}
