package chat.web;

import chat.config.Verdict;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/** How many WebSockets the chat holds open, in all and per client address. */
final class ConnectionLimits {

    /** Bytes of an IPv6 address that name one site: a /64 is what a single subscriber or host is given. */
    private static final int IPV6_SITE_PREFIX_BYTES = 8;

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
     */
    Verdict admit(String address) {
        if (open.incrementAndGet() > maxConnections) {
            open.decrementAndGet();
            return Verdict.refused("The chat is full (" + maxConnections + " connections); try again later");
        }
        int fromAddress = openPerAddress.merge(address, 1, Integer::sum);
        if (fromAddress > maxPerAddress) {
            release(address);
            return Verdict.refused("Too many connections from " + address + " (at most " + maxPerAddress + ")");
        }
        return Verdict.ADMITTED;
    }

    void release(String address) {
        openPerAddress.computeIfPresent(address, (key, count) -> count == 1 ? null : count - 1);
        open.decrementAndGet();
    }

    /**
     * The client address that the per-address limits count: an IPv4 address as it is, an IPv6 address by its /64
     * ({@code 2001:db8:1:2::/64}), since one host may use any address of its /64; an IPv4-mapped IPv6 address as
     * the IPv4 address. Anything that is not an address literal is its own key.
     */
    static String limitKey(String remoteAddress) {
        if (remoteAddress.indexOf(':') < 0) {
            return remoteAddress;
        }
        try {
            // A literal (it contains ':'), so this does not look anything up.
            InetAddress address = InetAddress.getByName(remoteAddress);
            if (address instanceof Inet4Address) {
                return address.getHostAddress();
            }
            byte[] bytes = address.getAddress();
            StringBuilder key = new StringBuilder();
            for (int i = 0; i < IPV6_SITE_PREFIX_BYTES; i += 2) {
                key.append(Integer.toHexString(((bytes[i] & 0xFF) << 8) | (bytes[i + 1] & 0xFF))).append(':');
            }
            return key.append(":/64").toString();
        } catch (UnknownHostException notALiteral) {
            return remoteAddress;
        }
    }

    int open() {
        return open.get();
    }
}
