package chat.store;

import chat.protocol.Author;
import chat.protocol.FrameCodec;

/**
 * A committed message: its offset in its room, its text, who wrote it, and when it was committed ({@code time}, in
 * milliseconds since 1970-01-01T00:00Z, by the server's clock).
 */
public record StoredMessage(long offset, String text, Author author, long time) implements FrameCodec.StoredMessageFields {
}
