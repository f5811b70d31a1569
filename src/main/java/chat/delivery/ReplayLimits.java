package chat.delivery;

import java.util.concurrent.ScheduledExecutorService;

/**
 * What bounds every replay: the size of a page, in messages and in characters of frames; how many live messages
 * may be held meanwhile; the server's replay memory; and how long a queued page may wait to be sent.
 */
record ReplayLimits(int pageSize, long pageChars, int maxHeld, ReplayMemory memory,
                    ScheduledExecutorService stallWatch, long stalledReplayNanos) {
}
