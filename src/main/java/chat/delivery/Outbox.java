package chat.delivery;

import chat.metrics.ChatMetrics;
import chat.protocol.FrameCodec;

import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The frames waiting to go to one client, sent one at a time in the order they were queued.
 *
 * <p>Any thread may queue; nobody blocks. Whoever finds no send outstanding starts the next one, and each
 * completion starts the one after it. A queue over its cap closes the connection (1008): the client lost
 * nothing, it reconnects with its last offset and is replayed from the store. A failed send stops the sending;
 * the transport closes itself.
 *
 * <p>For a client that takes frames as lines, one send carries every frame queued by then, a line each, up to
 * {@code maxRunChars}: a connection that fell behind, or is replayed, costs one write and one completion per run
 * instead of per frame, while a frame that finds the queue empty still goes out alone and at once.
 */
final class Outbox implements FrameSink.SendCallback {

    private static final Logger LOG = Logger.getLogger(Outbox.class.getName());

    private static final int IDLE = 0;
    private static final int IN_CALL = 1;
    private static final int COMPLETED_IN_CALL = 2;
    private static final int COMPLETES_LATER = 3;

    private final FrameSink sink;
    private final Executor closer;
    private final ChatMetrics metrics;
    private final int maxFrames;
    private final long maxChars;
    /** The longest run of frames one send carries as lines; 0: one frame per send. */
    private final int maxRunChars;
    private final Queue<String> frames = new ConcurrentLinkedQueue<>();
    private final AtomicInteger queuedFrames = new AtomicInteger();
    private final AtomicLong queuedChars = new AtomicLong();
    private final AtomicBoolean sending = new AtomicBoolean();
    private final AtomicInteger sendState = new AtomicInteger(IDLE);
    private final AtomicReference<Runnable> whenDrained = new AtomicReference<>();
    private volatile boolean closed;
    /** Frames handed to the transport so far; written only by the thread that owns {@code sending}. */
    private volatile long framesSent;
    /**
     * A frame taken from the queue that did not fit the last run: the next send's first. Only the thread that owns
     * {@code sending} reads or writes it, and it releases the flag only once this is null; the frame still counts
     * as queued.
     */
    private String carried;

    /**
     * @param closer runs the blocking close of an overflowing or failed connection
     */
    Outbox(FrameSink sink, Executor closer, ChatMetrics metrics, int maxFrames, long maxChars) {
        this(sink, closer, metrics, maxFrames, maxChars, 0);
    }

    /**
     * @param closer      runs the blocking close of an overflowing or failed connection
     * @param maxRunChars the most characters one send carries as lines of several frames; 0: a frame per send
     */
    Outbox(FrameSink sink, Executor closer, ChatMetrics metrics, int maxFrames, long maxChars, int maxRunChars) {
        this.sink = sink;
        this.closer = closer;
        this.metrics = metrics;
        this.maxFrames = maxFrames;
        this.maxChars = maxChars;
        this.maxRunChars = maxRunChars;
    }

    /** Queues and starts sending. @return false if the outbox is closed, or closed now because it is full */
    boolean offer(String frame) {
        boolean queued = enqueue(frame);
        flush();
        return queued;
    }

    /**
     * Queues without starting a send; call {@link #flush()} afterwards, outside any lock. A frame that takes the
     * queue over its cap closes the connection instead.
     *
     * @return false if the outbox is closed, or closed now because it is full
     */
    boolean enqueue(String frame) {
        if (closed) {
            return false;
        }
        int framesNow = queuedFrames.incrementAndGet();
        long charsNow = queuedChars.addAndGet(frame.length());
        if (framesNow > maxFrames || charsNow > maxChars) {
            metrics.slowConsumerClosed();
            closeConnection(Closing.TOO_SLOW);
            return false;
        }
        frames.add(frame);
        return true;
    }

    /** Like {@link #enqueue}, but never over the cap: for frames whose number the caller bounds itself. */
    void enqueueBeyondCap(String frame) {
        if (closed) {
            return;
        }
        queuedFrames.incrementAndGet();
        queuedChars.addAndGet(frame.length());
        frames.add(frame);
    }

    /** Starts sending queued frames unless a send is outstanding already. */
    void flush() {
        while (!frames.isEmpty() && sending.compareAndSet(false, true)) {
            if (pump()) {
                return;
            }
        }
    }

    /**
     * Runs {@code action} once, as soon as nothing is queued or being sent. Runs it on the calling thread if that
     * is so now, otherwise on the thread that completes the last send. One action at a time.
     */
    void whenDrained(Runnable action) {
        whenDrained.set(action);
        if (frames.isEmpty() && !sending.get()) {
            runWhenDrained();
        }
    }

    /** Stops sending and drops what is queued, without closing the connection (it is closing already). */
    void stop() {
        closed = true;
        frames.clear();
        whenDrained.set(null);
    }

    /** Closed, or nothing queued and no send outstanding. */
    boolean isIdle() {
        return closed || (frames.isEmpty() && !sending.get());
    }

    boolean isClosed() {
        return closed;
    }

    /** Frames handed to the transport since the outbox was made. */
    long framesSent() {
        return framesSent;
    }

    /** Frames queued and not yet handed to the transport. */
    int queuedFrames() {
        return queuedFrames.get();
    }

    /**
     * Sends while owning the {@code sending} flag.
     *
     * @return true if a send is outstanding and its completion carries on; false if the flag was released
     */
    private boolean pump() {
        while (true) {
            String frame = closed ? null : next();
            if (frame == null) {
                carried = null;
                sending.set(false);
                if (closed) {
                    frames.clear();
                } else {
                    runWhenDrained();
                }
                return false;
            }
            taken(frame);
            String message = maxRunChars == 0 ? frame : run(frame);
            sendState.set(IN_CALL);
            sink.send(message, this);
            if (sendState.compareAndSet(IN_CALL, COMPLETES_LATER)) {
                return true;
            }
            // It completed inside send(): carry on here rather than recursing from the callback.
        }
    }

    private String next() {
        String frame = carried;
        if (frame == null) {
            return frames.poll();
        }
        carried = null;
        return frame;
    }

    /** {@code first} and the frames queued after it, as lines, as many as fit {@link #maxRunChars}. */
    private String run(String first) {
        String frame = frames.poll();
        if (frame == null) {
            return first;
        }
        if (first.length() + 1 + frame.length() > maxRunChars) {
            carried = frame;
            return first;
        }
        StringBuilder run = new StringBuilder(Math.min(maxRunChars, 8 * (first.length() + 1))).append(first);
        do {
            taken(frame);
            run.append(FrameCodec.FRAME_SEPARATOR).append(frame);
            frame = frames.poll();
            if (frame != null && run.length() + 1 + frame.length() > maxRunChars) {
                carried = frame;
                break;
            }
        } while (frame != null);
        return run.toString();
    }

    /** A frame leaves the queue for the transport. */
    private void taken(String frame) {
        queuedFrames.decrementAndGet();
        queuedChars.addAndGet(-frame.length());
        framesSent++;
    }

    @Override
    public void sent(Throwable failure) {
        if (failure != null) {
            // The transport closes itself after a failed send (Tomcat closes the socket on its own thread). Closing
            // it from here as well races with Tomcat's processing of the same connection: Tomcat 11.0.24 then keeps
            // the closed connection's upgrade processor, and the webapp's class loader with it, for good.
            stop();
        }
        if (sendState.compareAndSet(IN_CALL, COMPLETED_IN_CALL)) {
            return;
        }
        sendState.set(IDLE);
        if (!pump()) {
            flush();
        }
    }

    private void runWhenDrained() {
        Runnable action = whenDrained.getAndSet(null);
        if (action != null) {
            action.run();
        }
    }

    /** Stops sending and closes the connection from another thread; the client is expected to reconnect. */
    void closeConnection(Closing why) {
        if (closed) {
            return;
        }
        stop();
        try {
            closer.execute(() -> sink.close(why.code(), why.reason()));
        } catch (RejectedExecutionException stopping) {
            // The chat is stopping and Tomcat closes every session itself (1001); this one is not sent to anymore.
            LOG.log(Level.FINE, "Not closing a connection (" + why + "): the chat is stopping", stopping);
        }
    }
}
