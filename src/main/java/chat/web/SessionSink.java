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
    /** Null where frames cannot be gathered: then each is written on its own. */
    private final GatheredSends gathered;

    SessionSink(Session session) {
        this.session = session;
        this.gathered = GatheredSends.of(session);
    }

    @Override
    public void send(String frame, boolean more, SendCallback done) {
        try {
            if (gathered != null) {
                gathered.send(frame, more, done);
                return;
            }
            session.getAsyncRemote().sendText(frame, result -> done.sent(result.isOK() ? null : result.getException()));
        } catch (RuntimeException closedMeanwhile) {
            done.sent(closedMeanwhile);
        }
    }

    @Override
    public void close(int closeCode, String reason) {
        if (gathered != null) {
            gathered.stop();
        }
        try {
            session.close(new CloseReason(CloseReason.CloseCodes.getCloseCode(closeCode), reason));
        } catch (IOException e) {
            LOG.log(Level.FINE, "Closing session " + session.getId() + " failed; the peer is gone", e);
        }
    }
}
