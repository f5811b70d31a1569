package chat.store;

import chat.protocol.SentMessage;
import java.util.List;
import java.util.Optional;

/**
 * The ordered, durable log of chat messages, by room. Each room's offsets are its own: positive, from 1, assigned
 * in commit order without a gap and never reused. A clientOffset is unique across all rooms.
 *
 * <p>Only one thread of a process appends (its single writer); any number of threads read. A store that several
 * processes share ({@link #openCommitFeed()}) keeps its offsets gapless and in commit order across them.
 */
public interface MessageStore extends AutoCloseable {

    /**
     * Stores the messages in one transaction, in list order, each in its room (made when first written to). A
     * message whose clientOffset is stored already, in any room, is not stored again; its result carries the room
     * and offset it was stored under.
     *
     * @param committedAtMillis the time stored with each message, as its frames show it: the commit's, in
     *                          milliseconds since 1970-01-01T00:00Z
     * @return one result per message, in the same order, after the transaction committed
     * @throws StoreException if the transaction did not commit; then none of the messages is stored
     */
    List<Appended> append(List<SentMessage> messages, long committedAtMillis) throws StoreException;

    /** {@link #append(List, long)} at the current time. */
    default List<Appended> append(List<SentMessage> messages) throws StoreException {
        return append(messages, System.currentTimeMillis());
    }

    /** At most {@code limit} messages of {@code room} with an offset above {@code offset}, in offset order. */
    default List<StoredMessage> readAfter(String room, long offset, int limit) throws StoreException {
        return readAfter(room, offset, limit, Long.MAX_VALUE);
    }

    /**
     * At most {@code limit} messages of {@code room} with an offset above {@code offset}, in offset order, and no
     * more once their texts add up to {@code maxChars} characters: the message that reaches it is the last, so
     * there is always one if any is stored. Rows after it are not read. A room never written to has none.
     */
    List<StoredMessage> readAfter(String room, long offset, int limit, long maxChars) throws StoreException;

    /** The at most {@code limit} messages of {@code room} just below {@code before}, in offset order. */
    List<StoredMessage> readBefore(String room, long before, int limit) throws StoreException;

    /** Every room written to, by name, with its newest offset. */
    List<RoomHead> rooms() throws StoreException;

    /**
     * Checks, without storing a message and without waiting for another writer, that the store would take a write
     * now.
     *
     * @throws StoreException if it would not
     */
    void checkWritable() throws StoreException;

    /**
     * This store's identity, made when it was created: offsets from a store with another epoch (a database that
     * was replaced or reset) mean nothing here.
     */
    String epoch();

    /** The highest offset handed out in {@code room}, or 0 when nothing was stored in it. */
    long latestOffset(String room) throws StoreException;

    /** @return the oldest offset still stored in {@code room}, or 0 if nothing is */
    long oldestOffset(String room) throws StoreException;

    /**
     * Deletes up to {@code maxRows} of the oldest messages: those stored before {@code storedBeforeMillis}, and,
     * while the store holds more than {@code maxBytes} (0: no limit), the oldest whatever their age, across rooms.
     * The newest message of a room is never deleted; offsets are never handed out again.
     *
     * @return the messages deleted
     */
    int deleteOldest(long storedBeforeMillis, long maxBytes, int maxRows) throws StoreException;

    /** @return the bytes the store's data takes, space freed by deletions and reused by new messages not counted */
    long storedBytes() throws StoreException;

    /**
     * Where a node hears of the commits of other nodes writing to the same store; empty when this process is the
     * store's only writer. Each call opens a feed of its own, which the caller closes.
     */
    default Optional<CommitFeed> openCommitFeed() {
        return Optional.empty();
    }

    /**
     * Sends {@code payloads} to every node listening on this store's {@link CommitFeed}s, this one's included, in
     * order; nothing is stored, and a node not listening now never hears them. Only a store other nodes share has
     * anyone to tell.
     *
     * @throws StoreException if they could not be sent
     * @throws UnsupportedOperationException if this store has no other nodes ({@link #openCommitFeed()} is empty)
     */
    default void signalOtherNodes(List<String> payloads) throws StoreException {
        throw new UnsupportedOperationException("This store is not shared with other nodes");
    }

    @Override
    void close();
}
