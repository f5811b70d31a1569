package chat.store;

import chat.protocol.FrameCodec;

/** A committed message and its offset in its room. */
public record StoredMessage(long offset, String text) implements FrameCodec.StoredMessageFields {
}
