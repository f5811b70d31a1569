package chat.protocol;

/**
 * {@code {"type":"chat message","room":...,"text":...,"clientOffset":...}}: a message as a client sent it, not
 * yet stored. {@code room} is null when the frame named none (it is for the connection's handshake room) until
 * the chat resolves it; {@code clientOffset} may be null.
 */
public record SentMessage(String room, String text, String clientOffset) implements ClientFrame {

    /** The same message, for {@code room}. */
    public SentMessage in(String room) {
        return new SentMessage(room, text, clientOffset);
    }
}
