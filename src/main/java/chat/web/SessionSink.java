package chat.web;

import chat.delivery.FrameSink;
import jakarta.websocket.CloseReason;
import jakarta.websocket.Session;

import java.io.IOException;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * A WebSocket session as the delivery core's transport: each text message (one frame, or a run of frames as lines
 * for a client that takes them so) is one asynchronous {@code sendText}, through the WebSocket API only.
 *
 * <p>Frames are not gathered in Tomcat's output buffer. The chat once did so by setting Tomcat's internal batching
 * flag around a run of frames and flushing with Tomcat's internal flush message, neither of which is API. Tomcat
 * reads that flag each time it writes a message part, outside its message-part lock. During a run the buffer
 * (2 KiB in tomcat-conf's setenv.sh then) nearly always ends in the tail of a fragment, since fragments of a long text
 * are as long as the buffer. When the chat closed a reader that had fallen behind, it cleared the flag from the
 * closing thread, unflushed: the next fragment of the message in flight then went straight to the socket ahead of
 * that tail, and so did the close frame, since Tomcat's own close flushes only when it finds the flag set. Clients
 * received frames with other frames' bytes spliced into them (FrameOrderIT failed within seconds, every run), and
 * in other runs a later chat message ahead of earlier ones. Written one by one, through the API, neither is seen.
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
    public void send(String message, SendCallback done) {
        try {
            session.getAsyncRemote().sendText(message, result -> done.sent(result.isOK() ? null : result.getException()));
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
