package chat.delivery;

import chat.metrics.ChatMetrics;
import chat.protocol.FrameCodec;
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

    /** At most {@code limit} messages after {@code offset}, in offset order. */
    List<CommittedFrame> after(long offset, int limit) throws StoreException {
        List<CommittedFrame> recent = window.after(offset, limit);
        if (recent != null) {
            metrics.replayedFromMemory(recent.size());
            return recent;
        }
        List<CommittedFrame> read = shared.get(offset, limit);
        if (read != null) {
            metrics.replayedFromSharedPages(read.size());
            return read;
        }
        List<StoredMessage> stored = store.readAfter(offset, limit);
        List<CommittedFrame> page = new ArrayList<>(stored.size());
        for (StoredMessage message : stored) {
            page.add(new CommittedFrame(message.offset(), FrameCodec.chatMessage(message.offset(), message.text())));
        }
        metrics.replayedFromStore(page.size());
        shared.offer(offset, limit, page);
        return page;
    }

    /** The highest committed offset, known in memory once the window has started. */
    long newestOffset() throws StoreException {
        long newest = window.newestOffset();
        return newest >= 0 ? newest : store.latestOffset();
    }

    String epoch() {
        return store.epoch();
    }
}
