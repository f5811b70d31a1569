package chat.config;

import java.net.URI;
import java.net.URISyntaxException;
import java.util.List;
import java.util.Locale;

/**
 * Which pages may open the chat's WebSocket: a browser sends the page's origin with the handshake, and a page of
 * another site must not talk to the chat with its user's cookies (cross-site WebSocket hijacking). Allowed are
 * the chat's own origins and the configured other ones. The chat's own are {@code chat.publicOrigins}, the
 * origins it is served under; when they are not configured, the request's own origin as it reached Tomcat
 * (after RemoteIpValve: the scheme and host the browser used). That one a DNS-rebinding page controls: its
 * Origin and its Host are both the attacker's name. A handshake without Origin does not come from a browser.
 */
public final class OriginPolicy {

    private final List<String> publicOrigins;
    private final List<String> allowed;
    private final boolean allowMissing;

    /**
     * @param publicOrigins the chat's own origins, normalised; empty: the request's own
     * @param allowed       other origins whose pages may connect, normalised
     */
    public OriginPolicy(List<String> publicOrigins, List<String> allowed, boolean allowMissing) {
        this.publicOrigins = List.copyOf(publicOrigins);
        this.allowed = List.copyOf(allowed);
        this.allowMissing = allowMissing;
    }

    /** Whether the chat's own origin is taken from the request, for want of {@code chat.publicOrigins}. */
    public boolean trustsRequestHost() {
        return publicOrigins.isEmpty();
    }

    /**
     * @param origin the Origin header, or null
     * @param scheme the request's scheme as Tomcat sees it ("http" or "https")
     * @param host   the request's server name
     * @param port   the request's server port
     */
    public Verdict check(String origin, String scheme, String host, int port) {
        if (origin == null) {
            return allowMissing ? Verdict.ADMITTED
                    : Verdict.refused("A handshake without an Origin header is not accepted here");
        }
        String normalised = normalise(origin);
        if (normalised != null && (isOwn(normalised, scheme, host, port) || allowed.contains(normalised))) {
            return Verdict.ADMITTED;
        }
        return Verdict.refused("Origin " + origin + " may not open this chat");
    }

    private boolean isOwn(String origin, String scheme, String host, int port) {
        if (publicOrigins.isEmpty()) {
            return origin.equals(normalise(scheme + "://" + host + ":" + port));
        }
        return publicOrigins.contains(origin);
    }

    /** {@code HTTPS://Chat.Example.com:443} becomes {@code https://chat.example.com}; null if it is no origin. */
    public static String normalise(String origin) {
        try {
            URI uri = new URI(origin);
            String scheme = uri.getScheme();
            String host = uri.getHost();
            if (scheme == null || host == null || uri.getRawUserInfo() != null
                    || !(uri.getRawPath() == null || uri.getRawPath().isEmpty())
                    || uri.getRawQuery() != null || uri.getRawFragment() != null) {
                return null;
            }
            scheme = scheme.toLowerCase(Locale.ROOT);
            if (!scheme.equals("http") && !scheme.equals("https")) {
                return null;
            }
            int port = uri.getPort();
            boolean defaultPort = port == -1 || (scheme.equals("http") && port == 80) || (scheme.equals("https") && port == 443);
            return scheme + "://" + host.toLowerCase(Locale.ROOT) + (defaultPort ? "" : ":" + port);
        } catch (URISyntaxException e) {
            return null;
        }
    }
}
