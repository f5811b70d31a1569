package chat.config;

import java.net.URI;
import java.net.URISyntaxException;
import java.util.List;
import java.util.Locale;

/**
 * Which pages may open the chat's WebSocket: a browser sends the page's origin with the handshake, and a page of
 * another site must not talk to the chat with its user's cookies (cross-site WebSocket hijacking). Allowed are
 * the chat's own origin, as the request reached Tomcat (after RemoteIpValve: the scheme and host the browser
 * used), and the configured origins. A handshake without Origin does not come from a browser.
 */
public final class OriginPolicy {

    private final List<String> allowed;
    private final boolean allowMissing;

    public OriginPolicy(List<String> allowed, boolean allowMissing) {
        this.allowed = List.copyOf(allowed);
        this.allowMissing = allowMissing;
    }

    /**
     * @param origin the Origin header, or null
     * @param scheme the request's scheme as Tomcat sees it ("http" or "https")
     * @param host   the request's server name
     * @param port   the request's server port
     * @return null if allowed, else why not
     */
    public String refusal(String origin, String scheme, String host, int port) {
        if (origin == null) {
            return allowMissing ? null : "A handshake without an Origin header is not accepted here";
        }
        String normalised = normalise(origin);
        if (normalised != null && (normalised.equals(normalise(scheme + "://" + host + ":" + port))
                || allowed.contains(normalised))) {
            return null;
        }
        return "Origin " + origin + " may not open this chat";
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
