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
    void publish(long offset, String frame) {
        for (Subscription subscription : subscriptions) {
            subscription.deliver(offset, frame);
        }
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
