package chat.delivery;

import java.util.ArrayList;
import java.util.List;

/**
 * The newest committed messages, kept in memory with their encoded frames, so that a client that was away briefly
 * is replayed without reading the store. Bounded in messages and in characters; the oldest leave first.
 *
 * <p>Only the single writer adds, in offset order; any thread reads, without locks. A message sits in the slot of
 * its offset modulo the capacity, and a reader takes a slot only if it holds exactly the offset asked for, so a
 * slot overwritten meanwhile sends the reader to the store rather than giving it a wrong message.
 */
final class RecoveryWindow {

    private static final long UNKNOWN = -1;

    private final EncodedMessage[] slots;
    private final long maxChars;
    /** Written by the writer only. */
    private long chars;
    /** Lowest offset held; above {@link #newest} while empty. Raised before a slot is reused. */
    private volatile long oldest = Long.MAX_VALUE;
    /** Highest offset committed, once {@link #startAt} said where the store ends; published after its slot. */
    private volatile long newest = UNKNOWN;

    RecoveryWindow(int maxMessages, long maxChars) {
        this.slots = new EncodedMessage[maxMessages];
        this.maxChars = maxChars;
    }

    /** The store ends at {@code latestOffset} (0: empty): from here on the window knows the newest offset. */
    void startAt(long latestOffset) {
        oldest = latestOffset + 1;
        newest = latestOffset;
    }

    /**
     * Called by the writer only, after the commit, in offset order. The first commit of a window that was not
     * started tells where the store ends: just below it.
     */
    void add(EncodedMessage message) {
        long offset = message.offset();
        if (newest == UNKNOWN) {
            startAt(offset - 1);
        }
        if (slots.length == 0) {
            newest = offset;
            return;
        }
        if (offset != newest + 1) {
            // Offsets are dense, so this is a gap the window cannot bridge: it starts over from here.
            oldest = offset;
            chars = 0;
        }
        long length = message.chars();
        while (oldest <= newest && (offset - oldest >= slots.length || chars + length > maxChars)) {
            chars -= slots[slot(oldest)].chars();
            oldest = oldest + 1;
        }
        slots[slot(offset)] = message;
        chars += length;
        newest = offset;
    }

    /**
     * The highest committed offset, or -1 if not known yet. Only ever behind the store by a commit that has not
     * been published yet, and no client has an offset from such a commit.
     */
    long newestOffset() {
        return newest;
    }

    /**
     * Up to {@code limit} messages after {@code after}, in offset order.
     *
     * @return the messages (empty if none is newer), or null if the window does not reach back to {@code after + 1}
     */
    List<EncodedMessage> after(long after, int limit) {
        long first = after + 1;
        if (first < oldest) {
            return null;
        }
        long last = Math.min(newest, after + limit);
        if (last < first) {
            return List.of();
        }
        if (slots.length == 0) {
            return null;
        }
        List<EncodedMessage> page = new ArrayList<>((int) (last - after));
        for (long offset = first; offset <= last; offset++) {
            EncodedMessage message = slots[slot(offset)];
            if (message == null || message.offset() != offset) {
                // Evicted while reading: what was read is still in order; the rest comes from the store.
                return page.isEmpty() ? null : page;
            }
            page.add(message);
        }
        return page;
    }

    private int slot(long offset) {
        return (int) (offset % slots.length);
    }
}
