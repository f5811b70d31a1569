package chat.delivery;

import chat.protocol.ErrorCode;
import chat.protocol.FrameCodec;
import chat.store.MessageStore;
import chat.store.StoreException;
import chat.store.StoredMessage;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * One client's stream of messages: the replay of what it missed, then the live messages, gapless and in offset
 * order.
 *
 * <p>The subscription is registered for live messages before the first history page is read. Live messages that
 * arrive while replaying are held back; when the last page has been queued, the held ones above the last
 * replayed offset follow, then {@code synced}, and from then on live messages go straight to the outbox. Each
 * history page is read only once the previous one has been sent, so a replay of any length holds one page in
 * memory. If more live messages arrive during a replay than may be held, they are dropped and read back from the
 * store instead.
 */
public final class Subscription {

    private static final Logger LOG = Logger.getLogger(Subscription.class.getName());

    private final Outbox outbox;
    private final TokenBucket sendAllowance;
    private final MessageStore store;
    private final Executor replayExecutor;
    private final int pageSize;
    private final int maxHeld;

    /** Highest offset queued to the outbox; written by the replay until {@code live}, then only by the writer. */
    private long lastQueued;
    /** Set once, when the replay is done; from then on live messages take the lock-free path. */
    private volatile boolean live;
    private final List<HeldFrame> held = new ArrayList<>();
    private boolean heldOverflowed;
    /** The epoch the client's offset came from, or null if it did not say. */
    private final String clientEpoch;
    /** The client's offset came from another database (another epoch, or above anything stored): replay everything. */
    private boolean reset;

    Subscription(Outbox outbox, TokenBucket sendAllowance, MessageStore store, Executor replayExecutor,
                 long serverOffset, String clientEpoch, int pageSize, int maxHeld) {
        this.clientEpoch = clientEpoch;
        this.outbox = outbox;
        this.sendAllowance = sendAllowance;
        this.store = store;
        this.replayExecutor = replayExecutor;
        this.lastQueued = serverOffset;
        this.pageSize = pageSize;
        this.maxHeld = maxHeld;
    }

    public Outbox outbox() {
        return outbox;
    }

    /** @return true if this client may send another message now (its rate limit) */
    boolean mayChat() {
        return sendAllowance.tryTake();
    }

    /** Starts the replay on the replay executor. */
    void startReplay() {
        runOnReplayExecutor(this::checkAheadThenReplay);
    }

    private void runOnReplayExecutor(Runnable step) {
        try {
            replayExecutor.execute(step);
        } catch (RejectedExecutionException stopping) {
            // The chat is stopping; Tomcat closes every session (1001) and the client replays after reconnecting.
            outbox.close();
        }
    }

    /**
     * A serverOffset from another epoch was not handed out by this database (it was replaced or reset); nor was
     * one above the newest stored offset, read after registering, since offsets only grow. Then the client gets
     * the whole history, flagged {@code reset}.
     */
    private void checkAheadThenReplay() {
        long latest;
        try {
            latest = store.latestOffset();
        } catch (StoreException e) {
            storeFailed(e);
            return;
        }
        synchronized (this) {
            if (lastQueued > latest || (clientEpoch != null && !clientEpoch.equals(store.epoch()))) {
                lastQueued = 0;
                reset = true;
            }
        }
        replayNextPage();
    }

    /**
     * A committed message, delivered by the single writer in offset order.
     *
     * @param frame the encoded chat message frame, shared by all recipients
     */
    void deliver(long offset, String frame) {
        if (live) {
            if (offset > lastQueued) {
                lastQueued = offset;
                outbox.offer(frame);
            }
            return;
        }
        synchronized (this) {
            if (!live) {
                if (heldOverflowed) {
                    return;
                }
                if (held.size() < maxHeld) {
                    held.add(new HeldFrame(offset, frame));
                } else {
                    held.clear();
                    heldOverflowed = true;
                }
                return;
            }
        }
        deliver(offset, frame);
    }

    private void replayNextPage() {
        if (outbox.isClosed()) {
            return;
        }
        long after;
        synchronized (this) {
            after = lastQueued;
        }
        List<StoredMessage> page;
        try {
            page = store.readAfter(after, pageSize);
        } catch (StoreException e) {
            storeFailed(e);
            return;
        }
        boolean done;
        synchronized (this) {
            for (StoredMessage message : page) {
                queue(message.offset(), FrameCodec.chatMessage(message.offset(), message.text()));
            }
            done = page.size() < pageSize && finishIfHeldComplete();
        }
        outbox.flush();
        if (!done) {
            outbox.whenDrained(() -> runOnReplayExecutor(this::replayNextPage));
        }
    }

    private void storeFailed(StoreException e) {
        LOG.log(Level.WARNING, "Replay failed; closing the connection so that the client retries", e);
        outbox.offer(FrameCodec.error(ErrorCode.STORE_UNAVAILABLE,
                "Cannot read the history; reconnect with your last offset", null));
        outbox.whenDrained(() -> outbox.closeConnection(Outbox.CLOSE_UNEXPECTED_CONDITION,
                "Store unavailable; reconnect"));
    }

    /** Caller holds the lock. @return true if the replay is complete and the subscription is live now */
    private boolean finishIfHeldComplete() {
        if (heldOverflowed) {
            heldOverflowed = false;
            held.clear();
            return false;
        }
        for (HeldFrame message : held) {
            queue(message.offset(), message.frame());
        }
        held.clear();
        outbox.enqueue(FrameCodec.synced(lastQueued, store.epoch(), reset), false);
        live = true;
        return true;
    }

    /** Caller holds the lock. */
    private void queue(long offset, String frame) {
        if (offset > lastQueued) {
            lastQueued = offset;
            outbox.enqueue(frame, false);
        }
    }

    private record HeldFrame(long offset, String frame) {
    }
}
