package chat.bench;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.time.Duration;
import java.util.Queue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * One client connection over the JDK's WebSocket, as cheap as the benchmark can make it: frames are scanned, not
 * parsed ({@link FrameScan}), and every chat frame is checked on arrival to carry the offset after the previous
 * one (offsets are dense row ids, so anything else is a gap, a duplicate or a reordering).
 */
final class BenchSocket implements WebSocket.Listener {

    /** Told about the acks and errors that come back for what this socket sent. */
    interface AckSink {
        void acked(String clientOffset, long offset);

        void refused(String clientOffset, String frame);
    }

    /** Told about every chat frame, for the checks that need its text. */
    interface ChatObserver {
        void chat(long offset, CharSequence frame);
    }

    private static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(30);

    final long fromOffset;
    private final CountDownLatch synced = new CountDownLatch(1);
    private final StringBuilder partial = new StringBuilder();
    private final Queue<String> outgoing = new ConcurrentLinkedQueue<>();
    private final AtomicBoolean sending = new AtomicBoolean();
    private WebSocket webSocket;
    private volatile AckSink ackSink;
    private volatile ChatObserver observer;
    private volatile Samples latencies;
    private volatile long expectedLast = Long.MAX_VALUE;
    private volatile CountDownLatch expectedReached;
    private volatile long lastOffset;
    private volatile long chatFrames;
    private volatile long orderErrors;
    private volatile long errorFrames;
    private volatile String firstError;
    private volatile long syncedAtNanos;
    private volatile long chatFramesAtSync;
    private volatile boolean reset;
    private volatile long reachedAtNanos;
    private volatile int closeCode = -1;
    private volatile Throwable failure;

    private BenchSocket(long fromOffset) {
        this.fromOffset = fromOffset;
        this.lastOffset = fromOffset;
    }

    /** Opens {@code chat?serverOffset=fromOffset} of {@code chatUri}. */
    static CompletableFuture<BenchSocket> connect(HttpClient http, URI chatUri, long fromOffset) {
        BenchSocket socket = new BenchSocket(fromOffset);
        URI uri = URI.create(chatUri + "?serverOffset=" + fromOffset);
        return http.newWebSocketBuilder().connectTimeout(CONNECT_TIMEOUT).buildAsync(uri, socket)
                .thenApply(ws -> socket);
    }

    void ackSink(AckSink sink) {
        this.ackSink = sink;
    }

    void observer(ChatObserver chatObserver) {
        this.observer = chatObserver;
    }

    /** Records each chat frame's latency from the send time its text starts with. */
    void latencies(Samples samples) {
        this.latencies = samples;
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

    @Override
    public void onOpen(WebSocket ws) {
        this.webSocket = ws;
        ws.request(Long.MAX_VALUE);
    }

    @Override
    public CompletionStage<?> onText(WebSocket ws, CharSequence data, boolean last) {
        if (!last) {
            partial.append(data);
        } else if (partial.length() > 0) {
            partial.append(data);
            frame(partial);
            partial.setLength(0);
        } else {
            frame(data);
        }
        return null;
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
        Samples samples = latencies;
        if (samples != null) {
            long sentAt = FrameScan.leadingNumberOfText(frame);
            if (sentAt > 0) {
                samples.add(now - sentAt);
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

    @Override
    public CompletionStage<?> onClose(WebSocket ws, int statusCode, String reason) {
        closeCode = statusCode;
        if (firstError == null && statusCode != WebSocket.NORMAL_CLOSURE) {
            firstError = "closed by the server with " + statusCode + " " + reason;
        }
        return null;
    }

    @Override
    public void onError(WebSocket ws, Throwable error) {
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
            CompletableFuture<WebSocket> sent = webSocket.sendText(next, true);
            if (!sent.isDone()) {
                sent.whenComplete((ws, error) -> {
                    if (error != null) {
                        failure = error;
                    }
                    sending.set(false);
                    drain();
                });
                return;
            }
            if (sent.isCompletedExceptionally()) {
                sent.whenComplete((ws, error) -> failure = error);
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
        if (webSocket != null) {
            webSocket.abort();
        }
    }

    long lastOffset() { return lastOffset; }
    long chatFrames() { return chatFrames; }
    long orderErrors() { return orderErrors; }
    long errorFrames() { return errorFrames; }
    String firstError() { return failure != null ? failure.toString() : firstError; }
    long syncedAtNanos() { return syncedAtNanos; }
    long chatFramesAtSync() { return chatFramesAtSync; }
    boolean wasReset() { return reset; }
    long reachedAtNanos() { return reachedAtNanos; }
    int closeCode() { return closeCode; }
}
