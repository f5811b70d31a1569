package chat.delivery;

import chat.protocol.ErrorCode;
import chat.protocol.Rooms;
import chat.store.StoreException;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Which messages of one room one connection gets, and in which order: the replay of what it missed, then the live
 * messages, gapless and in offset order.
 *
 * <p>The subscription is registered for live messages before the first history page is read. Live messages that
 * arrive while replaying are held back; when the last page has been queued, the held ones above the last
 * replayed offset follow, then {@code synced}, and from then on live messages go straight to the outbox. Each
 * history page is read only once the previous one has been sent, so a replay of any length holds one page in
 * memory. If more live messages arrive during a replay than may be held, they are dropped and read back from the
 * store instead.
 *
 * <p>A page is cut at {@code pageChars} characters as well as at {@code pageSize} messages. A page read from the
 * store first reserves its room in the server's {@link ReplayMemory} and gives it back once it has been sent; a
 * page, the last one included, that is still not sent {@code stalledReplayNanos} after it was queued closes the
 * connection (1008): its client does not read, and reconnects with its last offset when it does.
 */
final class Subscription {

    private static final Logger LOG = Logger.getLogger(Subscription.class.getName());

    private final ClientConnection connection;
    private final String room;
    private final History history;
    private final Presence presence;
    private final Executor replayExecutor;
    /** The server's, shared: one reference here rather than a copy of each field in every subscription. */
    private final ReplayLimits limits;
    /** Bytes of the server's replay memory this replay holds: reserved for the page being read, or held by the page queued. */
    private final AtomicLong memoryHeld = new AtomicLong();

    /** Highest offset queued to the outbox; written by the replay until {@code live}, then only by the lane. */
    private long lastQueued;
    /** Set once, when the replay is done; from then on live messages take the lock-free path. */
    private volatile boolean live;
    /** The client left the room; set under the lock, read by the lane and the replay. */
    private volatile boolean cancelled;
    private final List<EncodedMessage> held = new ArrayList<>();
    private boolean heldOverflowed;
    /** The epoch the client's offset came from, or null if it did not say. */
    private final String clientEpoch;
    /** The client's offset came from another database (another epoch, or above anything stored): replay everything. */
    private boolean reset;
    /** Messages after the client's offset were deleted by retention: the replay starts above it. */
    private boolean truncated;

    Subscription(ClientConnection connection, String room, History history, Presence presence,
                 Executor replayExecutor, long serverOffset, String clientEpoch, ReplayLimits limits) {
        this.presence = presence;
        this.clientEpoch = clientEpoch;
        this.connection = connection;
        this.room = room;
        this.history = history;
        this.replayExecutor = replayExecutor;
        this.lastQueued = serverOffset;
        this.limits = limits;
    }

    ClientConnection connection() {
        return connection;
    }

    String room() {
        return room;
    }

    boolean isCancelled() {
        return cancelled;
    }

    /**
     * Stops the subscription: nothing of its room is queued to the connection after this returns. Called on the
     * lane that delivers to it, so that no live message is on its way meanwhile; the replay checks under the lock.
     */
    void cancel() {
        synchronized (this) {
            cancelled = true;
            held.clear();
        }
        releaseMemory();
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
            connection.stopSending();
        }
    }

    /**
     * A serverOffset from another epoch was not handed out by this database (it was replaced or reset); nor was
     * one above the newest stored offset, read after registering, since offsets only grow. Then the client gets
     * the whole history, flagged {@code reset}. One above what this node published, but stored (by another node),
     * is no reset: the client is replayed from there, and this node publishes the rest live.
     */
    private void checkAheadThenReplay() {
        long latest;
        long oldest;
        try {
            latest = history.newestOffset(room);
            if (lastQueued > latest) {
                // On a store other nodes write to, the client may have its offset from one that published further.
                latest = Math.max(latest, history.storedNewestOffset(room));
            }
            oldest = limits.oldMessagesDeleted() ? history.oldestOffset(room) : 0;
        } catch (StoreException e) {
            storeFailed(e);
            return;
        }
        synchronized (this) {
            if (lastQueued > latest || (clientEpoch != null && !clientEpoch.equals(history.epoch()))) {
                lastQueued = 0;
                reset = true;
            }
            truncated = oldest > lastQueued + 1;
        }
        replayNextPage();
    }

    /** Committed messages in offset order, handed over by this subscription's one lane of the broadcaster. */
    void deliver(List<EncodedMessage> batch) {
        if (cancelled) {
            return;
        }
        if (live) {
            for (EncodedMessage message : batch) {
                if (message.offset() > lastQueued) {
                    lastQueued = message.offset();
                    if (!connection.deliver(message)) {
                        return; // closed, or closed now for being too slow: the client replays after reconnecting
                    }
                }
            }
            connection.flush();
            return;
        }
        synchronized (this) {
            if (!live) {
                for (EncodedMessage message : batch) {
                    hold(message);
                }
                return;
            }
        }
        deliver(batch);
    }

    /** Caller holds the lock. */
    private void hold(EncodedMessage message) {
        if (heldOverflowed) {
            return;
        }
        if (held.size() < limits.maxHeld()) {
            held.add(message);
        } else {
            held.clear();
            heldOverflowed = true;
        }
    }

    private void replayNextPage() {
        if (connection.isClosed() || cancelled) {
            return;
        }
        ReplayPage page = history.fromMemory(room, lastQueued(), limits.pageSize(), limits.pageChars());
        if (page != null) {
            queue(page);
            return;
        }
        long reservation = limits.storePageBytes();
        limits.memory().reserve(reservation, () -> {
            memoryHeld.addAndGet(reservation);
            runOnReplayExecutor(this::replayStorePage);
        });
    }

    /** Reads the next page from the store into the room reserved for it. */
    private void replayStorePage() {
        long reservation = memoryHeld.get();
        if (connection.isClosed() || cancelled) {
            releaseMemory();
            return;
        }
        ReplayPage page;
        try {
            page = history.fromStore(room, lastQueued(), limits.pageSize(), limits.pageChars());
        } catch (StoreException e) {
            releaseMemory();
            storeFailed(e);
            return;
        }
        // A client that names rooms makes general's messages take their v2 form too (see EncodedMessage).
        long bytes = ReplayMemory.bytesOf(connection.namesRoomsNow() && Rooms.GENERAL.equals(room)
                ? 2 * page.chars() : page.chars());
        limits.memory().resize(reservation, bytes);
        memoryHeld.addAndGet(bytes - reservation);
        queue(page);
    }

    private long lastQueued() {
        synchronized (this) {
            return lastQueued;
        }
    }

    private void queue(ReplayPage page) {
        boolean done;
        synchronized (this) {
            if (cancelled) {
                releaseMemory();
                return;
            }
            for (EncodedMessage message : page.messages()) {
                if (message.offset() > lastQueued) {
                    lastQueued = message.offset();
                    if (!connection.deliver(message)) {
                        break; // closed now for holding too much: the client replays the rest after reconnecting
                    }
                }
            }
            done = page.end() && finishIfHeldComplete();
        }
        if (done) {
            presence.arrived(this); // counted before the client can see its synced
        }
        if (connection.isClosed() || cancelled) {
            releaseMemory();
            return;
        }
        connection.flush();
        ScheduledFuture<?> stallCheck = connection.isIdle() ? null
                : watchForStall(connection.framesSent() + connection.queuedFrames());
        if (done) {
            // Live from here on, but the last page keeps its room until it has gone out, and a client that does
            // not read it is closed like one that stalls earlier in its replay.
            connection.whenDrained(() -> sent(stallCheck));
            return;
        }
        connection.whenDrained(() -> {
            sent(stallCheck);
            runOnReplayExecutor(this::replayNextPage);
        });
    }

    /**
     * Closes the connection unless {@code sentTarget} frames have been sent within the stall timeout.
     *
     * @return the check, or null if the chat is stopping
     */
    private ScheduledFuture<?> watchForStall(long sentTarget) {
        try {
            return limits.stallWatch().schedule(() -> {
                if (connection.framesSent() < sentTarget) {
                    connection.close(Closing.REPLAY_STALLED);
                }
            }, limits.stalledReplayNanos(), TimeUnit.NANOSECONDS);
        } catch (RejectedExecutionException stopping) {
            // The chat is stopping; Tomcat closes every session.
            return null;
        }
    }

    /**
     * The page queued last has gone out: its stall check could not close anything anymore and is dropped (the
     * timer removes it at once, so that a connection that went live holds nothing there for the stall timeout),
     * and its room in the replay memory is given back.
     */
    private void sent(ScheduledFuture<?> stallCheck) {
        if (stallCheck != null) {
            stallCheck.cancel(false);
        }
        releaseMemory();
    }

    /** Gives back what this replay holds of the server's replay memory; safe to call more than once. */
    void releaseMemory() {
        limits.memory().release(memoryHeld.getAndSet(0));
    }

    private void storeFailed(StoreException e) {
        LOG.log(Level.WARNING, "Replay failed; closing the connection so that the client retries", e);
        connection.refuse(ErrorCode.STORE_UNAVAILABLE, "Cannot read the history; reconnect with your last offset",
                null, room);
        connection.closeOnceSent(Closing.STORE_UNAVAILABLE);
    }

    /** Caller holds the lock. @return true if the replay is complete and the subscription is live now */
    private boolean finishIfHeldComplete() {
        if (heldOverflowed) {
            heldOverflowed = false;
            held.clear();
            return false;
        }
        for (EncodedMessage message : held) {
            if (message.offset() > lastQueued) {
                lastQueued = message.offset();
                connection.deliverHeld(message);
            }
        }
        held.clear();
        connection.synced(room, lastQueued, history.epoch(), reset, truncated);
        live = true;
        return true;
    }

}
