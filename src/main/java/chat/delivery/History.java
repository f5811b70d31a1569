package chat.delivery;

import chat.protocol.Rooms;
import chat.metrics.ChatMetrics;
import chat.store.MessageStore;
import chat.store.StoreException;
import chat.store.StoredMessage;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The committed messages a replay reads, by room: from the room's recovery window when it reaches back far enough
 * ({@code general}'s holds its newest since the start, other rooms' their newest since their first commit, see
 * {@link RoomWindows}), else from the store, through the pages other replays read from it just before.
 */
final class History {

    private final MessageStore store;
    /** {@code general}'s newest messages. */
    private final RecoveryWindow window;
    private final RoomWindows roomWindows;
    private final SharedPages shared;
    private final ChatMetrics metrics;
    /**
     * The newest offset of each room other than general that was asked for or written to since the start; on a
     * store other nodes write to as well, of every room, exactly as far as it was published here.
     */
    private final Map<String, Long> newest = new ConcurrentHashMap<>();
    /**
     * Whether other nodes write to the store too: then the store's newest offset may be ahead of what this node
     * published, and a room's newest offset is what {@link Sequencer} published, never read from the store.
     */
    private final boolean sharedStore;

    History(MessageStore store, RecoveryWindow window, RoomWindows roomWindows, SharedPages shared,
            ChatMetrics metrics) {
        this(store, window, roomWindows, shared, metrics, false);
    }

    History(MessageStore store, RecoveryWindow window, RoomWindows roomWindows, SharedPages shared,
            ChatMetrics metrics, boolean sharedStore) {
        this.store = store;
        this.window = window;
        this.roomWindows = roomWindows;
        this.shared = shared;
        this.metrics = metrics;
        this.sharedStore = sharedStore;
    }

    /**
     * Up to {@code limit} messages after {@code offset} from the recovery window, no more than {@code maxChars}
     * characters of frames (always at least one).
     *
     * @return the page, or null if the window does not reach back to {@code offset + 1}
     */
    ReplayPage fromMemory(String room, long offset, int limit, long maxChars) {
        boolean general = Rooms.GENERAL.equals(room);
        // Read before the page: what is committed meanwhile comes live.
        Long newest = general ? Long.valueOf(window.newestOffset()) : this.newest.get(room);
        if (newest == null) {
            return null;
        }
        List<EncodedMessage> recent = general ? window.after(offset, limit) : roomWindows.after(room, offset, limit);
        if (recent == null || recent.isEmpty() && newest > offset) {
            // Not in memory, or in a window dropped since, which stopped short of the room's newest.
            return null;
        }
        List<EncodedMessage> page = recent;
        long chars = 0;
        for (int i = 0; i < recent.size(); i++) {
            if (chars >= maxChars) {
                page = recent.subList(0, i);
                break;
            }
            chars += recent.get(i).frameChars();
        }
        metrics.replayedFromMemory(page.size());
        return new ReplayPage(page, reaches(page, offset, newest), chars);
    }

    /**
     * Up to {@code limit} messages after {@code offset} from the pages other replays read just before, else from
     * the store, which stops reading once the texts reach {@code maxChars} characters.
     */
    ReplayPage fromStore(String room, long offset, int limit, long maxChars) throws StoreException {
        long newest = newestOffset(room);
        List<EncodedMessage> page = shared.get(room, offset, limit);
        if (page != null) {
            metrics.replayedFromSharedPages(page.size());
        } else {
            List<StoredMessage> stored = store.readAfter(room, offset, limit, maxChars);
            page = new ArrayList<>(stored.size());
            for (StoredMessage message : stored) {
                page.add(EncodedMessage.of(room, message));
            }
            metrics.replayedFromStore(page.size());
            shared.offer(room, offset, limit, page);
        }
        long chars = 0;
        for (EncodedMessage message : page) {
            chars += message.frameChars();
        }
        return new ReplayPage(page, reaches(page, offset, newest), chars);
    }

    /** Whether the page after {@code offset} goes up to {@code newest}, read before the page was. */
    private static boolean reaches(List<EncodedMessage> page, long offset, long newest) {
        long last = page.isEmpty() ? offset : page.get(page.size() - 1).offset();
        return last >= newest;
    }

    /** The oldest offset of {@code room} still stored; 0 if none is. */
    long oldestOffset(String room) throws StoreException {
        return store.oldestOffset(room);
    }

    /** The highest committed offset of {@code room}: general's known in memory once the window has started. */
    long newestOffset(String room) throws StoreException {
        if (Rooms.GENERAL.equals(room)) {
            long newestOfGeneral = window.newestOffset();
            return newestOfGeneral >= 0 ? newestOfGeneral : store.latestOffset(room);
        }
        Long known = newest.get(room);
        if (known != null) {
            return known;
        }
        if (sharedStore) {
            return 0; // a room made since the start: the sequencer publishes it from its first offset
        }
        // The writer may commit meanwhile: whichever of the two is higher is the newest.
        return newest.merge(room, store.latestOffset(room), Math::max);
    }

    /**
     * The offset up to which {@code room}'s messages were published here: exact on a shared store, where the
     * {@link Sequencer} starts every room at its newest offset; -1 for general before its window knows.
     */
    long publishedOffset(String room) {
        return Rooms.GENERAL.equals(room) ? window.newestOffset() : newest.getOrDefault(room, 0L);
    }

    /**
     * From now on {@code room}'s messages up to {@code offset} count as published, though none between was: at
     * the start, and after messages that could not be read were given up on (their room's subscribers closed).
     */
    void skipTo(String room, long offset) {
        if (Rooms.GENERAL.equals(room)) {
            window.startAt(offset);
        } else {
            newest.merge(room, offset, Math::max);
        }
    }

    /** The newest offset of {@code room} in the store: other nodes may have written beyond what was published here. */
    long storedNewestOffset(String room) throws StoreException {
        return store.latestOffset(room);
    }

    /** Called once a message is committed, before it is published; in each room's offset order. */
    void committed(EncodedMessage message) {
        if (Rooms.GENERAL.equals(message.room())) {
            window.add(message);
        } else {
            roomWindows.add(message);
            newest.merge(message.room(), message.offset(), Math::max);
        }
    }

    /** The at most {@code limit} messages of {@code room} just below {@code before}. */
    List<StoredMessage> before(String room, long before, int limit) throws StoreException {
        return store.readBefore(room, before, limit);
    }

    String epoch() {
        return store.epoch();
    }
}
