package chat.delivery;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/** Who receives live messages. Only the single writer publishes, so every subscriber sees offset order. */
public final class Broadcaster {

    private final Set<Subscription> subscriptions = ConcurrentHashMap.newKeySet();

    void add(Subscription subscription) {
        subscriptions.add(subscription);
    }

    void remove(Subscription subscription) {
        subscriptions.remove(subscription);
    }

    /** Called by the writer thread only, after the commit, in offset order. */
    void publish(CommittedFrame message) {
        for (Subscription subscription : subscriptions) {
            subscription.deliver(message);
        }
    }

    /** Frames waiting in all outbound queues together. */
    long queuedFrames() {
        long frames = 0;
        for (Subscription subscription : subscriptions) {
            frames += subscription.outbox().queuedFrames();
        }
        return frames;
    }

    /** Frames waiting in the fullest outbound queue. */
    long maxQueuedFrames() {
        long max = 0;
        for (Subscription subscription : subscriptions) {
            max = Math.max(max, subscription.outbox().queuedFrames());
        }
        return max;
    }

    /** Whether no subscriber has a frame queued or being sent. */
    boolean outboxesIdle() {
        for (Subscription subscription : subscriptions) {
            if (!subscription.outbox().isIdle()) {
                return false;
            }
        }
        return true;
    }

    public int size() {
        return subscriptions.size();
    }
}
