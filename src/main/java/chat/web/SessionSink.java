package chat.web;

import chat.delivery.FrameSink;
import jakarta.websocket.CloseReason;
import jakarta.websocket.Session;

import java.io.IOException;
import java.util.logging.Level;
import java.util.logging.Logger;

/** A WebSocket session as the delivery core's transport. */
final class SessionSink implements FrameSink {

    private static final Logger LOG = Logger.getLogger(SessionSink.class.getName());

    private final Session session;

    SessionSink(Session session) {
        this.session = session;
    }

    @Override
    public void send(String frame, SendCallback done) {
        try {
            session.getAsyncRemote().sendText(frame, result -> done.sent(result.isOK() ? null : result.getException()));
        } catch (RuntimeException closedMeanwhile) {
            done.sent(closedMeanwhile);
        }
    }

    @Override
    public void close(int closeCode, String reason) {
        try {
            session.close(new CloseReason(CloseReason.CloseCodes.getCloseCode(closeCode), reason));
        } catch (IOException e) {
            LOG.log(Level.FINE, "Closing session " + session.getId() + " failed; the peer is gone", e);
        }
    }
}
