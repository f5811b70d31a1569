package chat.delivery;

import chat.protocol.FrameCodec;
import chat.protocol.Rooms;

/**
 * A committed message as it goes out: its room, its offset there, and its encoded chat message frame, shared by
 * all recipients. A message of {@code general} carries the v1 frame too, which names no room, for the
 * connections that speak v1.
 */
record EncodedMessage(String room, long offset, String frame, String v1Frame) {

    static EncodedMessage of(String room, long offset, String text) {
        return new EncodedMessage(room, offset, FrameCodec.chatMessage(room, offset, text),
                Rooms.GENERAL.equals(room) ? FrameCodec.chatMessage(offset, text) : null);
    }

    /** The frame for a connection that names rooms (v2), or one that does not (v1, in {@code general} only). */
    String frameFor(boolean namesRooms) {
        return namesRooms || v1Frame == null ? frame : v1Frame;
    }

    /** The characters it holds in memory. */
    long chars() {
        return frame.length() + (v1Frame == null ? 0 : v1Frame.length());
    }
}
