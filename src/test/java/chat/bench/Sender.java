package chat.bench;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Sends {@code count} chat messages with clientOffsets over one socket and keeps their acks. The frames are built
 * ahead of time but for the send time, which starts each text so that receivers can take the latency from it.
 * Either windowed ({@link #sendAll}: at most {@code window} unacknowledged) or paced by a caller ({@link #sendOne}).
 */
final class Sender implements BenchSocket.AckSink {

    private static final String FRAME_START = "{\"type\":\"chat message\",\"text\":\"";

    final int id;
    final BenchSocket socket;
    private final String clientOffsetPrefix;
    private final String[] frameEnds;
    private final long[] ackedOffsets;
    private final AtomicInteger answered = new AtomicInteger();
    private final AtomicInteger duplicateAcks = new AtomicInteger();
    private final AtomicInteger refused = new AtomicInteger();
    private final CountDownLatch allAnswered = new CountDownLatch(1);
    private volatile Semaphore window;
    private volatile String firstRefusal;
    private volatile long lastAnswerNanos;

    Sender(int id, BenchSocket socket, String runTag, int count) {
        this.id = id;
        this.socket = socket;
        this.clientOffsetPrefix = runTag + "-" + id + "-";
        this.frameEnds = new String[count];
        this.ackedOffsets = new long[count];
        for (int seq = 0; seq < count; seq++) {
            frameEnds[seq] = " bench message " + seq + " from sender " + id + "\",\"clientOffset\":\""
                    + clientOffsetPrefix + seq + "\"}";
        }
        socket.ackSink(this);
    }

    int count() {
        return frameEnds.length;
    }

    /** Sends every message, never more than {@code windowSize} unacknowledged. */
    void sendAll(int windowSize, long deadlineNanos) throws InterruptedException, TimeoutException {
        Semaphore permits = new Semaphore(windowSize);
        window = permits;
        for (int seq = 0; seq < frameEnds.length; seq++) {
            long left = deadlineNanos - System.nanoTime();
            if (!permits.tryAcquire(Math.max(0, left), TimeUnit.NANOSECONDS)) {
                throw new TimeoutException("sender " + id + " waited in vain for an ack to send message " + seq
                        + " (" + answered.get() + " answered)");
            }
            sendOne(seq, System.nanoTime());
        }
    }

    /** Sends message {@code seq} with {@code sentAtNanos} as its send time. */
    void sendOne(int seq, long sentAtNanos) {
        socket.send(FRAME_START + sentAtNanos + frameEnds[seq]);
    }

    boolean awaitAnswered(long deadlineNanos) throws InterruptedException {
        return allAnswered.await(Math.max(0, deadlineNanos - System.nanoTime()), TimeUnit.NANOSECONDS);
    }

    @Override
    public void acked(String clientOffset, long offset) {
        int seq = sequenceOf(clientOffset);
        if (seq < 0) {
            return;
        }
        if (ackedOffsets[seq] != 0) {
            duplicateAcks.incrementAndGet();
            return;
        }
        ackedOffsets[seq] = offset;
        answeredOne();
    }

    @Override
    public void refused(String clientOffset, String frame) {
        refused.incrementAndGet();
        if (firstRefusal == null) {
            firstRefusal = frame;
        }
        if (sequenceOf(clientOffset) >= 0) {
            answeredOne();
        }
    }

    private void answeredOne() {
        lastAnswerNanos = System.nanoTime();
        Semaphore permits = window;
        if (permits != null) {
            permits.release();
        }
        if (answered.incrementAndGet() == frameEnds.length) {
            allAnswered.countDown();
        }
    }

    private int sequenceOf(String clientOffset) {
        if (clientOffset == null || !clientOffset.startsWith(clientOffsetPrefix)) {
            return -1;
        }
        int seq = Integer.parseInt(clientOffset, clientOffsetPrefix.length(), clientOffset.length(), 10);
        return seq < frameEnds.length ? seq : -1;
    }

    /** The offset message {@code seq} was acknowledged under, 0 if none. */
    long ackedOffset(int seq) {
        return ackedOffsets[seq];
    }

    int duplicateAcks() { return duplicateAcks.get(); }
    int refusedCount() { return refused.get(); }
    String firstRefusal() { return firstRefusal; }
    long lastAnswerNanos() { return lastAnswerNanos; }
}
