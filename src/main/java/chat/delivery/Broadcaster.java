package chat.delivery;

import chat.protocol.ErrorCode;
import chat.store.Appended;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Set;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Who receives live messages, and the threads that hand them out.
 *
 * <p>Subscriptions are spread over a few lanes. Each lane has one thread that takes every committed batch, in
 * commit order, delivers its messages to the lane's subscriptions, so each subscription sees offset order, and
 * then the batch's acks to those of its subscriptions that sent a message in it: a live sender has its own message
 * before the ack. The writer only queues a batch to every lane and goes on committing the next one while the lanes
 * write to the sockets: the disk sync of one batch overlaps the fan-out of the one before. A lane that falls
 * {@code laneCapacity} batches behind makes the writer wait, so that nothing between the writer and the outboxes
 * grows without bound.
 */
final class Broadcaster implements AutoCloseable {

    private static final long STOP_WAIT_MILLIS = 10_000;
    private static final Logger LOG = Logger.getLogger(Broadcaster.class.getName());
    /** A lane stops when it takes this. */
    private static final CommittedBatch STOP = new CommittedBatch(Map.of(), List.of(), null);

    private final Lane[] lanes;
    private final AtomicInteger nextLane = new AtomicInteger();

    Broadcaster(int laneCount, int laneCapacity) {
        this.lanes = new Lane[laneCount];
        for (int i = 0; i < laneCount; i++) {
            lanes[i] = new Lane(i, laneCapacity);
        }
    }

    /** Gives the subscription its lane; {@link #add} registers it there. */
    int laneFor() {
        return Math.floorMod(nextLane.getAndIncrement(), lanes.length);
    }

    /** A new connection: counted, and sent its acks, from now on. */
    void add(ClientConnection connection) {
        lanes[connection.lane()].connections.add(connection);
    }

    /** The connection closed: it gets nothing more, in any room. */
    void remove(ClientConnection connection) {
        Lane lane = lanes[connection.lane()];
        lane.connections.remove(connection);
        for (String room : connection.joined().keySet()) {
            Map<ClientConnection, Subscription> inRoom = lane.rooms.get(room);
            if (inRoom != null) {
                inRoom.remove(connection);
            }
        }
    }

    /** Delivers the room's live messages to the subscription from the next batch on. */
    void subscribe(Subscription subscription) {
        lanes[subscription.connection().lane()].rooms
                .computeIfAbsent(subscription.room(), room -> new ConcurrentHashMap<>())
                .put(subscription.connection(), subscription);
    }

    /** Stops delivering the room's messages to the subscription; call it on its lane (see {@link #onLane}). */
    void unsubscribe(Subscription subscription) {
        Map<ClientConnection, Subscription> inRoom = lanes[subscription.connection().lane()].rooms
                .get(subscription.room());
        if (inRoom != null) {
            inRoom.remove(subscription.connection());
        }
    }

    /** Closes every connection subscribed to {@code room}, on every lane. */
    void closeRoom(String room, Closing why) {
        for (Lane lane : lanes) {
            Map<ClientConnection, Subscription> inRoom = lane.rooms.get(room);
            if (inRoom != null) {
                for (ClientConnection connection : inRoom.keySet()) {
                    connection.close(why);
                }
            }
        }
    }

    /**
     * Runs {@code task} on the thread of the connection's lane, between two batches: nothing is being delivered to
     * the connection meanwhile, and what the task queues comes after every message delivered before it.
     */
    void onLane(ClientConnection connection, Runnable task) {
        Lane lane = lanes[connection.lane()];
        lane.undelivered.incrementAndGet();
        try {
            lane.batches.put(new CommittedBatch(Map.of(), List.of(), task));
        } catch (InterruptedException e) {
            lane.undelivered.decrementAndGet();
            Thread.currentThread().interrupt();
        }
    }

    /**
     * Called by the {@link Sequencer} only, after the commit: the batch's new messages in offset order, and the acks of
     * every message in it. The lists are the lanes' from now on: not to be changed.
     *
     * @throws InterruptedException if the writer was interrupted while a lane was full
     */
    void publish(List<EncodedMessage> messages, List<Ack> acks) throws InterruptedException {
        Map<String, List<EncodedMessage>> byRoom = new LinkedHashMap<>();
        for (EncodedMessage message : messages) {
            byRoom.computeIfAbsent(message.room(), room -> new ArrayList<>()).add(message);
        }
        CommittedBatch batch = new CommittedBatch(byRoom, acks, null);
        for (Lane lane : lanes) {
            lane.undelivered.incrementAndGet();
            try {
                lane.batches.put(batch);
            } catch (InterruptedException e) {
                lane.undelivered.decrementAndGet();
                throw e;
            }
        }
    }

    /**
     * Delivers what was published so far, then stops the lanes' threads; waits for them at most
     * {@link #STOP_WAIT_MILLIS} together. Publishing afterwards is an error.
     *
     * @throws IllegalStateException if a lane had not finished by then
     */
    @Override
    public void close() {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(STOP_WAIT_MILLIS);
        boolean interrupted = false;
        for (Lane lane : lanes) {
            lane.batches.offer(STOP);
        }
        for (Lane lane : lanes) {
            while (lane.thread.isAlive() && System.nanoTime() - deadline < 0) {
                try {
                    // A full lane had no room for STOP: it makes room as it delivers.
                    if (!lane.batches.contains(STOP)) {
                        lane.batches.offer(STOP);
                    }
                    lane.thread.join(10);
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
        for (Lane lane : lanes) {
            if (lane.thread.isAlive()) {
                throw new IllegalStateException(lane.thread.getName() + " did not deliver its last "
                        + lane.undelivered.get() + " batch(es) within " + STOP_WAIT_MILLIS + " ms");
            }
        }
    }

    /** Frames waiting in all outbound queues together. */
    long queuedFrames() {
        long frames = 0;
        for (Lane lane : lanes) {
            for (ClientConnection connection : lane.connections) {
                frames += connection.queuedFrames();
            }
        }
        return frames;
    }

    /** Frames waiting in the fullest outbound queue. */
    long maxQueuedFrames() {
        long max = 0;
        for (Lane lane : lanes) {
            for (ClientConnection connection : lane.connections) {
                max = Math.max(max, connection.queuedFrames());
            }
        }
        return max;
    }

    /** Whether no lane has a batch left to deliver and no subscriber has a frame queued or being sent. */
    boolean outboxesIdle() {
        for (Lane lane : lanes) {
            if (lane.undelivered.get() > 0) {
                return false;
            }
            for (ClientConnection connection : lane.connections) {
                if (!connection.isIdle()) {
                    return false;
                }
            }
        }
        return true;
    }

    int size() {
        int size = 0;
        for (Lane lane : lanes) {
            size += lane.connections.size();
        }
        return size;
    }

    private static final class Lane {
        final Set<ClientConnection> connections = ConcurrentHashMap.newKeySet();
        /** Room name to the subscriptions of this lane's connections in it. */
        final Map<String, Map<ClientConnection, Subscription>> rooms = new ConcurrentHashMap<>();
        final BlockingQueue<CommittedBatch> batches;
        final int index;
        final Thread thread;
        /** Batches published to this lane and not yet handed to every subscription. */
        final AtomicInteger undelivered = new AtomicInteger();

        Lane(int index, int capacity) {
            this.index = index;
            this.batches = new ArrayBlockingQueue<>(capacity);
            this.thread = DaemonThreads.named("chat-fanout-" + (index + 1)).newThread(this::run);
            this.thread.start();
        }

        private void run() {
            while (true) {
                CommittedBatch batch;
                try {
                    batch = batches.take();
                } catch (InterruptedException e) {
                    // Only close() stops a lane, with STOP, so that nothing published is left undelivered.
                    continue;
                }
                if (batch == STOP) {
                    return;
                }
                if (batch.task() != null) {
                    try {
                        batch.task().run();
                    } catch (RuntimeException e) {
                        LOG.log(Level.SEVERE, "A task on " + thread.getName() + " failed", e);
                    }
                }
                for (Map.Entry<String, List<EncodedMessage>> room : batch.byRoom().entrySet()) {
                    Map<ClientConnection, Subscription> inRoom = rooms.get(room.getKey());
                    if (inRoom == null) {
                        continue;
                    }
                    for (Subscription subscription : inRoom.values()) {
                        try {
                            subscription.deliver(room.getValue());
                        } catch (RuntimeException e) {
                            failed(subscription.connection(), e);
                        }
                    }
                }
                sendAcks(batch.acks());
                undelivered.decrementAndGet();
            }
        }

        private void sendAcks(List<Ack> acks) {
            for (Ack ack : acks) {
                if (ack.sender().lane() == index) {
                    try {
                        ack.send();
                    } catch (RuntimeException e) {
                        failed(ack.sender(), e);
                    }
                }
            }
        }

        /** One broken connection must not stop the lane for the others; this one is replayed after reconnecting. */
        private static void failed(ClientConnection connection, RuntimeException e) {
            LOG.log(Level.SEVERE, "Delivering to a connection failed; closing it", e);
            connection.close(Closing.DELIVERY_FAILED);
        }
    }

    /** The answer to one message of a batch, to its sender: its ack, or why it was not stored. */
    record Ack(ClientConnection sender, String clientOffset, String sentToRoom, Appended stored) {

        void send() {
            if (stored.outcome() == Appended.Outcome.CONFLICT) {
                sender.refuse(ErrorCode.CLIENT_OFFSET_CONFLICT, "Another message is stored with this clientOffset;"
                        + " not stored: send it with a clientOffset of its own", clientOffset, sentToRoom);
            } else {
                sender.ack(stored.room(), clientOffset, stored.offset());
            }
        }
    }

    /**
     * What one commit published, its messages by room in offset order; or a task to run on the lane. Compared by
     * identity, so that only STOP is STOP.
     */
    private static final class CommittedBatch {
        private final Map<String, List<EncodedMessage>> byRoom;
        private final List<Ack> acks;
        private final Runnable task;

        CommittedBatch(Map<String, List<EncodedMessage>> byRoom, List<Ack> acks, Runnable task) {
            this.byRoom = byRoom;
            this.acks = acks;
            this.task = task;
        }

        Map<String, List<EncodedMessage>> byRoom() {
            return byRoom;
        }

        List<Ack> acks() {
            return acks;
        }

        Runnable task() {
            return task;
        }
    }
}
