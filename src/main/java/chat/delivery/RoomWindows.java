package chat.delivery;

import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The recovery windows of the rooms other than {@code general}: each room's newest messages, in a window of its own
 * made at the room's first commit since the start, for the {@code maxWindows} rooms written to last. Memory stays
 * bounded however many rooms exist: at most {@code maxWindows} windows of {@code messagesPerWindow} messages and
 * {@code charsPerWindow} characters each.
 *
 * <p>Only the single writer adds, makes windows and drops them; replays read through a concurrent map. A replay
 * may go on reading a window dropped meanwhile, which no longer grows: it still answers only for the offsets it
 * holds exactly (see {@link RecoveryWindow}), and {@link History} measures a page against the room's newest
 * offset, which it keeps apart from the windows.
 */
final class RoomWindows {

    private final int maxWindows;
    private final int messagesPerWindow;
    private final long charsPerWindow;
    private final Map<String, RecoveryWindow> windows = new ConcurrentHashMap<>();
    /** The writer's own: the rooms with a window, least recently written first. */
    private final LinkedHashMap<String, RecoveryWindow> byLastWrite = new LinkedHashMap<>(16, 0.75f, true);

    RoomWindows(int maxWindows, int messagesPerWindow, long charsPerWindow) {
        this.maxWindows = maxWindows;
        this.messagesPerWindow = messagesPerWindow;
        this.charsPerWindow = charsPerWindow;
    }

    /** Called by the writer only, after the commit, in each room's offset order. */
    void add(EncodedMessage message) {
        if (maxWindows == 0 || messagesPerWindow == 0) {
            return;
        }
        RecoveryWindow window = byLastWrite.get(message.room());
        if (window == null) {
            window = new RecoveryWindow(messagesPerWindow, charsPerWindow);
            byLastWrite.put(message.room(), window);
            windows.put(message.room(), window);
            if (byLastWrite.size() > maxWindows) {
                Iterator<Map.Entry<String, RecoveryWindow>> eldest = byLastWrite.entrySet().iterator();
                windows.remove(eldest.next().getKey());
                eldest.remove();
            }
        }
        window.add(message);
    }

    /**
     * Up to {@code limit} messages of {@code room} after {@code after}, in offset order.
     *
     * @return the messages, or null if the room has no window or its window does not reach back to {@code after + 1}
     */
    List<EncodedMessage> after(String room, long after, int limit) {
        RecoveryWindow window = windows.get(room);
        return window == null ? null : window.after(after, limit);
    }

    /** How many rooms have a window now, for tests. */
    int size() {
        return windows.size();
    }
}
