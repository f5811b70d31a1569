package chat.delivery;

import chat.protocol.ErrorCode;
import chat.store.Appended;

import java.util.List;
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
    private static final CommittedBatch STOP = new CommittedBatch(List.of(), List.of());

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

    void add(Subscription subscription) {
        lanes[subscription.connection().lane()].subscriptions.put(subscription.connection(), subscription);
    }

    /** @return the connection's subscription, or null if it was removed before */
    Subscription remove(ClientConnection connection) {
        return lanes[connection.lane()].subscriptions.remove(connection);
    }

    /**
     * Called by the writer thread only, after the commit: the batch's new messages in offset order, and the acks of
     * every message in it. The lists are the lanes' from now on: not to be changed.
     *
     * @throws InterruptedException if the writer was interrupted while a lane was full
     */
    void publish(List<EncodedMessage> messages, List<Ack> acks) throws InterruptedException {
        CommittedBatch batch = new CommittedBatch(messages, acks);
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
            for (Subscription subscription : lane.subscriptions.values()) {
                frames += subscription.connection().queuedFrames();
            }
        }
        return frames;
    }

    /** Frames waiting in the fullest outbound queue. */
    long maxQueuedFrames() {
        long max = 0;
        for (Lane lane : lanes) {
            for (Subscription subscription : lane.subscriptions.values()) {
                max = Math.max(max, subscription.connection().queuedFrames());
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
            for (Subscription subscription : lane.subscriptions.values()) {
                if (!subscription.connection().isIdle()) {
                    return false;
                }
            }
        }
        return true;
    }

    int size() {
        int size = 0;
        for (Lane lane : lanes) {
            size += lane.subscriptions.size();
        }
        return size;
    }

    private static final class Lane {
        final Map<ClientConnection, Subscription> subscriptions = new ConcurrentHashMap<>();
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
                if (!batch.messages().isEmpty()) {
                    for (Subscription subscription : subscriptions.values()) {
                        try {
                            subscription.deliver(batch.messages());
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
    record Ack(ClientConnection sender, String clientOffset, Appended stored) {

        void send() {
            if (stored.outcome() == Appended.Outcome.CONFLICT) {
                sender.refuse(ErrorCode.CLIENT_OFFSET_CONFLICT, "Another message is stored with this clientOffset;"
                        + " not stored: send it with a clientOffset of its own", clientOffset);
            } else {
                sender.ack(clientOffset, stored.offset());
            }
        }
    }

    /** What one commit published; compared by identity, so that only STOP is STOP. */
    private static final class CommittedBatch {
        private final List<EncodedMessage> messages;
        private final List<Ack> acks;

        CommittedBatch(List<EncodedMessage> messages, List<Ack> acks) {
            this.messages = messages;
            this.acks = acks;
        }

        List<EncodedMessage> messages() {
            return messages;
        }

        List<Ack> acks() {
            return acks;
        }
    }
}
