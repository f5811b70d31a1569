package chat.delivery;

/** The transport under one client connection: a WebSocket session in the server, a recorder in tests. */
public interface FrameSink {

    /**
     * Starts sending one text message without blocking: a frame, or several as lines ({@code frames=lines}). The
     * caller never has two sends outstanding; {@code done} is called exactly once, possibly before this method
     * returns, possibly on another thread, and only once the transport has taken the message, so that frames reach
     * the peer in the order they were sent.
     */
    void send(String message, SendCallback done);

    /** Closes the connection with a WebSocket close code and a short reason; may block, so never call it inline. */
    void close(int closeCode, String reason);

    @FunctionalInterface
    interface SendCallback {
        /** @param failure null when the frame was written */
        void sent(Throwable failure);
    }
}
