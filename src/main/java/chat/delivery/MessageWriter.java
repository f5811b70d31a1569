package chat.delivery;

import chat.metrics.ChatMetrics;
import chat.protocol.ErrorCode;
import chat.protocol.FrameCodec;
import chat.store.Appended;
import chat.store.Draft;
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
 * broadcaster's lanes, and goes on with the next batch. Nothing is published or acknowledged before its transaction
 * committed; a failed transaction answers every sender in it with {@code store-unavailable}.
 */
public final class MessageWriter implements AutoCloseable {

    private static final Logger LOG = Logger.getLogger(MessageWriter.class.getName());
    private static final long SHUTDOWN_WAIT_MILLIS = 10_000;

    private final MessageStore store;
    private final RecoveryWindow window;
    private final Broadcaster broadcaster;
    private final ChatMetrics metrics;
    private final BlockingQueue<Submission> queue;
    private final WriteQueueShares shares;
    private final RetentionSweeper retention;
    private final int batchMax;
    private final Thread thread;
    private volatile boolean running = true;
    /** Why the last transaction failed, or null once one committed since. */
    private volatile String lastFailure;

    MessageWriter(MessageStore store, RecoveryWindow window, Broadcaster broadcaster, ChatMetrics metrics,
                  int queueCapacity, int maxQueuedPerAddress, int batchMax, RetentionSweeper retention) {
        this.store = store;
        this.window = window;
        this.broadcaster = broadcaster;
        this.metrics = metrics;
        this.queue = new ArrayBlockingQueue<>(queueCapacity);
        this.shares = new WriteQueueShares(maxQueuedPerAddress);
        this.retention = retention;
        this.batchMax = batchMax;
        this.thread = new Thread(this::run, "chat-writer");
        this.thread.setDaemon(true);
        this.thread.start();
    }

    /**
     * Queues a message for the next commit. On refusal the sender has been told why already.
     *
     * @return false if the writer is stopping or its queue is full
     */
    public boolean submit(Draft draft, Subscription sender) {
        if (!running) {
            sender.outbox().offer(FrameCodec.error(ErrorCode.STORE_UNAVAILABLE,
                    "The server is shutting down; send again after reconnecting", draft.clientOffset()));
            return false;
        }
        String address = sender.clientAddress();
        if (!shares.tryTake(address)) {
            sender.outbox().offer(FrameCodec.error(ErrorCode.OVERLOADED, shares.maxPerAddress() + " messages of your"
                    + " address are waiting to be stored, its share of the queue; send again shortly",
                    draft.clientOffset()));
            return false;
        }
        Submission submission = new Submission(draft, sender);
        if (!queue.offer(submission)) {
            shares.release(address);
            sender.outbox().offer(FrameCodec.error(ErrorCode.OVERLOADED,
                    "Too many messages waiting to be stored; send again shortly", draft.clientOffset()));
            return false;
        }
        if (!thread.isAlive() && queue.remove(submission)) {
            shares.release(address);
            reject(List.of(submission), "The server is shutting down; send again after reconnecting");
            return false;
        }
        return true;
    }

    private void run() {
        List<Submission> batch = new ArrayList<>(batchMax);
        List<Draft> drafts = new ArrayList<>(batchMax);
        while (running || !queue.isEmpty()) {
            try {
                retention.runIfDue();
                Submission first = queue.poll(100, TimeUnit.MILLISECONDS);
                if (first == null) {
                    continue;
                }
                batch.add(first);
                queue.drainTo(batch, batchMax - 1);
                for (Submission submission : batch) {
                    drafts.add(submission.draft());
                }
                commit(batch, drafts);
            } catch (InterruptedException e) {
                running = false;
            } catch (RuntimeException e) {
                LOG.log(Level.SEVERE, "The writer failed on a batch of " + batch.size() + " message(s)", e);
                reject(batch, "The server failed to store the message: " + e);
            } finally {
                for (Submission submission : batch) {
                    shares.release(submission.sender().clientAddress());
                }
                batch.clear();
                drafts.clear();
            }
        }
    }

    private void commit(List<Submission> batch, List<Draft> drafts) {
        List<Appended> results;
        long start = System.nanoTime();
        try {
            results = store.append(drafts);
        } catch (StoreException e) {
            metrics.commitFailed();
            lastFailure = e.getMessage();
            LOG.log(Level.WARNING, e.getMessage(), e);
            reject(batch, "The message was not stored: " + e.getMessage() + "; send it again");
            return;
        }
        long elapsed = System.nanoTime() - start;
        lastFailure = null;
        List<CommittedFrame> committed = new ArrayList<>(batch.size());
        for (int i = 0; i < batch.size(); i++) {
            Appended appended = results.get(i);
            if (appended.inserted()) {
                CommittedFrame message = new CommittedFrame(appended.offset(),
                        FrameCodec.chatMessage(appended.offset(), drafts.get(i).text()));
                window.add(message);
                committed.add(message);
            }
        }
        metrics.committed(batch.size(), committed.size(), elapsed);
        List<Broadcaster.Ack> acks = new ArrayList<>(batch.size());
        for (int i = 0; i < batch.size(); i++) {
            String clientOffset = drafts.get(i).clientOffset();
            if (clientOffset == null) {
                continue;
            }
            String answer = results.get(i).outcome() == Appended.Outcome.CONFLICT
                    ? FrameCodec.error(ErrorCode.CLIENT_OFFSET_CONFLICT, "Another message is stored with this"
                            + " clientOffset; not stored: send it with a clientOffset of its own", clientOffset)
                    : FrameCodec.ack(clientOffset, results.get(i).offset());
            acks.add(new Broadcaster.Ack(batch.get(i).sender(), answer));
        }
        if (committed.isEmpty() && acks.isEmpty()) {
            return;
        }
        try {
            broadcaster.publish(committed, acks);
        } catch (InterruptedException e) {
            // Stopping, and a lane had no room within the wait: the committed messages are replayed to whoever
            // reconnects, and the senders' resends are acknowledged from the store.
            LOG.warning("Stopped before " + committed.size() + " committed message(s) and " + acks.size()
                    + " ack(s) were handed out");
            Thread.currentThread().interrupt();
        }
    }

    private static void reject(List<Submission> batch, String message) {
        for (Submission submission : batch) {
            submission.sender().outbox().offer(FrameCodec.error(ErrorCode.STORE_UNAVAILABLE, message,
                    submission.draft().clientOffset()));
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
        List<Submission> late = new ArrayList<>();
        queue.drainTo(late);
        for (Submission submission : late) {
            shares.release(submission.sender().clientAddress());
        }
        reject(late, "The server is shutting down; send again after reconnecting");
    }

    private record Submission(Draft draft, Subscription sender) {
    }
}
