package chat.delivery;

import chat.protocol.Rooms;
import chat.config.ChatConfig;
import chat.metrics.ChatMetrics;
import chat.protocol.Author;
import chat.protocol.ClientFrame;
import chat.protocol.ErrorCode;
import chat.protocol.FrameCodec;
import chat.protocol.SentMessage;
import chat.store.CommitFeed;
import chat.store.MessageStore;
import chat.store.RoomHead;
import chat.store.StoreException;
import chat.store.StoredMessage;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The chat without its transport: clients connect with a {@link FrameSink}, send text frames, and receive
 * replay, live messages, acks and errors. The WebSocket endpoint is a thin adapter over this class.
 */
public final class ChatHub implements AutoCloseable {

    private static final int WORKER_THREADS = 2;
    /**
     * Threads that close connections the chat gives up on. A close writes a close frame, which waits for a frame
     * in flight to a peer that may not read (up to SessionSink's close timeout): never on the replay workers.
     */
    private static final int CLOSER_THREADS = 4;
    /** Committed batches a fan-out lane may fall behind the writer before the writer waits for it. */
    private static final int LANE_CAPACITY_BATCHES = 16;
    /**
     * The most characters one WebSocket message carries for a client that takes frames as lines: a run of a few
     * dozen frames, bounded so that a client far behind is not sent its whole backlog as one string.
     */
    private static final int MAX_RUN_CHARS = 16 * 1024;
    /** Store pages kept for replays that read the same stretch at about the same time. */
    private static final int SHARED_PAGES = 16;
    private static final long SHARED_PAGES_MAX_CHARS = 2 << 20;
    /** A person's typing in a room is forwarded at most once in this time. */
    private static final long TYPING_INTERVAL_NANOS = TimeUnit.SECONDS.toNanos(2);
    /** A room too big to list its people is sent their count at most once in this time. */
    private static final long COUNT_INTERVAL_NANOS = TimeUnit.SECONDS.toNanos(1);
    private static final Logger LOG = Logger.getLogger(ChatHub.class.getName());

    private final ChatConfig config;
    private final MessageStore store;
    private final FrameCodec codec;
    private final ChatMetrics metrics;
    private final Broadcaster broadcaster;
    private final History history;
    private final MessageWriter writer;
    private final ExecutorService workers;
    private final ExecutorService closers;
    private final SendAllowances allowances;
    private final StorageQuotas quotas;
    /** Watches replays for stalls and ends presence grace periods. */
    private final ScheduledExecutorService timers;
    private final ReplayLimits replayLimits;
    private final RoomDirectory rooms;
    private final Presence presence;
    /** Publishes the other nodes' commits here, on a store they share; null when this node is the only writer. */
    private final CommitFollower follower;
    /** Presence across the nodes sharing the store; null on a store of this node's own. */
    private final NodePresence nodePresence;

    /**
     * Fills the recovery window from the store, then starts the writer, and on a store other nodes write to as
     * well, the thread that follows their commits.
     *
     * @throws IllegalStateException if the store is shared and cannot be read now: a node must know where each
     *                               room stands before it can tell which commits of the others it has not seen
     */
    public ChatHub(ChatConfig config, MessageStore store, ChatMetrics metrics) {
        this.config = config;
        this.store = store;
        this.metrics = metrics;
        this.codec = new FrameCodec(config.maxTextLength(), config.maxClientOffsetLength());
        CommitFeed feed = store.openCommitFeed().orElse(null);
        boolean shared = feed != null;
        RecoveryWindow window = new RecoveryWindow(config.recoveryWindowMessages(), config.recoveryWindowChars());
        List<RoomHead> storedRooms;
        try {
            fill(window, store, config.recoveryWindowMessages(), config.replayPageSize(), shared);
            storedRooms = storedRooms(store, shared);
        } catch (RuntimeException e) {
            if (feed != null) {
                feed.close();
            }
            throw e;
        }
        this.history = new History(store, window,
                new RoomWindows(config.roomWindows(), config.roomWindowMessages(), config.roomWindowChars()),
                new SharedPages(SHARED_PAGES, SHARED_PAGES_MAX_CHARS), metrics, shared);
        if (shared) {
            for (RoomHead room : storedRooms) {
                if (!Rooms.GENERAL.equals(room.room())) {
                    history.skipTo(room.room(), room.newest());
                }
            }
        }
        this.rooms = new RoomDirectory(config.roomCreation(), config.rooms(), config.maxRooms(), storedRooms);
        this.broadcaster = new Broadcaster(config.fanoutThreads(), LANE_CAPACITY_BATCHES);
        Sequencer sequencer = new Sequencer(store, history, broadcaster, rooms, shared, config.replayPageSize());
        this.allowances = new SendAllowances(config.messagesPerSecond(), config.messageBurst(), System::nanoTime);
        this.quotas = new StorageQuotas(config.maxStoredBytesPerAddressPerDay(), System::currentTimeMillis);
        ScheduledThreadPoolExecutor timers = new ScheduledThreadPoolExecutor(1, DaemonThreads.named("chat-timer-"));
        // A replay's stall check is cancelled once its page has gone out: removed then, not held until it is due.
        timers.setRemoveOnCancelPolicy(true);
        this.timers = timers;
        this.nodePresence = shared ? new NodePresence(store,
                TimeUnit.SECONDS.toNanos(config.presenceNodeTimeoutSeconds()), System::nanoTime) : null;
        this.presence = new Presence(config.presenceMax(), TimeUnit.SECONDS.toNanos(config.presenceGraceSeconds()),
                TYPING_INTERVAL_NANOS, COUNT_INTERVAL_NANOS, timers, System::nanoTime,
                shared ? nodePresence : PresenceRelay.NONE);
        RetentionSweeper retention = new RetentionSweeper(store, metrics,
                TimeUnit.DAYS.toMillis(config.retentionDays()), config.retentionMaxBytes(),
                System::currentTimeMillis, System::nanoTime);
        this.replayLimits = new ReplayLimits(config.replayPageSize(), config.replayPageChars(),
                config.outboxMaxFrames(), new ReplayMemory(config.replayMemoryMax()),
                ReplayLimits.storePageBytes(config.replayPageSize(), config.replayPageChars(), config.maxTextLength()),
                retention.isOn(), timers,
                TimeUnit.SECONDS.toNanos(config.stalledReplaySeconds()));
        this.workers = new ThreadPoolExecutor(WORKER_THREADS, WORKER_THREADS, 0, TimeUnit.MILLISECONDS,
                new LinkedBlockingQueue<>(), DaemonThreads.named("chat-worker-"));
        this.closers = new ThreadPoolExecutor(CLOSER_THREADS, CLOSER_THREADS, 0, TimeUnit.MILLISECONDS,
                new LinkedBlockingQueue<>(), DaemonThreads.named("chat-closer-"));
        this.writer = new MessageWriter(store, sequencer, metrics, config.writeQueueCapacity(),
                Math.max(1, (int) ((long) config.writeQueueCapacity() * config.writeQueueSharePercent() / 100)),
                config.writeBatchMax(), retention);
        metrics.watchStore(() -> {
            try {
                return store.storedBytes();
            } catch (StoreException e) {
                return -1;
            }
        });
        metrics.watch(broadcaster::size, broadcaster::queuedFrames, broadcaster::maxQueuedFrames, writer::queued);
        metrics.watchReplays(replayLimits.memory()::reserved, replayLimits.memory()::waiting);
        try {
            store.checkWritable();
        } catch (StoreException e) {
            writer.storeFailed(e.getMessage());
        }
        if (shared) {
            nodePresence.start(presence);
        }
        this.follower = shared ? new CommitFollower(feed, store, sequencer, nodePresence, config.clusterPollMillis())
                : null;
    }

    /**
     * Loads the newest messages, so that clients reconnecting after a restart are replayed from memory too. If the
     * store cannot be read now, the window starts empty and every replay reads the store until it has filled.
     */
    private static void fill(RecoveryWindow window, MessageStore store, int messages, int pageSize, boolean shared) {
        List<EncodedMessage> newest = new ArrayList<>();
        long start;
        try {
            long latest = store.latestOffset(Rooms.GENERAL);
            start = Math.max(0, latest - messages);
            long after = start;
            while (after < latest) {
                List<StoredMessage> page = store.readAfter(Rooms.GENERAL, after, pageSize);
                if (page.isEmpty()) {
                    break;
                }
                for (StoredMessage message : page) {
                    newest.add(EncodedMessage.of(Rooms.GENERAL, message));
                    after = message.offset();
                }
            }
        } catch (StoreException e) {
            if (shared) {
                throw new IllegalStateException("Cannot read where room " + Rooms.GENERAL + " stands in the shared"
                        + " store: " + e.getMessage(), e);
            }
            LOG.log(Level.WARNING, "Cannot read the newest messages into the recovery window; it fills from the"
                    + " next commit on, and replays read the store meanwhile: " + e.getMessage(), e);
            return;
        }
        window.startAt(start);
        for (EncodedMessage message : newest) {
            window.add(message);
        }
    }

    private static List<RoomHead> storedRooms(MessageStore store, boolean shared) {
        try {
            return store.rooms();
        } catch (StoreException e) {
            if (shared) {
                throw new IllegalStateException("Cannot read where the rooms stand in the shared store: "
                        + e.getMessage(), e);
            }
            LOG.log(Level.WARNING, "Cannot read the stored rooms; those not listed in chat.rooms are made again by"
                    + " the first join: " + e.getMessage(), e);
            return List.of();
        }
    }

    /** A v1 client: in {@code general}, replayed above {@code serverOffset}. See {@link #connect(String, FrameSink, Handshake)}. */
    public ClientConnection connect(String clientAddress, FrameSink sink, long serverOffset, String epoch) {
        return connect(clientAddress, sink, Handshake.v1(serverOffset, epoch, Author.guest(ThreadLocalRandom.current())));
    }

    /**
     * Registers a client and joins the room its handshake names, if any: it is replayed every stored message of
     * that room above the handshake's offset, then {@code synced}, then the room's live messages.
     *
     * @param clientAddress where the client connects from: its connections share one message rate
     */
    public ClientConnection connect(String clientAddress, FrameSink sink, Handshake handshake) {
        Outbox outbox = new Outbox(sink, closers, metrics, config.outboxMaxFrames(), config.outboxMaxChars(),
                handshake.framesAsLines() ? MAX_RUN_CHARS : 0);
        ClientConnection connection = new ClientConnection(outbox, broadcaster.laneFor(), clientAddress,
                handshake.author(), allowances.of(clientAddress), handshake.room(), handshake.namesRooms());
        broadcaster.add(connection);
        if (handshake.room() != null) {
            join(connection, handshake.room(), handshake.serverOffset(), handshake.epoch());
        }
        return connection;
    }

    /** A text frame from the client: stored and broadcast, answered, or answered with an error frame. */
    public void receive(ClientConnection from, String frame) {
        ClientFrame parsed = codec.parse(frame);
        if (parsed instanceof SentMessage message) {
            chat(from, message);
        } else if (parsed instanceof ClientFrame.Rejected rejected) {
            from.refuse(rejected.code(), rejected.message(), rejected.clientOffset(), rejected.room());
        } else {
            from.namesRooms();
            if (parsed instanceof ClientFrame.Join join) {
                join(from, join.room(), join.serverOffset(), join.epoch());
            } else if (parsed instanceof ClientFrame.Leave leave) {
                leave(from, leave.room());
            } else if (parsed instanceof ClientFrame.HistoryRequest request) {
                runOnWorker(from, request.room(), () -> from.history(request.room(), request.before(),
                        history.before(request.room(), request.before(), request.limit())));
            } else if (parsed instanceof ClientFrame.Typing typing) {
                if (from.joined().containsKey(typing.room())) {
                    presence.typing(from, typing.room());
                } else {
                    from.refuse(ErrorCode.NOT_JOINED, "Not in room " + typing.room(), null, typing.room());
                }
            } else if (parsed instanceof ClientFrame.ListRooms) {
                runOnWorker(from, null, () -> from.rooms(roomsWithNewest()));
            }
        }
    }

    private void chat(ClientConnection from, SentMessage message) {
        if (message.room() != null) {
            from.namesRooms();
        }
        String room = message.room() != null ? message.room() : from.handshakeRoom();
        if (room == null || !from.joined().containsKey(room)) {
            from.refuse(ErrorCode.NOT_JOINED, room == null ? "Name the room of the message: the handshake joined"
                    + " none" : "Join room " + room + " before sending to it; not stored", message.clientOffset(), room);
        } else if (!from.mayChat()) {
            from.refuse(ErrorCode.RATE_LIMITED, "More than " + config.messagesPerSecond()
                    + " messages a second; not stored, send it again later", message.clientOffset(), room);
        } else if (!quotas.tryCharge(from.clientAddress(), FrameCodec.utf8Length(message.text()))) {
            metrics.quotaRefused();
            from.refuse(ErrorCode.QUOTA_EXCEEDED, "Your address has stored " + quotas.maxBytesPerDay()
                    + " bytes today, its daily quota; not stored", message.clientOffset(), room);
        } else {
            writer.submit(message.in(room, from.author()), from);
        }
    }

    private void join(ClientConnection connection, String room, long serverOffset, String epoch) {
        if (connection.joined().containsKey(room)) {
            connection.refuse(ErrorCode.ALREADY_JOINED, "Already in room " + room, null, room);
            return;
        }
        if (connection.joined().size() >= config.maxRoomsPerConnection()) {
            connection.refuse(ErrorCode.TOO_MANY_ROOMS, "A connection may be in " + config.maxRoomsPerConnection()
                    + " rooms at once; leave one first", null, room);
            return;
        }
        switch (rooms.open(room)) {
            case NO_SUCH_ROOM -> connection.refuse(ErrorCode.NO_SUCH_ROOM, "There is no room " + room
                    + " here, and only the operator makes rooms", null, room);
            case FULL -> connection.refuse(ErrorCode.TOO_MANY_ROOMS, "The chat holds its " + rooms.maxRooms()
                    + " rooms, the most it may; join one of them", null, room);
            case OPEN -> {
                Subscription subscription = new Subscription(connection, room, history, presence, workers,
                        serverOffset, epoch, replayLimits);
                connection.joined().put(room, subscription);
                broadcaster.subscribe(subscription);
                subscription.startReplay();
            }
        }
    }

    /** Until {@code left} is queued the room still counts as joined: joining it again meanwhile is {@code already-joined}. */
    private void leave(ClientConnection connection, String room) {
        Subscription subscription = connection.joined().get(room);
        if (subscription == null) {
            connection.refuse(ErrorCode.NOT_JOINED, "Not in room " + room, null, room);
            return;
        }
        broadcaster.onLane(connection, () -> {
            if (connection.joined().get(room) != subscription) {
                return; // left already, by an earlier leave on this lane
            }
            broadcaster.unsubscribe(subscription);
            subscription.cancel();
            presence.departed(connection, room, true); // before left: no presence frame of the room follows it
            connection.left(room);
            // Only now may the room be joined again, so that its next replay comes after left.
            connection.joined().remove(room, subscription);
            connection.flush();
        });
    }

    private Map<String, Long> roomsWithNewest() throws StoreException {
        Map<String, Long> newest = new TreeMap<>();
        for (String room : rooms.names()) {
            newest.put(room, 0L);
        }
        for (RoomHead stored : store.rooms()) {
            if (rooms.exists(stored.room())) {
                newest.put(stored.room(), stored.newest());
            }
        }
        return newest;
    }

    private interface StoreRead {
        void run() throws StoreException;
    }

    private void runOnWorker(ClientConnection connection, String room, StoreRead read) {
        try {
            workers.execute(() -> {
                try {
                    read.run();
                } catch (StoreException e) {
                    LOG.log(Level.WARNING, "A read for a client failed", e);
                    connection.refuse(ErrorCode.STORE_UNAVAILABLE, "Cannot read the store now; ask again shortly",
                            null, room);
                }
            });
        } catch (RejectedExecutionException stopping) {
            connection.refuse(ErrorCode.STORE_UNAVAILABLE, "The server is shutting down", null, room);
        }
    }

    /** The connection closed: it gets nothing more, and what its replays held is given back. */
    public void disconnect(ClientConnection connection) {
        broadcaster.remove(connection);
        connection.stopSending();
        for (Subscription subscription : connection.joined().values()) {
            subscription.cancel();
            presence.departed(connection, subscription.room(), false);
        }
    }

    /** The room replays hold, for tests. */
    ReplayMemory replayMemory() {
        return replayLimits.memory();
    }

    /** The store's epoch: every node on one shared store reports the same. */
    public String epoch() {
        return store.epoch();
    }

    public int connections() {
        return broadcaster.size();
    }

    /** @throws StoreException if the store cannot be read */
    public long latestOffset() throws StoreException {
        return store.latestOffset(Rooms.GENERAL);
    }

    /**
     * Whether messages can be stored: after a failed transaction, until one commits again or a probe finds the
     * store writable, they cannot.
     *
     * @throws StoreException why not
     */
    public void checkWritable() throws StoreException {
        if (writer.lastFailure() != null) {
            store.checkWritable();
            writer.storeRecovered();
        }
    }

    /**
     * The first step of stopping, taken while the connections are still open: commits what is queued and answers
     * every message sent from now on with {@code store-unavailable}, then waits until each client has been sent its
     * acks and errors, or the timeout passed.
     *
     * @return false if some client still had frames waiting when the timeout passed
     */
    public boolean stopTakingMessages(long timeoutMillis) throws InterruptedException {
        writer.close();
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
        while (!broadcaster.outboxesIdle()) {
            if (System.nanoTime() - deadline > 0) {
                return false;
            }
            Thread.sleep(10);
        }
        return true;
    }

    /** Commits what is queued, stops the threads and closes the store. */
    @Override
    public void close() {
        try {
            try {
                try {
                    writer.close();
                } finally {
                    if (follower != null) {
                        follower.close();
                        nodePresence.close();
                    }
                }
            } finally {
                broadcaster.close();
            }
        } finally {
            timers.shutdownNow();
            stopWithin5Seconds(closers);
            stopWithin5Seconds(workers);
            store.close();
        }
    }

    private static void stopWithin5Seconds(ExecutorService threads) {
        threads.shutdown();
        try {
            if (!threads.awaitTermination(5, TimeUnit.SECONDS)) {
                threads.shutdownNow();
            }
        } catch (InterruptedException e) {
            threads.shutdownNow();
            Thread.currentThread().interrupt();
        }
    }
}
