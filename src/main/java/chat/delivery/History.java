package chat.delivery;

import chat.protocol.Rooms;
import chat.metrics.ChatMetrics;
import chat.store.MessageStore;
import chat.store.StoreException;
import chat.store.StoredMessage;

import java.util.ArrayList;
import java.util.List;

/**
 * The committed messages a replay reads: from the recovery window when it reaches back far enough, else from the
 * store, through the pages other replays read from it just before.
 */
final class History {

    private final MessageStore store;
    private final RecoveryWindow window;
    private final SharedPages shared;
    private final ChatMetrics metrics;

    History(MessageStore store, RecoveryWindow window, SharedPages shared, ChatMetrics metrics) {
        this.store = store;
        this.window = window;
        this.shared = shared;
        this.metrics = metrics;
    }

    /**
     * Up to {@code limit} messages after {@code offset} from the recovery window, no more than {@code maxChars}
     * characters of frames (always at least one).
     *
     * @return the page, or null if the window does not reach back to {@code offset + 1}
     */
    ReplayPage fromMemory(long offset, int limit, long maxChars) {
        long newest = window.newestOffset();
        List<EncodedMessage> recent = window.after(offset, limit);
        if (recent == null) {
            return null;
        }
        List<EncodedMessage> page = recent;
        long chars = 0;
        for (int i = 0; i < recent.size(); i++) {
            if (chars >= maxChars) {
                page = recent.subList(0, i);
                break;
            }
            chars += recent.get(i).frame().length();
        }
        metrics.replayedFromMemory(page.size());
        return new ReplayPage(page, reaches(page, offset, newest), chars);
    }

    /**
     * Up to {@code limit} messages after {@code offset} from the pages other replays read just before, else from
     * the store, which stops reading once the texts reach {@code maxChars} characters.
     */
    ReplayPage fromStore(long offset, int limit, long maxChars) throws StoreException {
        long newest = newestOffset();
        List<EncodedMessage> page = shared.get(offset, limit);
        if (page != null) {
            metrics.replayedFromSharedPages(page.size());
        } else {
            List<StoredMessage> stored = store.readAfter(Rooms.GENERAL, offset, limit, maxChars);
            page = new ArrayList<>(stored.size());
            for (StoredMessage message : stored) {
                page.add(EncodedMessage.of(message.offset(), message.text()));
            }
            metrics.replayedFromStore(page.size());
            shared.offer(offset, limit, page);
        }
        long chars = 0;
        for (EncodedMessage message : page) {
            chars += message.frame().length();
        }
        return new ReplayPage(page, reaches(page, offset, newest), chars);
    }

    /** Whether the page after {@code offset} goes up to {@code newest}, read before the page was. */
    private static boolean reaches(List<EncodedMessage> page, long offset, long newest) {
        long last = page.isEmpty() ? offset : page.get(page.size() - 1).offset();
        return last >= newest;
    }

    /** The oldest offset still stored; 0 if none is. */
    long oldestOffset() throws StoreException {
        return store.oldestOffset(Rooms.GENERAL);
    }

    /** The highest committed offset, known in memory once the window has started. */
    long newestOffset() throws StoreException {
        long newest = window.newestOffset();
        return newest >= 0 ? newest : store.latestOffset(Rooms.GENERAL);
    }

    String epoch() {
        return store.epoch();
    }
}
