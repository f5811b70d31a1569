package chat.delivery;

import chat.protocol.ErrorCode;
import chat.protocol.FrameCodec;
import chat.store.StoreException;

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
    /** The broadcaster's lane that delivers to this subscription. */
    private final int lane;
    private final TokenBucket sendAllowance;
    private final History history;
    private final Executor replayExecutor;
    private final int pageSize;
    private final int maxHeld;

    /** Highest offset queued to the outbox; written by the replay until {@code live}, then only by the lane. */
    private long lastQueued;
    /** Set once, when the replay is done; from then on live messages take the lock-free path. */
    private volatile boolean live;
    private final List<CommittedFrame> held = new ArrayList<>();
    private boolean heldOverflowed;
    /** The epoch the client's offset came from, or null if it did not say. */
    private final String clientEpoch;
    /** The client's offset came from another database (another epoch, or above anything stored): replay everything. */
    private boolean reset;

    Subscription(Outbox outbox, int lane, TokenBucket sendAllowance, History history, Executor replayExecutor,
                 long serverOffset, String clientEpoch, int pageSize, int maxHeld) {
        this.clientEpoch = clientEpoch;
        this.outbox = outbox;
        this.lane = lane;
        this.sendAllowance = sendAllowance;
        this.history = history;
        this.replayExecutor = replayExecutor;
        this.lastQueued = serverOffset;
        this.pageSize = pageSize;
        this.maxHeld = maxHeld;
    }

    public Outbox outbox() {
        return outbox;
    }

    int lane() {
        return lane;
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
            latest = history.newestOffset();
        } catch (StoreException e) {
            storeFailed(e);
            return;
        }
        synchronized (this) {
            if (lastQueued > latest || (clientEpoch != null && !clientEpoch.equals(history.epoch()))) {
                lastQueued = 0;
                reset = true;
            }
        }
        replayNextPage();
    }

    /** Committed messages in offset order, handed over by this subscription's one lane of the broadcaster. */
    void deliver(List<CommittedFrame> batch) {
        if (live) {
            for (CommittedFrame message : batch) {
                if (message.offset() > lastQueued) {
                    lastQueued = message.offset();
                    if (!outbox.enqueue(message.frame(), true)) {
                        return; // closed, or closed now for being too slow: the client replays after reconnecting
                    }
                }
            }
            outbox.flush();
            return;
        }
        synchronized (this) {
            if (!live) {
                for (CommittedFrame message : batch) {
                    hold(message);
                }
                return;
            }
        }
        deliver(batch);
    }

    /** Caller holds the lock. */
    private void hold(CommittedFrame message) {
        if (heldOverflowed) {
            return;
        }
        if (held.size() < maxHeld) {
            held.add(message);
        } else {
            held.clear();
            heldOverflowed = true;
        }
    }

    private void replayNextPage() {
        if (outbox.isClosed()) {
            return;
        }
        long after;
        synchronized (this) {
            after = lastQueued;
        }
        List<CommittedFrame> page;
        try {
            page = history.after(after, pageSize);
        } catch (StoreException e) {
            storeFailed(e);
            return;
        }
        boolean done;
        synchronized (this) {
            for (CommittedFrame message : page) {
                queue(message);
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
        for (CommittedFrame message : held) {
            queue(message);
        }
        held.clear();
        outbox.enqueue(FrameCodec.synced(lastQueued, history.epoch(), reset), false);
        live = true;
        return true;
    }

    /** Caller holds the lock. */
    private void queue(CommittedFrame message) {
        if (message.offset() > lastQueued) {
            lastQueued = message.offset();
            outbox.enqueue(message.frame(), false);
        }
    }
}
