package chat.protocol;

/** What a client's text frame turned out to be: a {@link SentMessage}, or a frame the server refuses. */
public sealed interface ClientFrame permits SentMessage, ClientFrame.Rejected {

    /**
     * A frame that breaks the protocol; the client is told why and the connection stays open. {@code clientOffset}
     * is the frame's own, when it had a valid one, so that the client knows which message was refused; else null.
     */
    record Rejected(ErrorCode code, String message, String clientOffset) implements ClientFrame {

        Rejected(ErrorCode code, String message) {
            this(code, message, null);
        }
    }
}
