package chat.delivery;

import chat.protocol.FrameCodec;

/** A committed message as it goes out: its offset and its encoded chat message frame, shared by all recipients. */
record EncodedMessage(long offset, String frame) {

    static EncodedMessage of(long offset, String text) {
        return new EncodedMessage(offset, FrameCodec.chatMessage(offset, text));
    }
}
