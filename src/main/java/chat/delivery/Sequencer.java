package chat.delivery;

import chat.store.Appended;
import chat.store.MessageStore;
import chat.store.RoomHead;
import chat.store.StoreException;
import chat.store.StoredMessage;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The one way committed messages reach the broadcaster: each room's in offset order and without a gap, whichever
 * node committed them.
 *
 * <p>Concurrency: two threads publish, this node's writer ({@link #publishCommitted}) and, on a store other nodes
 * write to, the {@link CommitFollower} ({@link #catchUp}); both hold this object's lock from reading a room's
 * published offset until the batch is handed to the lanes, so what one publishes of a room follows what the other
 * published before. The writer's batch got its offsets after every earlier commit of its rooms was visible (the
 * store orders commits per room), so the messages between what was published here and the batch are in the store
 * when the writer looks: it reads them and publishes them first. Replays read {@link History#newestOffset} without
 * the lock: every message above the value they read is published after they read it.
 */
final class Sequencer {

    private static final Logger LOG = Logger.getLogger(Sequencer.class.getName());
    /** Reads of the messages before a batch of this node's, 10 s in all: the batch waits for them. */
    private static final int GAP_READ_TRIES = 50;
    private static final long GAP_READ_PAUSE_MILLIS = 200;

    private final MessageStore store;
    private final History history;
    private final Broadcaster broadcaster;
    private final RoomDirectory rooms;
    /** Whether other nodes commit to the store too; if not, only this node's writer publishes. */
    private final boolean sharedStore;
    private final int pageSize;

    Sequencer(MessageStore store, History history, Broadcaster broadcaster, RoomDirectory rooms, boolean sharedStore,
              int pageSize) {
        this.store = store;
        this.history = history;
        this.broadcaster = broadcaster;
        this.rooms = rooms;
        this.sharedStore = sharedStore;
        this.pageSize = pageSize;
    }

    /**
     * This node's commit: the messages it stored, in offset order, and the answers to every message of the batch.
     * A message sent again that another node stored is acknowledged with that node's offset, once published here.
     */
    synchronized void publishCommitted(List<EncodedMessage> committed, List<Broadcaster.Ack> acks)
            throws InterruptedException {
        if (!sharedStore) {
            for (EncodedMessage message : committed) {
                history.committed(message);
            }
            broadcaster.publish(committed, acks);
            return;
        }
        Map<String, Long> before = new LinkedHashMap<>();
        for (EncodedMessage message : committed) {
            before.putIfAbsent(message.room(), message.offset() - 1);
        }
        for (Broadcaster.Ack ack : acks) {
            if (ack.stored().outcome() == Appended.Outcome.ALREADY_STORED) {
                before.merge(ack.stored().room(), ack.stored().offset(), Math::max);
            }
        }
        for (Map.Entry<String, Long> room : before.entrySet()) {
            publishBefore(room.getKey(), room.getValue());
        }
        List<EncodedMessage> unpublished = new ArrayList<>(committed.size());
        for (EncodedMessage message : committed) {
            // A poll of the follower may have read this batch from the store already.
            if (message.offset() > history.publishedOffset(message.room())) {
                history.committed(message);
                unpublished.add(message);
            }
        }
        broadcaster.publish(unpublished, acks);
    }

    /**
     * The newest offsets other nodes reached: publishes what they committed since, room by room.
     *
     * @throws StoreException if the messages cannot be read now: what was read is published, the rest is read by
     *                        the next call
     */
    synchronized void catchUp(List<RoomHead> heads) throws StoreException, InterruptedException {
        for (RoomHead head : heads) {
            rooms.storedElsewhere(head.room());
            publishUpTo(head.room(), head.newest());
        }
    }

    /**
     * Publishes the messages of {@code room} up to {@code offset} that other nodes committed before this node's
     * batch, trying again for {@link #GAP_READ_TRIES} times, since the batch waits for them. If they still cannot be
     * read, the room's subscribers here are closed (they reconnect with their offsets and are replayed from the
     * store) and the room goes on from {@code offset}.
     */
    private void publishBefore(String room, long offset) throws InterruptedException {
        StoreException failure = null;
        for (int attempt = 1; attempt <= GAP_READ_TRIES; attempt++) {
            try {
                publishUpTo(room, offset);
                return;
            } catch (StoreException e) {
                failure = e;
                Thread.sleep(GAP_READ_PAUSE_MILLIS);
            }
        }
        LOG.log(Level.WARNING, "Cannot read room " + room + "'s messages up to " + offset + " that other nodes"
                + " committed before this node's batch; its connections here are closed and replayed from the store"
                + " when they reconnect", failure);
        broadcaster.closeRoom(room, Closing.STORE_UNAVAILABLE);
        history.skipTo(room, offset);
    }

    /** Publishes {@code room}'s messages from the store up to {@code offset}, a page at a time. */
    private void publishUpTo(String room, long offset) throws StoreException, InterruptedException {
        long published = history.publishedOffset(room);
        if (published < 0) {
            history.skipTo(room, offset);
            return;
        }
        while (published < offset) {
            List<StoredMessage> page = store.readAfter(room, published, (int) Math.min(pageSize, offset - published));
            if (page.isEmpty()) {
                throw new StoreException("Room " + room + " has no message after " + published + " though " + offset
                        + " was committed", null);
            }
            List<EncodedMessage> messages = new ArrayList<>(page.size());
            for (StoredMessage stored : page) {
                EncodedMessage message = EncodedMessage.of(room, stored);
                history.committed(message);
                messages.add(message);
                published = stored.offset();
            }
            broadcaster.publish(messages, List.of());
        }
    }
}
