package chat.protocol;

/**
 * {@code {"type":"chat message","text":...,"clientOffset":...}}: a message as a client sent it, not yet stored;
 * {@code clientOffset} may be null.
 */
public record SentMessage(String text, String clientOffset) implements ClientFrame {
}
