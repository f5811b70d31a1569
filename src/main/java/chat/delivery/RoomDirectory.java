package chat.delivery;

import chat.config.ChatConfig;
import chat.protocol.Rooms;
import chat.store.RoomHead;

import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Which rooms exist: {@code general} always, the listed ones (chat.rooms), and with
 * {@link ChatConfig.RoomCreation#ANYONE} the stored ones and whichever a client joins first, up to chat.maxRooms.
 * A room made by a join is stored with its first message.
 */
final class RoomDirectory {

    /** What joining a room finds. */
    enum Opening { OPEN, NO_SUCH_ROOM, FULL }

    private final boolean anyoneCreates;
    private final int maxRooms;
    private final Set<String> known = ConcurrentHashMap.newKeySet();

    RoomDirectory(ChatConfig.RoomCreation creation, List<String> listed, int maxRooms, List<RoomHead> stored) {
        this.anyoneCreates = creation == ChatConfig.RoomCreation.ANYONE;
        this.maxRooms = maxRooms;
        known.add(Rooms.GENERAL);
        known.addAll(listed);
        if (anyoneCreates) {
            for (RoomHead room : stored) {
                known.add(room.room());
            }
        }
    }

    /** Makes the room if it may be made. */
    Opening open(String room) {
        if (known.contains(room)) {
            return Opening.OPEN;
        }
        if (!anyoneCreates) {
            return Opening.NO_SUCH_ROOM;
        }
        synchronized (known) {
            if (known.size() >= maxRooms && !known.contains(room)) {
                return Opening.FULL;
            }
            known.add(room);
        }
        return Opening.OPEN;
    }

    /**
     * Another node stored messages in {@code room}: it exists here too when anyone may make rooms, even past
     * chat.maxRooms, which each node counts for the joins it takes.
     */
    void storedElsewhere(String room) {
        if (anyoneCreates && !known.contains(room)) {
            known.add(room);
        }
    }

    boolean exists(String room) {
        return known.contains(room);
    }

    Set<String> names() {
        return Set.copyOf(known);
    }

    int maxRooms() {
        return maxRooms;
    }
}
