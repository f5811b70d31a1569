package chat.store;

import chat.protocol.SentMessage;
import java.util.List;

/**
 * The ordered, durable log of chat messages. Offsets are positive, assigned in commit order and never reused.
 *
 * <p>Only one thread appends (the single writer); any number of threads read.
 */
public interface MessageStore extends AutoCloseable {

    /**
     * Stores the messages in one transaction, in list order. A message whose clientOffset is stored already is not
     * stored again; its result carries the stored offset.
     *
     * @return one result per message, in the same order, after the transaction committed
     * @throws StoreException if the transaction did not commit; then none of the messages is stored
     */
    List<Appended> append(List<SentMessage> messages) throws StoreException;

    /** At most {@code limit} messages with an offset above {@code offset}, in offset order. */
    default List<StoredMessage> readAfter(long offset, int limit) throws StoreException {
        return readAfter(offset, limit, Long.MAX_VALUE);
    }

    /**
     * At most {@code limit} messages with an offset above {@code offset}, in offset order, and no more once their
     * texts add up to {@code maxChars} characters: the message that reaches it is the last, so there is always one
     * if any is stored. Rows after it are not read.
     */
    List<StoredMessage> readAfter(long offset, int limit, long maxChars) throws StoreException;

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

    /** The highest offset stored, or 0 when the store is empty. */
    long latestOffset() throws StoreException;

    /** @return the oldest stored offset, or 0 if nothing is stored */
    long oldestOffset() throws StoreException;

    /**
     * Deletes up to {@code maxRows} of the oldest messages: those stored before {@code storedBeforeMillis}, and,
     * while the store holds more than {@code maxBytes} (0: no limit), the oldest whatever their age. The newest
     * message is never deleted, so that the newest offset stays known; offsets are never handed out again.
     *
     * @return the messages deleted
     */
    int deleteOldest(long storedBeforeMillis, long maxBytes, int maxRows) throws StoreException;

    /** @return the bytes the store's data takes, space freed by deletions and reused by new messages not counted */
    long storedBytes() throws StoreException;

    @Override
    void close();
}
