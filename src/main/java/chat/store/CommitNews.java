package chat.store;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The payload of a commit's notification: the writer's id on the first line, then one line per room, its name and
 * the newest offset the commit reached there. No text: a notification carries at most 8000 bytes, and the
 * messages are read from the store. Room names have neither spaces nor line breaks (see {@code Rooms}).
 */
final class CommitNews {

    /** Below PostgreSQL's 8000-byte limit on a payload. */
    static final int MAX_PAYLOAD_BYTES = 7_900;

    private CommitNews() {
    }

    /** One payload, or several when the rooms do not fit into one. */
    static List<String> payloads(String writerId, Map<String, Long> newestByRoom) {
        List<String> payloads = new ArrayList<>(1);
        StringBuilder payload = new StringBuilder(writerId);
        for (Map.Entry<String, Long> room : newestByRoom.entrySet()) {
            String line = "\n" + room.getKey() + ' ' + room.getValue();
            // Ids, names and digits are ASCII: a character is a byte.
            if (payload.length() > writerId.length() && payload.length() + line.length() > MAX_PAYLOAD_BYTES) {
                payloads.add(payload.toString());
                payload.setLength(0);
                payload.append(writerId);
            }
            payload.append(line);
        }
        payloads.add(payload.toString());
        return payloads;
    }

    /** The writer that sent {@code payload}. */
    static String writerOf(String payload) {
        int end = payload.indexOf('\n');
        return end < 0 ? payload : payload.substring(0, end);
    }

    /** The rooms and offsets of {@code payload}, added to {@code rooms}. */
    static void readRooms(String payload, List<RoomHead> rooms) {
        String[] lines = payload.split("\n");
        for (int i = 1; i < lines.length; i++) {
            int space = lines[i].lastIndexOf(' ');
            if (space <= 0) {
                throw new IllegalArgumentException("Not a commit notification line: '" + lines[i] + "'");
            }
            rooms.add(new RoomHead(lines[i].substring(0, space), Long.parseLong(lines[i].substring(space + 1))));
        }
    }
}
