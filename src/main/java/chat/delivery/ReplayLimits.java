package chat.delivery;

import chat.protocol.FrameCodec;

import java.util.concurrent.ScheduledExecutorService;

/**
 * What bounds every replay: the size of a page, in messages and in characters of frames; how many live messages
 * may be held meanwhile; the server's replay memory, and the room a page read from the store reserves in it;
 * whether old messages are deleted (then a replay says when it starts above the offset asked for); and how long a
 * queued page may wait to be sent.
 */
record ReplayLimits(int pageSize, long pageChars, int maxHeld, ReplayMemory memory, long storePageBytes,
                    boolean oldMessagesDeleted, ScheduledExecutorService stallWatch, long stalledReplayNanos) {

    /**
     * The most bytes the frames of a page read from the store can hold. The store cuts a page once its texts
     * reach {@code pageChars}, so they stop short of {@code pageChars} plus one text; their frames are longer than
     * the texts by the fields of each message and, for texts of control characters, six times.
     */
    static long storePageBytes(int pageSize, long pageChars, int maxTextLength) {
        long texts = pageChars + maxTextLength;
        return ReplayMemory.bytesOf(FrameCodec.maxChatMessageChars(texts)
                + (pageSize - 1L) * FrameCodec.maxChatMessageChars(0));
    }
}
