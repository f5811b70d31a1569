package chat.web;

import chat.config.OriginPolicy;
import chat.config.TrustedProxy;
import chat.delivery.ChatHub;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import jakarta.servlet.ServletContext;

/**
 * The chat while the webapp runs: everything the web layer needs of it, made and closed by {@link ChatLifecycle}
 * and published once, as one attribute of the servlet context.
 */
final class RunningChat implements AutoCloseable {

    private static final String ATTRIBUTE = RunningChat.class.getName();

    private final ChatHub hub;
    private final Heartbeat heartbeat;
    private final ConnectionLimits limits;
    private final OriginPolicy origins;
    private final PrometheusRegistry registry;
    private final int maxFrameBytes;
    private final boolean requireLogin;
    private final TrustedProxy trustedProxy;

    RunningChat(ChatHub hub, Heartbeat heartbeat, ConnectionLimits limits, OriginPolicy origins,
                PrometheusRegistry registry, int maxFrameBytes, boolean requireLogin, TrustedProxy trustedProxy) {
        this.hub = hub;
        this.heartbeat = heartbeat;
        this.limits = limits;
        this.origins = origins;
        this.registry = registry;
        this.maxFrameBytes = maxFrameBytes;
        this.requireLogin = requireLogin;
        this.trustedProxy = trustedProxy;
    }

    /** @return the chat running in {@code context}, or null while it is not (starting failed, or stopped) */
    static RunningChat in(ServletContext context) {
        return (RunningChat) context.getAttribute(ATTRIBUTE);
    }

    void publishIn(ServletContext context) {
        context.setAttribute(ATTRIBUTE, this);
    }

    static void withdrawFrom(ServletContext context) {
        context.removeAttribute(ATTRIBUTE);
    }

    ChatHub hub() {
        return hub;
    }

    Heartbeat heartbeat() {
        return heartbeat;
    }

    ConnectionLimits limits() {
        return limits;
    }

    OriginPolicy origins() {
        return origins;
    }

    /** Whether a handshake without the container's login is refused (chat.requireLogin). */
    boolean requireLogin() {
        return requireLogin;
    }

    TrustedProxy trustedProxy() {
        return trustedProxy;
    }

    PrometheusRegistry registry() {
        return registry;
    }

    /** The largest text frame a client may send, in UTF-8 bytes. */
    int maxFrameBytes() {
        return maxFrameBytes;
    }

    /** Stops the pings, then commits what is queued and closes the store. */
    @Override
    public void close() {
        try {
            heartbeat.close();
        } finally {
            hub.close();
        }
    }
}
