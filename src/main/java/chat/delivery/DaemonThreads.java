package chat.delivery;

import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The chat's threads: daemons, so that none of them keeps a JVM alive, and named, so that a thread dump says
 * whose they are. A name that ends in {@code -} is numbered: {@code chat-worker-1}, {@code chat-worker-2}, ...
 */
public final class DaemonThreads {

    private DaemonThreads() {
    }

    public static ThreadFactory named(String name) {
        AtomicInteger count = new AtomicInteger();
        return runnable -> {
            Thread thread = new Thread(runnable, name.endsWith("-") ? name + count.incrementAndGet() : name);
            thread.setDaemon(true);
            return thread;
        };
    }
}
