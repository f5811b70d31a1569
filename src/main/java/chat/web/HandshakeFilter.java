package chat.web;

import chat.config.OriginPolicy;
import chat.config.TrustedProxy;
import chat.config.Verdict;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpFilter;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

import java.io.IOException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.logging.Logger;

/**
 * {@code /chat} as an HTTP request, before Tomcat's WebSocket filter upgrades it: 503 while the chat is not
 * running, 426 for a plain GET, 401 without the container's login when chat.requireLogin, 403 with the reason for
 * a page of another origin; a handshake that passes goes on to Tomcat with its {@link ChatEndpoint.Admission}.
 * See {@link ChatEndpoint} for the whole way to a connection. On stop, it is the last of the webapp to run with
 * the sessions still open: see {@link #destroy()}.
 */
public final class HandshakeFilter extends HttpFilter {

    /** Tomcat's request attribute for the TCP peer's address (org.apache.coyote.Constants.PEER_ADDR_ATTRIBUTE). */
    private static final String TOMCAT_PEER_ADDRESS = "org.apache.tomcat.peerAddr";

    private static final long serialVersionUID = 1L;
    private static final long DRAIN_MILLIS = 5_000;
    private static final Logger LOG = Logger.getLogger(HandshakeFilter.class.getName());

    private final AtomicBoolean warnedOfRebinding = new AtomicBoolean();

    @Override
    protected void doFilter(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
            throws IOException, ServletException {
        RunningChat chat = RunningChat.in(getServletContext());
        if (chat == null) {
            response.sendError(HttpServletResponse.SC_SERVICE_UNAVAILABLE, "The chat is not running");
            return;
        }
        if (!"websocket".equalsIgnoreCase(request.getHeader("Upgrade"))) {
            response.setHeader("Upgrade", "websocket");
            response.sendError(426, "This is the chat's WebSocket endpoint: connect with a WebSocket client");
            return;
        }
        TrustedProxy proxy = chat.trustedProxy();
        String trustedUser = proxy.header() == null ? null
                : proxy.user(peerAddress(request), request.getHeader(proxy.header()));
        if (chat.requireLogin() && request.getUserPrincipal() == null && trustedUser == null) {
            response.sendError(HttpServletResponse.SC_UNAUTHORIZED, "Log in first: this chat takes only users the"
                    + " server authenticated (chat.requireLogin)");
            return;
        }
        warnOfRebindingOnce(chat.origins(), request);
        Verdict origin = chat.origins().check(request.getHeader("Origin"), request.getScheme(),
                request.getServerName(), request.getServerPort());
        if (origin instanceof Verdict.Refused refused) {
            response.sendError(HttpServletResponse.SC_FORBIDDEN, refused.reason());
            return;
        }
        ChatEndpoint.Admission admission = new ChatEndpoint.Admission(chat,
                ConnectionLimits.limitKey(request.getRemoteAddr()), trustedUser);
        ChatEndpoint.Admissions.during(admission, () -> chain.doFilter(request, response));
    }

    /**
     * Without chat.publicOrigins, a handshake's own Host decides which Origin is the chat's, and a DNS-rebinding
     * page chooses both. Harmless while only the loopback address reaches Tomcat (a proxy in front decides which
     * names it serves); said once when a handshake comes in on another address.
     */
    private void warnOfRebindingOnce(OriginPolicy origins, HttpServletRequest request) {
        if (origins.trustsRequestHost() && !warnedOfRebinding.get() && !isLoopback(request.getLocalAddr())
                && warnedOfRebinding.compareAndSet(false, true)) {
            LOG.warning("chat.publicOrigins is not set and handshakes reach Tomcat on " + request.getLocalAddr()
                    + ": the Origin of a handshake is compared with the request's own Host, which a DNS-rebinding"
                    + " page controls. Set chat.publicOrigins to the origins the chat is served under, for example"
                    + " https://chat.example.com");
        }
    }

    /**
     * The address the request came from over TCP: a RemoteIpValve in front replaces the remote address with the one
     * X-Forwarded-For claims, while the trusted proxy is the peer itself.
     */
    private static String peerAddress(HttpServletRequest request) {
        Object peer = request.getAttribute(TOMCAT_PEER_ADDRESS);
        return peer instanceof String address ? address : request.getRemoteAddr();
    }

    private static boolean isLoopback(String address) {
        return address.startsWith("127.") || address.equals("::1") || address.equals("0:0:0:0:0:0:0:1");
    }

    /**
     * Tomcat stops a webapp's servlets and filters before it calls the listeners' contextDestroyed, and its own
     * WebSocket listener, which closes every session (1001), comes before {@link ChatLifecycle}'s. So this is the
     * last moment with the sessions open: the chat commits what it has queued and sends the acks and errors it
     * owes before they close.
     */
    @Override
    public void destroy() {
        RunningChat chat = RunningChat.in(getServletContext());
        if (chat == null) {
            return;
        }
        try {
            if (!chat.hub().stopTakingMessages(DRAIN_MILLIS)) {
                LOG.warning("Stopping: some clients were still being sent acks and errors after " + DRAIN_MILLIS
                        + " ms; their connections close now");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
