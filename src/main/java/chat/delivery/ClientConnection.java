package chat.delivery;

import chat.protocol.Author;
import chat.protocol.ErrorCode;
import chat.protocol.FrameCodec;
import chat.store.StoredMessage;

import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

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
    private final Author author;
    private final TokenBucket sendAllowance;
    /** The room a chat message without one is for: the handshake's, or null if it joined none. */
    private final String handshakeRoom;
    /**
     * The rooms it is in, each with its subscription: most clients are in one, so the table starts with two slots
     * rather than sixteen.
     */
    private final Map<String, Subscription> joined = new ConcurrentHashMap<>(1);
    /**
     * Whether its frames name their room (protocol v2): from the handshake if that named a room, else from the
     * first v2 frame the client sent. Until then it is a v1 client, in {@code general} only.
     */
    private volatile boolean namesRooms;

    ClientConnection(Outbox outbox, int lane, String clientAddress, Author author, TokenBucket sendAllowance,
                     String handshakeRoom, boolean namesRooms) {
        this.outbox = outbox;
        this.author = author;
        this.lane = lane;
        this.clientAddress = clientAddress;
        this.sendAllowance = sendAllowance;
        this.handshakeRoom = handshakeRoom;
        this.namesRooms = namesRooms;
    }

    String handshakeRoom() {
        return handshakeRoom;
    }

    /** Who the client is: the author of every message it sends. */
    public Author author() {
        return author;
    }

    /** The client sent a v2 frame: from now on its frames name their room. */
    void namesRooms() {
        namesRooms = true;
    }

    /** Whether its frames name their room now. */
    boolean namesRoomsNow() {
        return namesRooms;
    }

    Map<String, Subscription> joined() {
        return joined;
    }

    private String roomNamed(String room) {
        return namesRooms ? room : null;
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
        return outbox.enqueue(message.frameFor(namesRooms));
    }

    /** Queues a message its replay held back; the replay bounds how many, so they do not count against the cap. */
    void deliverHeld(EncodedMessage message) {
        outbox.enqueueBeyondCap(message.frameFor(namesRooms));
    }

    /** Queues {@code synced}: the replay of {@code room} is done. */
    void synced(String room, long offset, String epoch, boolean reset, boolean truncated) {
        outbox.enqueueBeyondCap(FrameCodec.synced(roomNamed(room), offset, epoch, reset, truncated));
    }

    /** Queues {@code left}: nothing of {@code room} follows. */
    void left(String room) {
        outbox.enqueueBeyondCap(FrameCodec.left(room));
    }

    /**
     * Queues a presence frame; {@link #flush()} sends it.
     *
     * @return false if the connection is closed, or closed now because it holds too much to send
     */
    boolean presence(String frame) {
        return outbox.enqueue(frame);
    }

    /**
     * Queues someone's typing frame, unless frames are waiting already (one may be on its way); {@link #flush()}
     * sends it.
     *
     * @return whether it was queued
     */
    boolean typing(String frame) {
        return outbox.queuedFrames() == 0 && outbox.enqueue(frame);
    }

    /** Sends a page of a room's history. */
    void history(String room, long before, List<StoredMessage> messages) {
        outbox.offer(FrameCodec.history(room, before, messages));
    }

    /** Sends the list of rooms, each with its newest offset. */
    void rooms(Map<String, Long> newestByRoom) {
        outbox.offer(FrameCodec.rooms(newestByRoom));
    }

    /** Starts sending what was queued, unless a send is under way already; never call it holding a lock. */
    void flush() {
        outbox.flush();
    }

    /** Tells the client that its message {@code clientOffset} is stored in {@code room} under {@code offset}. */
    void ack(String room, String clientOffset, long offset) {
        outbox.offer(FrameCodec.ack(roomNamed(room), clientOffset, offset));
    }

    /**
     * Tells the client why something it sent was not taken.
     *
     * @param clientOffset the refused message's, or null
     * @param room         the room it was about, or null
     */
    void refuse(ErrorCode code, String message, String clientOffset, String room) {
        outbox.offer(FrameCodec.error(code, message, clientOffset, roomNamed(room)));
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
