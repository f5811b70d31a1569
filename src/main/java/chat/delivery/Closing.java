package chat.delivery;

/**
 * Why the chat closes a client's connection: the WebSocket close code and the reason the client reads. In each
 * case nothing is lost: the client reconnects with the offset of the last message it has.
 */
enum Closing {
    /** Its outbox went over its cap: the client does not read as fast as messages come. */
    TOO_SLOW(1008, "Too slow: outbound queue full; reconnect with your last offset"),
    /** A page of its replay was not read within chat.stalledReplaySeconds. */
    REPLAY_STALLED(1008, "Replay stalled: the client did not read its history; reconnect with your last offset"),
    /** Its replay could not read the store. */
    STORE_UNAVAILABLE(1011, "Store unavailable; reconnect"),
    /** Handing it a message failed unexpectedly. */
    DELIVERY_FAILED(1011, "Delivery failed; reconnect with your last offset");

    private final int code;
    private final String reason;

    Closing(int code, String reason) {
        this.code = code;
        this.reason = reason;
    }

    int code() {
        return code;
    }

    String reason() {
        return reason;
    }
}
