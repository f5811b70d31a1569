package chat.config;

import chat.protocol.Author;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.logging.Logger;
import java.util.regex.Pattern;

/**
 * Who an SSO proxy in front of the chat (oauth2-proxy, nginx {@code auth_request}) says the user is: the value of
 * {@code chat.trustedUserHeader}, believed only when the request's TCP peer is one of {@code chat.trustedProxies}.
 * From any other address the header is ignored, and that is logged once per address.
 */
public final class TrustedProxy {

    private static final Logger LOG = Logger.getLogger(TrustedProxy.class.getName());
    /** Addresses told about; past this many, the log names no more of them. */
    private static final int MAX_WARNED_ADDRESSES = 1024;

    private final String header;
    private final Pattern proxies;
    private final Set<String> warned = ConcurrentHashMap.newKeySet();

    public TrustedProxy(String header, Pattern proxies) {
        this.header = header;
        this.proxies = proxies;
    }

    /** The header that names the user, or null when none is configured. */
    public String header() {
        return header;
    }

    /**
     * @param peerAddress the address the request came from over TCP (not the one a forwarded-for header claims)
     * @param headerValue the request's {@link #header()}, or null
     * @return the user the header names when {@code peerAddress} is a trusted proxy's and the name is one the chat
     * can show (see {@link Author#problemWith}), else null
     */
    public String user(String peerAddress, String headerValue) {
        if (header == null || headerValue == null) {
            return null;
        }
        if (!proxies.matcher(peerAddress).matches()) {
            if (warned.size() < MAX_WARNED_ADDRESSES && warned.add(peerAddress)) {
                LOG.warning("Ignoring " + header + " from " + peerAddress + ", which is not one of chat.trustedProxies;"
                        + " further requests from it are ignored without a word");
            }
            return null;
        }
        String name = Author.normalized(headerValue);
        String problem = Author.problemWith(name);
        if (problem != null) {
            LOG.warning("Ignoring " + header + " from the trusted proxy " + peerAddress + ": " + problem);
            return null;
        }
        return name;
    }
}
