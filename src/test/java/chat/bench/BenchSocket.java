package chat.bench;

import java.util.Queue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * One client connection, as cheap as the benchmark can make it: frames are scanned, not parsed ({@link FrameScan}),
 * and every chat frame is checked on arrival to carry the offset after the previous one (offsets are dense row ids,
 * so anything else is a gap, a duplicate or a reordering). The WebSocket itself is a {@link Transport} that a
 * {@link WsClient} attaches and feeds with what arrives, one call at a time.
 */
final class BenchSocket {

    /** The WebSocket underneath: one outstanding send at a time. */
    interface Transport {
        CompletableFuture<?> sendText(String text);

        void abort();
    }

    /** Told about the acks and errors that come back for what this socket sent. */
    interface AckSink {
        void acked(String clientOffset, long offset);

        void refused(String clientOffset, String frame);
    }

    /** Told each chat frame's latency, with the frame, for figures that split latencies by who sent the message. */
    interface LatencySink {
        void latency(long nanos, CharSequence frame);
    }

    /** Told about every chat frame, for the checks that need its text. */
    interface ChatObserver {
        void chat(long offset, CharSequence frame);
    }

    private static final AtomicBoolean FIRST_FAILURE_PRINTED = new AtomicBoolean();

    final long fromOffset;
    private final CountDownLatch synced = new CountDownLatch(1);
    private final StringBuilder partial = new StringBuilder();
    private final Queue<String> outgoing = new ConcurrentLinkedQueue<>();
    private final AtomicBoolean sending = new AtomicBoolean();
    private volatile Transport transport;
    private volatile AckSink ackSink;
    private volatile ChatObserver observer;
    private volatile LatencySink latencies;
    private volatile long expectedLast = Long.MAX_VALUE;
    private volatile CountDownLatch expectedReached;
    private volatile long lastOffset;
    private volatile long chatFrames;
    private volatile long orderErrors;
    private volatile long errorFrames;
    private volatile long presenceFrames;
    private volatile String firstError;
    private volatile long syncedAtNanos;
    private volatile long chatFramesAtSync;
    private volatile boolean reset;
    private volatile long reachedAtNanos;
    private volatile int closeCode = -1;
    private volatile Throwable failure;

    BenchSocket(long fromOffset) {
        this.fromOffset = fromOffset;
        this.lastOffset = fromOffset;
    }

    void attach(Transport opened) {
        this.transport = opened;
    }

    void ackSink(AckSink sink) {
        this.ackSink = sink;
    }

    void observer(ChatObserver chatObserver) {
        this.observer = chatObserver;
    }

    /** Records each chat frame's latency from the send time its text starts with. */
    void latencies(Samples samples) {
        this.latencies = (nanos, frame) -> samples.add(nanos);
    }

    /** The same, told to {@code sink} with the frame. */
    void latencies(LatencySink sink) {
        this.latencies = sink;
    }

    /** Counts {@code reached} down, once, when the chat frame with offset {@code last} arrives. */
    void expect(long last, CountDownLatch reached) {
        this.expectedReached = reached;
        this.expectedLast = last;
        if (lastOffset >= last) {
            reachedAtNanos = System.nanoTime();
            reached.countDown();
        }
    }

    /** A text message or a part of one; {@code last} ends the message. */
    void text(CharSequence data, boolean last) {
        if (!last) {
            partial.append(data);
        } else if (partial.length() > 0) {
            partial.append(data);
            frames(partial);
            partial.setLength(0);
        } else {
            frames(data);
        }
    }

    /** The frames of one message: one, or several as lines ({@code frames=lines}); no frame holds a line break. */
    private void frames(CharSequence message) {
        int start = 0;
        for (int i = 0; i < message.length(); i++) {
            if (message.charAt(i) == '\n') {
                frame(message.subSequence(start, i));
                start = i + 1;
            }
        }
        frame(start == 0 ? message : message.subSequence(start, message.length()));
    }

    private void frame(CharSequence frame) {
        switch (FrameScan.type(frame)) {
            case CHAT -> chat(frame);
            case ACK -> {
                AckSink sink = ackSink;
                if (sink != null) {
                    sink.acked(FrameScan.clientOffset(frame), FrameScan.offset(frame));
                }
            }
            case SYNCED -> {
                chatFramesAtSync = chatFrames;
                reset = frame.toString().contains("\"reset\":true");
                syncedAtNanos = System.nanoTime();
                synced.countDown();
            }
            case ERROR -> {
                errorFrames++;
                String text = frame.toString();
                if (firstError == null) {
                    firstError = text;
                }
                AckSink sink = ackSink;
                if (sink != null) {
                    sink.refused(FrameScan.clientOffset(frame), text);
                }
            }
            case PRESENCE -> presenceFrames++; // who is in the room and who types: counted, not checked
            case OTHER -> {
                errorFrames++;
                if (firstError == null) {
                    firstError = "unexpected frame " + frame;
                }
            }
        }
    }

    private void chat(CharSequence frame) {
        long now = System.nanoTime();
        long offset = FrameScan.offset(frame);
        if (offset != lastOffset + 1) {
            orderErrors++;
        }
        if (offset > lastOffset) {
            lastOffset = offset;
        }
        chatFrames++;
        LatencySink sink = latencies;
        if (sink != null) {
            long sentAt = FrameScan.leadingNumberOfText(frame);
            if (sentAt > 0) {
                sink.latency(now - sentAt, frame);
            }
        }
        ChatObserver chatObserver = observer;
        if (chatObserver != null) {
            chatObserver.chat(offset, frame);
        }
        if (offset == expectedLast) {
            reachedAtNanos = now;
            expectedReached.countDown();
        }
    }

    void closed(int statusCode, String reason) {
        closeCode = statusCode;
        if (firstError == null && statusCode != 1000) {
            firstError = "closed by the server with " + statusCode + " " + reason;
        }
    }

    void failed(Throwable error) {
        if (FIRST_FAILURE_PRINTED.compareAndSet(false, true)) {
            Bench.log("a client connection failed (further failures are only counted):");
            error.printStackTrace(System.out);
        }
        failure = error;
    }

    /** Sends after whatever is queued; the JDK allows one outstanding send per socket. */
    void send(String text) {
        outgoing.add(text);
        drain();
    }

    private void drain() {
        while (sending.compareAndSet(false, true)) {
            String next = outgoing.poll();
            if (next == null) {
                sending.set(false);
                if (outgoing.isEmpty()) {
                    return;
                }
                continue;
            }
            CompletableFuture<?> sent = transport.sendText(next);
            if (!sent.isDone()) {
                sent.whenComplete((ignored, error) -> {
                    if (error != null) {
                        failure = error;
                    }
                    sending.set(false);
                    drain();
                });
                return;
            }
            if (sent.isCompletedExceptionally()) {
                sent.whenComplete((ignored, error) -> failure = error);
            }
            sending.set(false);
        }
    }

    boolean awaitSynced(long timeoutNanos) throws InterruptedException {
        return synced.await(timeoutNanos, java.util.concurrent.TimeUnit.NANOSECONDS);
    }

    boolean isSynced() {
        return synced.getCount() == 0;
    }

    /** Drops the TCP connection at once, without a closing handshake. */
    void abort() {
        Transport opened = transport;
        if (opened != null) {
            opened.abort();
        }
    }

    long lastOffset() { return lastOffset; }
    long chatFrames() { return chatFrames; }
    long orderErrors() { return orderErrors; }
    long errorFrames() { return errorFrames; }
    long presenceFrames() { return presenceFrames; }
    String firstError() { return failure != null ? failure.toString() : firstError; }
    long syncedAtNanos() { return syncedAtNanos; }
    long chatFramesAtSync() { return chatFramesAtSync; }
    boolean wasReset() { return reset; }
    long reachedAtNanos() { return reachedAtNanos; }
    int closeCode() { return closeCode; }
}
