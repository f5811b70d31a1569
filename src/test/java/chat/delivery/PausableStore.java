package chat.delivery;

import chat.store.Appended;
import chat.store.Draft;
import chat.store.MessageStore;
import chat.store.StoreException;
import chat.store.StoredMessage;

import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The real store, with a way to stop a replay right after it read a page: the window in which a message can be
 * committed that the page does not hold.
 */
final class PausableStore implements MessageStore {

    private final MessageStore store;
    private volatile CountDownLatch paused = new CountDownLatch(0);
    private volatile CountDownLatch release = new CountDownLatch(0);
    private final AtomicInteger reads = new AtomicInteger();
    private volatile CountDownLatch appendPaused = new CountDownLatch(0);
    private volatile CountDownLatch appendRelease = new CountDownLatch(0);

    PausableStore(MessageStore store) {
        this.store = store;
    }

    /** The next page read will wait after reading until {@link #release()}. */
    void pauseAfterNextRead() {
        paused = new CountDownLatch(1);
        release = new CountDownLatch(1);
    }

    void awaitPaused() throws InterruptedException {
        if (!paused.await(20, TimeUnit.SECONDS)) {
            throw new AssertionError("no replay read the store");
        }
    }

    /** Reads of messages or of the latest offset so far. */
    int reads() {
        return reads.get();
    }

    void release() {
        release.countDown();
    }

    @Override
    public List<StoredMessage> readAfter(long offset, int limit, long maxChars) throws StoreException {
        reads.incrementAndGet();
        List<StoredMessage> page = store.readAfter(offset, limit, maxChars);
        CountDownLatch waitFor = release;
        if (paused.getCount() > 0) {
            paused.countDown();
            try {
                if (!waitFor.await(20, TimeUnit.SECONDS)) {
                    throw new AssertionError("the test never released the replay");
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        return page;
    }

    /** The next append waits, before it writes, until {@link #releaseAppends()}. */
    void pauseNextAppend() {
        appendPaused = new CountDownLatch(1);
        appendRelease = new CountDownLatch(1);
    }

    void awaitAppendPaused() throws InterruptedException {
        if (!appendPaused.await(20, TimeUnit.SECONDS)) {
            throw new AssertionError("the writer did not append");
        }
    }

    void releaseAppends() {
        appendRelease.countDown();
    }

    @Override
    public List<Appended> append(List<Draft> drafts) throws StoreException {
        CountDownLatch waitFor = appendRelease;
        if (appendPaused.getCount() > 0) {
            appendPaused.countDown();
            try {
                if (!waitFor.await(20, TimeUnit.SECONDS)) {
                    throw new AssertionError("the test never released the append");
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        return store.append(drafts);
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
    public long latestOffset() throws StoreException {
        reads.incrementAndGet();
        return store.latestOffset();
    }

    @Override
    public long oldestOffset() throws StoreException {
        return store.oldestOffset();
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
