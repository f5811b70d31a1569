package chat.delivery;

import chat.metrics.ChatMetrics;
import chat.protocol.ErrorCode;
import chat.store.Appended;
import chat.protocol.SentMessage;
import chat.store.MessageStore;
import chat.store.StoreException;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The one thread that writes. It takes whatever messages are waiting, commits them in one transaction (group
 * commit), then hands the new ones in offset order, with the ack of every message in the batch, to the
 * {@link Sequencer}, which publishes them to the broadcaster's lanes, and goes on with the next batch. Nothing is
 * published or acknowledged before its transaction committed; a failed transaction answers every sender in it with
 * {@code store-unavailable}.
 */
final class MessageWriter implements AutoCloseable {

    private static final Logger LOG = Logger.getLogger(MessageWriter.class.getName());
    private static final long SHUTDOWN_WAIT_MILLIS = 10_000;
    private static final String SHUTTING_DOWN = "The server is shutting down; send again after reconnecting";

    private final MessageStore store;
    private final Sequencer sequencer;
    private final ChatMetrics metrics;
    private final BlockingQueue<QueuedMessage> queue;
    private final WriteQueueShares shares;
    private final RetentionSweeper retention;
    private final int batchMax;
    private final Thread thread;
    private volatile boolean running = true;
    /** Why the last transaction failed, or null once one committed since. */
    private volatile String lastFailure;

    MessageWriter(MessageStore store, Sequencer sequencer, ChatMetrics metrics,
                  int queueCapacity, int maxQueuedPerAddress, int batchMax, RetentionSweeper retention) {
        this.store = store;
        this.sequencer = sequencer;
        this.metrics = metrics;
        this.queue = new ArrayBlockingQueue<>(queueCapacity);
        this.shares = new WriteQueueShares(maxQueuedPerAddress);
        this.retention = retention;
        this.batchMax = batchMax;
        this.thread = DaemonThreads.named("chat-writer").newThread(this::run);
        this.thread.start();
    }

    /**
     * Queues a message for the next commit. On refusal the sender has been told why already.
     *
     * @return false if the writer is stopping or its queue is full
     */
    boolean submit(SentMessage message, ClientConnection sender) {
        if (!running) {
            sender.refuse(ErrorCode.STORE_UNAVAILABLE, SHUTTING_DOWN, message.clientOffset(), message.room());
            return false;
        }
        String address = sender.clientAddress();
        if (!shares.tryTake(address)) {
            sender.refuse(ErrorCode.OVERLOADED, shares.maxPerAddress() + " messages of your address are waiting to be"
                    + " stored, its share of the queue; send again shortly", message.clientOffset(), message.room());
            return false;
        }
        QueuedMessage queued = new QueuedMessage(message, sender);
        if (!queue.offer(queued)) {
            shares.release(address);
            sender.refuse(ErrorCode.OVERLOADED, "Too many messages waiting to be stored; send again shortly",
                    message.clientOffset(), message.room());
            return false;
        }
        if (!thread.isAlive() && queue.remove(queued)) {
            shares.release(address);
            reject(List.of(queued), SHUTTING_DOWN);
            return false;
        }
        return true;
    }

    private void run() {
        List<QueuedMessage> batch = new ArrayList<>(batchMax);
        List<SentMessage> messages = new ArrayList<>(batchMax);
        while (running || !queue.isEmpty()) {
            try {
                retention.runIfDue();
                QueuedMessage first = queue.poll(100, TimeUnit.MILLISECONDS);
                if (first == null) {
                    continue;
                }
                batch.add(first);
                queue.drainTo(batch, batchMax - 1);
                for (QueuedMessage queued : batch) {
                    messages.add(queued.message());
                }
                commit(batch, messages);
            } catch (InterruptedException e) {
                running = false;
            } catch (RuntimeException e) {
                LOG.log(Level.SEVERE, "The writer failed on a batch of " + batch.size() + " message(s)", e);
                reject(batch, "The server failed to store the message: " + e);
            } finally {
                for (QueuedMessage queued : batch) {
                    shares.release(queued.sender().clientAddress());
                }
                batch.clear();
                messages.clear();
            }
        }
    }

    private void commit(List<QueuedMessage> batch, List<SentMessage> messages) {
        List<Appended> results;
        long start = System.nanoTime();
        long committedAt = System.currentTimeMillis();
        try {
            results = store.append(messages, committedAt);
        } catch (StoreException e) {
            metrics.commitFailed();
            lastFailure = e.getMessage();
            LOG.log(Level.WARNING, e.getMessage(), e);
            reject(batch, "The message was not stored: " + e.getMessage() + "; send it again");
            return;
        }
        long elapsed = System.nanoTime() - start;
        lastFailure = null;
        List<EncodedMessage> committed = new ArrayList<>(batch.size());
        for (int i = 0; i < batch.size(); i++) {
            Appended appended = results.get(i);
            if (appended.inserted()) {
                SentMessage sent = messages.get(i);
                EncodedMessage message = EncodedMessage.of(appended.room(), appended.offset(), sent.text(),
                        sent.authorOrAnonymous(), committedAt);
                committed.add(message);
            }
        }
        metrics.committed(batch.size(), committed.size(), elapsed);
        List<Broadcaster.Ack> acks = new ArrayList<>(batch.size());
        for (int i = 0; i < batch.size(); i++) {
            String clientOffset = messages.get(i).clientOffset();
            if (clientOffset == null) {
                continue;
            }
            acks.add(new Broadcaster.Ack(batch.get(i).sender(), clientOffset, messages.get(i).room(), results.get(i)));
        }
        if (committed.isEmpty() && acks.isEmpty()) {
            return;
        }
        try {
            sequencer.publishCommitted(committed, acks);
        } catch (InterruptedException e) {
            // Stopping, and a lane had no room within the wait: the committed messages are replayed to whoever
            // reconnects, and the senders' resends are acknowledged from the store.
            LOG.warning("Stopped before " + committed.size() + " committed message(s) and " + acks.size()
                    + " ack(s) were handed out");
            Thread.currentThread().interrupt();
        }
    }

    private static void reject(List<QueuedMessage> batch, String why) {
        for (QueuedMessage queued : batch) {
            queued.sender().refuse(ErrorCode.STORE_UNAVAILABLE, why, queued.message().clientOffset(),
                    queued.message().room());
        }
    }

    /** Messages waiting for the next commit. */
    int queued() {
        return queue.size();
    }

    /** Why the last transaction failed, or null if the last one committed. */
    String lastFailure() {
        return lastFailure;
    }

    /** The store refused a probe before any message was written (at start): /health says so until it recovers. */
    void storeFailed(String why) {
        lastFailure = why;
        LOG.warning(why);
    }

    /** The store took writes again (a probe said so) before any message did. */
    void storeRecovered() {
        lastFailure = null;
    }

    /** Commits everything queued so far, then stops. */
    @Override
    public void close() {
        running = false;
        try {
            thread.join(SHUTDOWN_WAIT_MILLIS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (thread.isAlive()) {
            thread.interrupt();
            throw new IllegalStateException("The writer did not finish its queue within " + SHUTDOWN_WAIT_MILLIS + " ms");
        }
        List<QueuedMessage> late = new ArrayList<>();
        queue.drainTo(late);
        for (QueuedMessage queued : late) {
            shares.release(queued.sender().clientAddress());
        }
        reject(late, SHUTTING_DOWN);
    }

    /** A message waiting for the next commit, and who sent it. */
    private record QueuedMessage(SentMessage message, ClientConnection sender) {
    }
}
