package chat.delivery;

import chat.metrics.ChatMetrics;
import chat.protocol.FrameCodec;
import chat.store.MessageStore;
import chat.store.StoreException;
import chat.store.StoredMessage;

import java.util.ArrayList;
import java.util.List;

/** The committed messages a replay reads: from the recovery window when it reaches back far enough, else from the store. */
final class History {

    private final MessageStore store;
    private final RecoveryWindow window;
    private final ChatMetrics metrics;

    History(MessageStore store, RecoveryWindow window, ChatMetrics metrics) {
        this.store = store;
        this.window = window;
        this.metrics = metrics;
    }

    /** At most {@code limit} messages after {@code offset}, in offset order. */
    List<CommittedFrame> after(long offset, int limit) throws StoreException {
        List<CommittedFrame> recent = window.after(offset, limit);
        if (recent != null) {
            metrics.replayedFromMemory(recent.size());
            return recent;
        }
        List<StoredMessage> stored = store.readAfter(offset, limit);
        List<CommittedFrame> page = new ArrayList<>(stored.size());
        for (StoredMessage message : stored) {
            page.add(new CommittedFrame(message.offset(), FrameCodec.chatMessage(message.offset(), message.text())));
        }
        metrics.replayedFromStore(page.size());
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
