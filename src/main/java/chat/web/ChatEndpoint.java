package chat.web;

import chat.delivery.ChatHub;
import chat.delivery.Subscription;
import chat.protocol.ErrorCode;
import chat.protocol.FrameCodec;
import jakarta.websocket.CloseReason;
import jakarta.websocket.Endpoint;
import jakarta.websocket.EndpointConfig;
import jakarta.websocket.MessageHandler;
import jakarta.websocket.Session;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * One client's WebSocket, opened by {@link ChatUpgradeServlet}: adapts the session to the {@link ChatHub}. Text
 * frames only: a binary frame closes the session with 1003, a text frame over {@code chat.maxFrameBytes} with 1009.
 */
public final class ChatEndpoint extends Endpoint {

    static final String PATH = "/chat";
    private static final Logger LOG = Logger.getLogger(ChatEndpoint.class.getName());

    private final ChatHub hub;
    private final Heartbeat heartbeat;
    private final ConnectionLimits limits;
    private final String clientAddress;
    private final int maxFrameBytes;
    private boolean admitted;
    /** Taken by whoever disconnects it: onClose, or onOpen when the session closed while it was opening. */
    private final AtomicReference<Subscription> subscription = new AtomicReference<>();
    private volatile boolean closed;

    ChatEndpoint(ChatHub hub, Heartbeat heartbeat, ConnectionLimits limits, String clientAddress, int maxFrameBytes) {
        this.hub = hub;
        this.heartbeat = heartbeat;
        this.limits = limits;
        this.clientAddress = clientAddress;
        this.maxFrameBytes = maxFrameBytes;
    }

    @Override
    public void onOpen(Session session, EndpointConfig config) {
        heartbeat.bound(session);
        String full = limits.admit(clientAddress);
        if (full != null) {
            close(session, CloseReason.CloseCodes.VIOLATED_POLICY, full);
            return;
        }
        admitted = true;
        List<String> values = session.getRequestParameterMap().get("serverOffset");
        String raw = values == null || values.isEmpty() ? null : values.get(0);
        long serverOffset = FrameCodec.parseServerOffset(raw);
        if (serverOffset < 0 || (values != null && values.size() > 1)) {
            refuse(session, raw);
            return;
        }
        List<String> epochs = session.getRequestParameterMap().get("epoch");
        String epoch = epochs == null || epochs.isEmpty() ? null : epochs.get(0);
        Subscription subscribed = hub.connect(clientAddress, new SessionSink(session), serverOffset, epoch);
        subscription.set(subscribed);
        heartbeat.watch(session, subscribed.outbox());
        session.addMessageHandler(String.class, new TextMessageAssembler(maxFrameBytes,
                frame -> hub.receive(subscribed, frame),
                () -> close(session, CloseReason.CloseCodes.TOO_BIG, "Frame over " + maxFrameBytes + " bytes")));
        session.addMessageHandler(ByteBuffer.class, (MessageHandler.Partial<ByteBuffer>) (part, last) ->
                close(session, CloseReason.CloseCodes.CANNOT_ACCEPT, "Binary frames are not accepted"));
        if (closed) {
            // The replay started above may close the session from another thread (its client is gone), and
            // onClose may then have run before the subscription was set.
            heartbeat.forget(session);
            disconnect();
        }
    }

    private void disconnect() {
        Subscription subscribed = subscription.getAndSet(null);
        if (subscribed != null) {
            hub.disconnect(subscribed);
        }
    }

    private static void close(Session session, CloseReason.CloseCode code, String reason) {
        try {
            session.close(new CloseReason(code, reason));
        } catch (IOException e) {
            LOG.log(Level.FINE, "Closing session " + session.getId() + " failed; the peer is gone", e);
        }
    }

    private static void refuse(Session session, String raw) {
        try {
            session.getBasicRemote().sendText(FrameCodec.error(ErrorCode.BAD_OFFSET,
                    "serverOffset must be one non-negative integer that fits a signed 64-bit long, but is '"
                            + shortened(raw) + "'", null));
            session.close(new CloseReason(CloseReason.CloseCodes.VIOLATED_POLICY, "Bad serverOffset"));
        } catch (IOException e) {
            LOG.log(Level.FINE, "Refusing session " + session.getId() + " failed; the peer is gone", e);
        }
    }

    private static String shortened(String raw) {
        if (raw == null) {
            return "";
        }
        return raw.length() <= 40 ? raw : raw.substring(0, 40) + "...";
    }

    @Override
    public void onClose(Session session, CloseReason closeReason) {
        closed = true;
        heartbeat.forget(session);
        disconnect();
        if (admitted) {
            admitted = false;
            limits.release(clientAddress);
        }
    }

    @Override
    public void onError(Session session, Throwable failure) {
        LOG.log(Level.FINE, "WebSocket session " + session.getId() + " failed", failure);
    }
}
