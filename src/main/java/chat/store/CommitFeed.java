package chat.store;

import java.util.List;

/**
 * News of what other writers committed to a store that several nodes share: which rooms have messages up to which
 * offset. The messages themselves are read from the store. One thread uses a feed.
 */
public interface CommitFeed extends AutoCloseable {

    /**
     * Waits at most {@code timeoutMillis} for news, (re)connecting first if the feed is not listening.
     *
     * @return the rooms other writers committed to since the last call, with the newest offset each reached; when
     *         {@link News#mayHaveMissed()}, news may have been lost (the feed has just begun listening again) and
     *         every room is to be looked at
     * @throws StoreException if the feed cannot listen now; the next call tries again
     */
    News await(long timeoutMillis) throws StoreException, InterruptedException;

    @Override
    void close();

    /**
     * What one {@link #await} heard: the rooms with new commits, and the signals other nodes sent with
     * {@link MessageStore#signalOtherNodes}, in the order they were sent.
     */
    record News(List<RoomHead> rooms, List<String> signals, boolean mayHaveMissed) {

        public static final News NOTHING = new News(List.of(), List.of(), false);
        public static final News LOOK_EVERYWHERE = new News(List.of(), List.of(), true);
    }
}
