package chat.web;

import chat.config.OriginPolicy;
import chat.delivery.ChatHub;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import jakarta.websocket.DeploymentException;
import jakarta.websocket.Extension;
import jakarta.websocket.server.ServerContainer;
import jakarta.websocket.server.ServerEndpointConfig;

import java.io.IOException;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.logging.Logger;

/**
 * {@code /chat}: checks the handshake as an HTTP request, where Tomcat (through RemoteIpValve behind a proxy)
 * knows the browser's address, scheme and host, then upgrades it to a {@link ChatEndpoint} for that client.
 * A page of another origin gets 403 before any upgrade.
 */
public final class ChatUpgradeServlet extends HttpServlet {

    private static final long serialVersionUID = 1L;
    private static final long DRAIN_MILLIS = 5_000;
    private static final Logger LOG = Logger.getLogger(ChatUpgradeServlet.class.getName());

    private final AtomicBoolean warnedOfRebinding = new AtomicBoolean();

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

    private static boolean isLoopback(String address) {
        return address.startsWith("127.") || address.equals("::1") || address.equals("0:0:0:0:0:0:0:1");
    }

    @Override
    protected void doGet(HttpServletRequest request, HttpServletResponse response) throws IOException, ServletException {
        ChatSockets sockets = (ChatSockets) getServletContext().getAttribute(ChatSockets.ATTRIBUTE);
        if (sockets == null) {
            response.sendError(HttpServletResponse.SC_SERVICE_UNAVAILABLE, "The chat is not running");
            return;
        }
        if (!"websocket".equalsIgnoreCase(request.getHeader("Upgrade"))) {
            response.setHeader("Upgrade", "websocket");
            response.sendError(426, "This is the chat's WebSocket endpoint: connect with a WebSocket client");
            return;
        }
        warnOfRebindingOnce(sockets.origins(), request);
        String refusal = sockets.origins().refusal(request.getHeader("Origin"), request.getScheme(),
                request.getServerName(), request.getServerPort());
        if (refusal != null) {
            response.sendError(HttpServletResponse.SC_FORBIDDEN, refusal);
            return;
        }
        String clientAddress = ConnectionLimits.limitKey(request.getRemoteAddr());
        ServerEndpointConfig endpoint = ServerEndpointConfig.Builder.create(ChatEndpoint.class, ChatEndpoint.PATH)
                .configurator(new ServerEndpointConfig.Configurator() {
                    @Override
                    public <T> T getEndpointInstance(Class<T> endpointClass) {
                        return endpointClass.cast(sockets.endpointFor(clientAddress));
                    }

                    /**
                     * No permessage-deflate, which browsers offer: chat frames are small, and each connection
                     * would deflate every frame again with a compressor of its own (CPU per recipient, and
                     * hundreds of KiB of native memory per connection).
                     */
                    @Override
                    public List<Extension> getNegotiatedExtensions(List<Extension> installed,
                                                                   List<Extension> requested) {
                        return List.of();
                    }
                })
                .build();
        try {
            sockets.container().upgradeHttpToWebSocket(request, response, endpoint, Map.of());
        } catch (DeploymentException e) {
            throw new ServletException("Cannot upgrade to a WebSocket", e);
        }
    }

    /**
     * Tomcat stops a webapp's servlets before it calls the listeners' contextDestroyed, and its own WebSocket
     * listener, which closes every session (1001), comes before {@link ChatLifecycle}'s. So this is the last moment
     * with the sessions open: the chat commits what it has queued and sends the acks and errors it owes before
     * they close.
     */
    @Override
    public void destroy() {
        ChatSockets sockets = (ChatSockets) getServletContext().getAttribute(ChatSockets.ATTRIBUTE);
        if (sockets == null) {
            return;
        }
        try {
            if (!sockets.hub().stopTakingMessages(DRAIN_MILLIS)) {
                log("Stopping: some clients were still being sent acks and errors after " + DRAIN_MILLIS
                        + " ms; their connections close now");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** What the servlet needs of the running chat; one per webapp, made by {@link ChatLifecycle}. */
    record ChatSockets(ServerContainer container, ChatHub hub, Heartbeat heartbeat, ConnectionLimits limits,
                       OriginPolicy origins, int maxFrameBytes) {

        static final String ATTRIBUTE = ChatSockets.class.getName();

        ChatEndpoint endpointFor(String clientAddress) {
            return new ChatEndpoint(hub, heartbeat, limits, clientAddress, maxFrameBytes);
        }
    }
}
