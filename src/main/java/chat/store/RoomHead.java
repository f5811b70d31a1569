package chat.store;

/** A room and the newest offset handed out in it (0: nothing stored yet). */
public record RoomHead(String room, long newest) {
}
