package chat.protocol;

/**
 * {@code {"type":"chat message","room":...,"text":...,"clientOffset":...}}: a message as a client sent it, not
 * yet stored. {@code room} is null when the frame named none (it is for the connection's handshake room) and
 * {@code author} null as parsed, until the chat resolves them; {@code clientOffset} may be null. A message
 * stored without an author is stored as {@link Author#ANONYMOUS}'s.
 */
public record SentMessage(String room, String text, String clientOffset, Author author) implements ClientFrame {

    /** A message nobody is named the author of yet. */
    public SentMessage(String room, String text, String clientOffset) {
        this(room, text, clientOffset, null);
    }

    /** The same message, for {@code room}, by {@code author}. */
    public SentMessage in(String room, Author author) {
        return new SentMessage(room, text, clientOffset, author);
    }

    /** Its author, {@link Author#ANONYMOUS} when none was named. */
    public Author authorOrAnonymous() {
        return author != null ? author : Author.ANONYMOUS;
    }
}
