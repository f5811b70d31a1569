package chat.protocol;

/**
 * What a client's text frame turned out to be: a {@link SentMessage}, one of the requests of protocol v2 (rooms),
 * or a frame the server refuses.
 */
public sealed interface ClientFrame permits SentMessage, ClientFrame.Join, ClientFrame.Leave,
        ClientFrame.HistoryRequest, ClientFrame.ListRooms, ClientFrame.Typing, ClientFrame.Rejected {

    /** {@code {"type":"join","room":...,"serverOffset":...,"epoch":...}}: replay the room above the offset, then live. */
    record Join(String room, long serverOffset, String epoch) implements ClientFrame {
    }

    /** {@code {"type":"leave","room":...}}. */
    record Leave(String room) implements ClientFrame {
    }

    /** {@code {"type":"history","room":...,"before":...,"limit":...}}: the messages just below {@code before}. */
    record HistoryRequest(String room, long before, int limit) implements ClientFrame {
    }

    /** {@code {"type":"typing","room":...}}: the client's user is typing in the room; forwarded, never stored. */
    record Typing(String room) implements ClientFrame {
    }

    /** {@code {"type":"rooms"}}: every room with its newest offset. */
    record ListRooms() implements ClientFrame {
    }

    /**
     * A frame that breaks the protocol; the client is told why and the connection stays open. {@code clientOffset}
     * is the frame's own, when it had a valid one, so that the client knows which message was refused, and
     * {@code room} the room it was about, when it named a valid one; else null.
     */
    record Rejected(ErrorCode code, String message, String clientOffset, String room) implements ClientFrame {

        Rejected(ErrorCode code, String message, String clientOffset) {
            this(code, message, clientOffset, null);
        }

        Rejected(ErrorCode code, String message) {
            this(code, message, null, null);
        }
    }
}
