package chat.delivery;

import chat.store.CommitFeed;
import chat.store.MessageStore;
import chat.store.StoreException;

import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * On a store other nodes write to, the thread that publishes their commits here: it waits for their news on the
 * {@link CommitFeed}, and every {@code pollMillis} (and whenever the feed may have missed news, after it began
 * listening again) it looks at every room's newest offset in the store, so that a lost notification delays a
 * message by one poll at most. What it finds goes through the {@link Sequencer}, which reads the messages. The
 * other nodes' presence signals go to {@link NodePresence}.
 */
final class CommitFollower implements AutoCloseable {

    private static final Logger LOG = Logger.getLogger(CommitFollower.class.getName());
    private static final long STOP_WAIT_MILLIS = 10_000;

    private final CommitFeed feed;
    private final MessageStore store;
    private final Sequencer sequencer;
    private final NodePresence presence;
    private final long pollNanos;
    private final Thread thread;
    private volatile boolean running = true;
    /** Why following failed last, or null while it works; logged once per outage. */
    private volatile String failure;

    CommitFollower(CommitFeed feed, MessageStore store, Sequencer sequencer, NodePresence presence,
                   long pollMillis) {
        this.feed = feed;
        this.store = store;
        this.sequencer = sequencer;
        this.presence = presence;
        this.pollNanos = TimeUnit.MILLISECONDS.toNanos(pollMillis);
        this.thread = DaemonThreads.named("chat-follower").newThread(this::run);
        this.thread.start();
    }

    private void run() {
        long nextPoll = System.nanoTime();
        while (running) {
            try {
                long untilPoll = nextPoll - System.nanoTime();
                CommitFeed.News news = feed.await(Math.max(1, TimeUnit.NANOSECONDS.toMillis(untilPoll)));
                if (news.mayHaveMissed()) {
                    presence.listening();
                }
                presence.received(news.signals());
                if (!news.rooms().isEmpty()) {
                    sequencer.catchUp(news.rooms());
                }
                if (news.mayHaveMissed() || System.nanoTime() - nextPoll >= 0) {
                    sequencer.catchUp(store.rooms());
                    nextPoll = System.nanoTime() + pollNanos;
                }
                recovered();
            } catch (StoreException e) {
                failed(e);
                nextPoll = System.nanoTime();
                pause();
            } catch (InterruptedException e) {
                return;
            } catch (RuntimeException e) {
                LOG.log(Level.SEVERE, "Following the other nodes' commits failed; trying again", e);
                pause();
            }
        }
    }

    private void failed(StoreException e) {
        if (failure == null) {
            LOG.log(Level.WARNING, "Cannot follow the other nodes' commits now; trying again every "
                    + TimeUnit.NANOSECONDS.toMillis(pollNanos) + " ms: " + e.getMessage(), e);
        }
        failure = e.getMessage();
    }

    private void recovered() {
        if (failure != null) {
            LOG.info("Following the other nodes' commits again");
            failure = null;
        }
    }

    private void pause() {
        try {
            Thread.sleep(TimeUnit.NANOSECONDS.toMillis(pollNanos));
        } catch (InterruptedException e) {
            running = false;
        }
    }

    /** Whether the feed is working now; false during an outage of the store. */
    boolean following() {
        return failure == null;
    }

    @Override
    public void close() {
        running = false;
        thread.interrupt();
        try {
            thread.join(STOP_WAIT_MILLIS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            feed.close();
        }
    }
}
