package chat.delivery;

/** The transport under one client connection: a WebSocket session in the server, a recorder in tests. */
public interface FrameSink {

    /**
     * Starts sending one text frame without blocking. The caller never has two sends outstanding; {@code done}
     * is called exactly once, possibly before this method returns, possibly on another thread.
     *
     * @param more true if another frame is queued behind this one: the transport may gather this one with the
     *             next in one write, and report it sent once gathered; the last frame of a run has it false and
     *             is written out together with everything gathered before it
     */
    void send(String frame, boolean more, SendCallback done);

    /** Closes the connection with a WebSocket close code and a short reason; may block, so never call it inline. */
    void close(int closeCode, String reason);

    @FunctionalInterface
    interface SendCallback {
        /** @param failure null when the frame was written */
        void sent(Throwable failure);
    }
}
