package chat.web;

import chat.delivery.FrameSink;
import jakarta.websocket.CloseReason;
import jakarta.websocket.Session;

import java.io.IOException;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * A WebSocket session as the delivery core's transport: each frame is one asynchronous {@code sendText}, through
 * the WebSocket API only.
 *
 * <p>Frames are not gathered in Tomcat's output buffer. The chat once did so by setting Tomcat's internal batching
 * flag around a run of frames and flushing with Tomcat's internal flush message, neither of which is API: the flag
 * is read by Tomcat while it writes each message part and is not guarded by Tomcat's message-part lock, and the
 * chat flipped it from other threads. Under fast senders and readers dropped mid-replay, with the 2 KiB buffers
 * of tomcat-conf's setenv.sh (runs overflow the buffer mid-frame), clients then received a later frame ahead of
 * earlier ones, and in other runs a frame with the bytes of later frames spliced into it. Written one by one,
 * through the API, neither was seen again.
 */
final class SessionSink implements FrameSink {

    private static final Logger LOG = Logger.getLogger(SessionSink.class.getName());
    /** Tomcat's per-session timeout of blocking sends, which its close frame is. */
    private static final String BLOCKING_SEND_TIMEOUT = "org.apache.tomcat.websocket.BLOCKING_SEND_TIMEOUT";
    /**
     * How long the close frame may wait behind a frame in flight. The chat closes connections whose peer stopped
     * reading: their close frame would otherwise hold the closing thread for the whole blocking send timeout.
     */
    private static final long CLOSE_WRITE_TIMEOUT_MILLIS = 250;

    private final Session session;

    SessionSink(Session session) {
        this.session = session;
    }

    @Override
    public void send(String frame, SendCallback done) {
        try {
            session.getAsyncRemote().sendText(frame, result -> done.sent(result.isOK() ? null : result.getException()));
        } catch (RuntimeException refused) {
            // Tomcat throws before it takes the frame, and the callback has not run: the session closed meanwhile,
            // or, were it still open, it cannot be sent to and the client must reconnect.
            done.sent(refused);
            if (session.isOpen()) {
                close(CloseReason.CloseCodes.UNEXPECTED_CONDITION.getCode(), "Send refused; reconnect");
            }
        }
    }

    @Override
    public void close(int closeCode, String reason) {
        try {
            session.getUserProperties().put(BLOCKING_SEND_TIMEOUT, CLOSE_WRITE_TIMEOUT_MILLIS);
            session.close(new CloseReason(CloseReason.CloseCodes.getCloseCode(closeCode), reason));
        } catch (IOException | IllegalStateException closedMeanwhile) {
            // Tomcat throws IllegalStateException once the session has closed, as it may have by now.
            LOG.log(Level.FINE, "Closing session " + session.getId() + " failed; it is closed already", closedMeanwhile);
        }
    }
}
