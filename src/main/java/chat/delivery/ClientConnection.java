package chat.delivery;

import chat.protocol.ErrorCode;
import chat.protocol.FrameCodec;

/**
 * One client's connection as the chat sees it, and what the chat does to it: deliver committed messages,
 * acknowledge or refuse what the client sent, close it. Its frames go out one at a time, in the order they were
 * queued, through its {@link Outbox}, which nobody else touches. Which messages it gets, and when, is its
 * {@link Subscription}'s business; how fast it may send is its address's, shared by every connection from there.
 */
public final class ClientConnection {

    private final Outbox outbox;
    /** The broadcaster's lane that delivers to this connection and sends its acks. */
    private final int lane;
    /** The client address its limits are counted under. */
    private final String clientAddress;
    private final TokenBucket sendAllowance;

    ClientConnection(Outbox outbox, int lane, String clientAddress, TokenBucket sendAllowance) {
        this.outbox = outbox;
        this.lane = lane;
        this.clientAddress = clientAddress;
        this.sendAllowance = sendAllowance;
    }

    int lane() {
        return lane;
    }

    String clientAddress() {
        return clientAddress;
    }

    /** @return true if this client may send another message now (its address's rate limit) */
    boolean mayChat() {
        return sendAllowance.tryTake();
    }

    /**
     * Queues a committed message; {@link #flush()} sends it.
     *
     * @return false if the connection is closed, or closed now because it holds too much to send
     */
    boolean deliver(EncodedMessage message) {
        return outbox.enqueue(message.frame());
    }

    /** Queues a message its replay held back; the replay bounds how many, so they do not count against the cap. */
    void deliverHeld(EncodedMessage message) {
        outbox.enqueueBeyondCap(message.frame());
    }

    /** Queues {@code synced}: the replay is done. */
    void synced(long offset, String epoch, boolean reset, boolean truncated) {
        outbox.enqueueBeyondCap(FrameCodec.synced(offset, epoch, reset, truncated));
    }

    /** Starts sending what was queued, unless a send is under way already; never call it holding a lock. */
    void flush() {
        outbox.flush();
    }

    /** Tells the client that its message {@code clientOffset} is stored under {@code offset}. */
    void ack(String clientOffset, long offset) {
        outbox.offer(FrameCodec.ack(clientOffset, offset));
    }

    /**
     * Tells the client why something it sent was not taken.
     *
     * @param clientOffset the refused message's, or null
     */
    void refuse(ErrorCode code, String message, String clientOffset) {
        outbox.offer(FrameCodec.error(code, message, clientOffset));
    }

    /** Drops what is queued and closes the connection, on another thread. */
    void close(Closing why) {
        outbox.closeConnection(why);
    }

    /** Closes the connection once what is queued now has been sent. */
    void closeOnceSent(Closing why) {
        outbox.whenDrained(() -> outbox.closeConnection(why));
    }

    /** Stops sending, without closing: the connection is closing already, or the chat is stopping. */
    void stopSending() {
        outbox.stop();
    }

    boolean isClosed() {
        return outbox.isClosed();
    }

    /** Runs {@code action} once nothing is queued or being sent; see {@link Outbox#whenDrained}. */
    void whenDrained(Runnable action) {
        outbox.whenDrained(action);
    }

    /** Closed, or nothing queued and no send under way. */
    public boolean isIdle() {
        return outbox.isIdle();
    }

    /** Frames handed to the transport so far: a connection whose count does not move is not being read. */
    public long framesSent() {
        return outbox.framesSent();
    }

    /** Frames queued and not yet handed to the transport. */
    int queuedFrames() {
        return outbox.queuedFrames();
    }
}
