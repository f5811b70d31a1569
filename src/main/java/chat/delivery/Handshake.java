package chat.delivery;

import chat.protocol.Author;
import chat.protocol.Rooms;

/**
 * What a client asked for when it connected.
 *
 * @param room         the room to join at once, or null for none
 * @param namesRooms   whether the client speaks v2 from the start (its handshake named a room, even none)
 * @param serverOffset the offset in {@code room} of the last message the client has
 * @param epoch        the store epoch that offset came from, or null if it does not know one
 * @param author       who the client is: the author of what it sends
 * @param framesAsLines whether the client takes several frames in one WebSocket message, a line each
 *                     ({@code frames=lines})
 */
public record Handshake(String room, boolean namesRooms, long serverOffset, String epoch, Author author,
                        boolean framesAsLines) {

    /** A client that takes one frame per WebSocket message. */
    public Handshake(String room, boolean namesRooms, long serverOffset, String epoch, Author author) {
        this(room, namesRooms, serverOffset, epoch, author, false);
    }

    /** A v1 client: {@code general}, and frames that name no room. */
    public static Handshake v1(long serverOffset, String epoch, Author author) {
        return new Handshake(Rooms.GENERAL, false, serverOffset, epoch, author);
    }
}
