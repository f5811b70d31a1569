package chat.delivery;

import chat.protocol.Author;
import chat.protocol.FrameCodec;
import chat.protocol.Rooms;
import chat.store.StoredMessage;

/**
 * A committed message as it goes out: its room, its offset there, and its encoded chat message frame, shared by all
 * recipients. A message of {@code general} is encoded as v1 clients get it, naming no room; the form naming the
 * room, for v2 clients, is made from it the first time one asks and then shared too. Its memory is counted for
 * both forms from the start, so that what is counted never changes.
 */
final class EncodedMessage {

    private final String room;
    private final long offset;
    /** The v2 frame; for general, the v1 frame. */
    private final String frame;
    private final boolean general;
    /** general's author and commit time, for its v2 frame; the v1 frame has neither. */
    private final Author author;
    private final long time;
    /** general's v2 frame, once a v2 client asked for it. */
    private volatile String namedFrame;

    EncodedMessage(String room, long offset, String frame, Author author, long time) {
        this.room = room;
        this.offset = offset;
        this.frame = frame;
        this.general = Rooms.GENERAL.equals(room);
        this.author = author;
        this.time = time;
    }

    static EncodedMessage of(String room, long offset, String text, Author author, long time) {
        return Rooms.GENERAL.equals(room)
                ? new EncodedMessage(room, offset, FrameCodec.chatMessage(offset, text), author, time)
                : new EncodedMessage(room, offset, FrameCodec.chatMessage(room, offset, text, author, time), author, time);
    }

    static EncodedMessage of(String room, StoredMessage message) {
        return of(room, message.offset(), message.text(), message.author(), message.time());
    }

    String room() {
        return room;
    }

    long offset() {
        return offset;
    }

    /** The frame for a connection that names rooms (v2), or one that does not (v1, in {@code general} only). */
    String frameFor(boolean namesRooms) {
        if (!general || !namesRooms) {
            return frame;
        }
        String named = namedFrame;
        if (named == null) {
            // Two lanes may make it at once; both make the same string.
            named = FrameCodec.chatMessageInRoom(frame, room, author, time);
            namedFrame = named;
        }
        return named;
    }

    /** The characters of the frame it was encoded as: what a replay page of it sends. */
    long frameChars() {
        return frame.length();
    }

    /** The characters it holds in memory at the most: both forms for a message of general. */
    long chars() {
        return general ? 2L * frame.length() + room.length() + 2L * author.name().length() + 66 : frame.length();
    }
}
