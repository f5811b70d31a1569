package chat.delivery;

import chat.store.Appended;
import chat.protocol.SentMessage;
import chat.store.MessageStore;
import chat.store.RoomHead;
import chat.store.StoreException;
import chat.store.StoredMessage;

import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The real store, with a way to stop a replay right after it read a page (the window in which a message can be
 * committed that the page does not hold), and the writer right before it appends (so that messages queue up).
 */
final class PausableStore implements MessageStore {

    private final MessageStore store;
    private final Gate afterRead = new Gate("replay");
    private final Gate beforeAppend = new Gate("append");
    private final AtomicInteger reads = new AtomicInteger();

    PausableStore(MessageStore store) {
        this.store = store;
    }

    /** The next page read will wait after reading until {@link #release()}. */
    void pauseAfterNextRead() {
        afterRead.closeForNext();
    }

    void awaitPaused() throws InterruptedException {
        afterRead.awaitWaiting();
    }

    /** Reads of messages or of the latest offset so far. */
    int reads() {
        return reads.get();
    }

    void release() {
        afterRead.open();
    }

    /** The next append waits, before it writes, until {@link #releaseAppends()}. */
    void pauseNextAppend() {
        beforeAppend.closeForNext();
    }

    void awaitAppendPaused() throws InterruptedException {
        beforeAppend.awaitWaiting();
    }

    void releaseAppends() {
        beforeAppend.open();
    }

    @Override
    public List<StoredMessage> readAfter(String room, long offset, int limit, long maxChars) throws StoreException {
        reads.incrementAndGet();
        List<StoredMessage> page = store.readAfter(room, offset, limit, maxChars);
        afterRead.pass();
        return page;
    }

    @Override
    public List<Appended> append(List<SentMessage> messages, long committedAtMillis) throws StoreException {
        beforeAppend.pass();
        return store.append(messages, committedAtMillis);
    }

    /** Lets every caller through, but the first one after {@link #closeForNext()}, which waits for {@link #open()}. */
    private static final class Gate {
        private final String what;
        private volatile CountDownLatch waiting = new CountDownLatch(0);
        private volatile CountDownLatch opened = new CountDownLatch(0);

        Gate(String what) {
            this.what = what;
        }

        void closeForNext() {
            waiting = new CountDownLatch(1);
            opened = new CountDownLatch(1);
        }

        void awaitWaiting() throws InterruptedException {
            if (!waiting.await(20, TimeUnit.SECONDS)) {
                throw new AssertionError("no " + what + " reached the store");
            }
        }

        void open() {
            opened.countDown();
        }

        void pass() {
            CountDownLatch waitFor = opened;
            if (waiting.getCount() > 0) {
                waiting.countDown();
                try {
                    if (!waitFor.await(20, TimeUnit.SECONDS)) {
                        throw new AssertionError("the test never let the " + what + " go on");
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        }
    }

    @Override
    public String epoch() {
        return store.epoch();
    }

    @Override
    public void checkWritable() throws StoreException {
        store.checkWritable();
    }

    @Override
    public long latestOffset(String room) throws StoreException {
        reads.incrementAndGet();
        return store.latestOffset(room);
    }

    @Override
    public long oldestOffset(String room) throws StoreException {
        return store.oldestOffset(room);
    }

    @Override
    public List<StoredMessage> readBefore(String room, long before, int limit) throws StoreException {
        return store.readBefore(room, before, limit);
    }

    @Override
    public List<RoomHead> rooms() throws StoreException {
        return store.rooms();
    }

    @Override
    public int deleteOldest(long storedBeforeMillis, long maxBytes, int maxRows) throws StoreException {
        return store.deleteOldest(storedBeforeMillis, maxBytes, maxRows);
    }

    @Override
    public long storedBytes() throws StoreException {
        return store.storedBytes();
    }

    @Override
    public void close() {
        store.close();
    }
}
