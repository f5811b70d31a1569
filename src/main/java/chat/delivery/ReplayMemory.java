package chat.delivery;

import java.util.ArrayDeque;
import java.util.Queue;

/**
 * The heap that replays may hold, for the whole server: pages read from the store and not yet sent. A replay
 * reserves room before it reads a page and gives it back once the page has been sent (or its connection closed);
 * when there is no room, it waits, in the order it asked, rather than letting a crowd of clients that do not read
 * fill the heap. Pages from the recovery window need no room: their frames are the window's.
 *
 * <p>One page is always let through, whatever its size, so that a page larger than the whole budget still
 * replays, alone.
 */
final class ReplayMemory {

    private final long maxBytes;
    private final Queue<Waiting> waiting = new ArrayDeque<>();
    /** Guarded by this. */
    private long reserved;

    ReplayMemory(long maxBytes) {
        this.maxBytes = maxBytes;
    }

    /** Bytes a page of {@code chars} characters of frames holds, counting two bytes a character. */
    static long bytesOf(long chars) {
        return 2 * chars;
    }

    /**
     * Reserves {@code bytes} and runs {@code read}: here and now if they fit and nobody waits before, else on the
     * thread of the {@link #release} that makes room.
     */
    void reserve(long bytes, Runnable read) {
        synchronized (this) {
            if (!waiting.isEmpty() || !fits(bytes)) {
                waiting.add(new Waiting(bytes, read));
                return;
            }
            reserved += bytes;
        }
        read.run();
    }

    /** The page read holds {@code actual} bytes, not the {@code reservedBytes} reserved for it. */
    void resize(long reservedBytes, long actual) {
        if (actual > reservedBytes) {
            synchronized (this) {
                reserved += actual - reservedBytes;
            }
        } else {
            release(reservedBytes - actual);
        }
    }

    /** Gives back {@code bytes} and starts the waiting replays that fit now, in order. */
    void release(long bytes) {
        if (bytes == 0) {
            return;
        }
        while (true) {
            Waiting next;
            synchronized (this) {
                reserved -= bytes;
                bytes = 0;
                next = waiting.peek();
                if (next == null || !fits(next.bytes)) {
                    return;
                }
                waiting.remove();
                reserved += next.bytes;
            }
            next.read.run();
        }
    }

    /** Bytes reserved now. */
    synchronized long reserved() {
        return reserved;
    }

    /** Replays waiting for room now. */
    synchronized int waiting() {
        return waiting.size();
    }

    /** Caller holds the lock. */
    private boolean fits(long bytes) {
        return reserved == 0 || reserved + bytes <= maxBytes;
    }

    private record Waiting(long bytes, Runnable read) {
    }
}
