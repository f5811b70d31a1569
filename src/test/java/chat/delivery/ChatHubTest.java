package chat.delivery;

import chat.config.ChatConfig;
import chat.metrics.ChatMetrics;
import chat.protocol.Author;
import chat.protocol.Rooms;
import chat.protocol.SentMessage;
import chat.store.SqliteMessageStore;
import chat.store.SqlitePool;
import chat.store.StoredMessage;
import com.fasterxml.jackson.databind.JsonNode;
import com.zaxxer.hikari.HikariDataSource;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.LongStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The chat without its transport, on a real SQLite file, with recording transports: a replay hands over to live
 * messages without a gap or a duplicate whatever commits while it runs; every client sees offset order under
 * concurrent senders and several fan-out lanes, a live sender its own message before its ack; reset and truncated
 * replays; exactly-once by clientOffset and conflicts; the rate limit, storage quota and write-queue share of an
 * address; replays from the recovery window.
 */
class ChatHubTest {

    private static StoredMessage stored(long offset, String text) {
        return new StoredMessage(offset, text, Author.ANONYMOUS, 0);
    }

    /** The messages' offsets and texts only: their authors are guests of random names, their times the commits'. */
    private static List<StoredMessage> plain(List<StoredMessage> messages) {
        return messages.stream().map(m -> stored(m.offset(), m.text())).toList();
    }

    private static final String LOOPBACK = "127.0.0.1";

    @TempDir
    Path directory;

    private final List<AutoCloseable> toClose = new ArrayList<>();
    private final ChatMetrics metrics = ChatMetrics.unregistered();

    @AfterEach
    void closeAll() throws Exception {
        for (int i = toClose.size() - 1; i >= 0; i--) {
            toClose.get(i).close();
        }
    }

    private ChatConfig config(Map<String, String> overrides) {
        Map<String, String> values = new HashMap<>(overrides);
        values.put("chat.db.path", directory.resolve("chat.db").toString());
        values.putIfAbsent("chat.messagesPerSecond", "0"); // these tests send as fast as they can
        // Replays read the store unless a test turns the recovery window on: the hand-off races live there.
        values.putIfAbsent("chat.recoveryWindowMessages", "0");
        return ChatConfig.of(values);
    }

    private PausableStore store(ChatConfig config) throws Exception {
        HikariDataSource pool = SqlitePool.open(config);
        return new PausableStore(SqliteMessageStore.open(pool, config.durability(), pool));
    }

    private ChatHub hub(ChatConfig config, PausableStore store) {
        ChatHub hub = new ChatHub(config, store, metrics);
        toClose.add(hub);
        return hub;
    }

    private RecordingSink sink() {
        RecordingSink sink = new RecordingSink();
        toClose.add(sink);
        return sink;
    }

    private static void fill(PausableStore store, int count) throws Exception {
        List<SentMessage> messages = new ArrayList<>();
        for (int i = 1; i <= count; i++) {
            messages.add(new SentMessage(Rooms.GENERAL, "stored " + i, null));
            if (messages.size() == 10_000 || i == count) {
                store.append(messages);
                messages.clear();
            }
        }
    }

    private interface Sender {
        void send(int senderNumber) throws Exception;
    }

    /** Runs {@code sender} for 0 to {@code senders - 1}, each on a thread of its own, and waits for all of them. */
    private static void inParallel(int senders, Sender sender) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(senders);
        try {
            List<Future<?>> sending = new ArrayList<>();
            for (int s = 0; s < senders; s++) {
                int senderNumber = s;
                sending.add(pool.submit(() -> {
                    sender.send(senderNumber);
                    return null;
                }));
            }
            for (Future<?> future : sending) {
                future.get(60, TimeUnit.SECONDS);
            }
        } finally {
            pool.shutdownNow();
        }
    }

    private static String chat(String text, String clientOffset) {
        return "{\"type\":\"chat message\",\"text\":\"" + text + "\",\"clientOffset\":\"" + clientOffset + "\"}";
    }

    private static JsonNode syncedOf(List<JsonNode> frames) {
        return frames.stream().filter(frame -> frame.path("type").asText().equals("synced")).findFirst().orElseThrow();
    }

    private static boolean isAck(JsonNode frame, String clientOffset) {
        return frame.path("type").asText().equals("ack") && frame.path("clientOffset").asText().equals(clientOffset);
    }

    private static List<Long> range(long firstInclusive, long lastInclusive) {
        return LongStream.rangeClosed(firstInclusive, lastInclusive).boxed().toList();
    }

    /** A hub on {@code stored} messages, a live sender, and a client from offset 0 whose replay is paused after its first read. */
    private final class PausedReplay {
        final PausableStore store;
        final ChatHub hub;
        final RecordingSink senderSink = sink();
        final ClientConnection sender;
        final RecordingSink replaying = sink();

        PausedReplay(Map<String, String> settings, int stored) throws Exception {
            Map<String, String> oneLane = new HashMap<>(settings);
            // One fan-out lane: the sender's ack, which commit() waits for, goes out after the lane handed the
            // message to the replaying client. With two lanes the replay could end before its lane held it.
            oneLane.put("chat.fanoutThreads", "1");
            ChatConfig config = config(oneLane);
            store = store(config);
            fill(store, stored);
            hub = hub(config, store);
            sender = hub.connect(LOOPBACK, senderSink, stored, null);
            senderSink.awaitSynced();
            store.pauseAfterNextRead();
            hub.connect(LOOPBACK, replaying, 0, null);
            store.awaitPaused();
        }

        /** Sends and waits until the message is committed (acked), while the replay is still paused. */
        void commit(String text, String clientOffset) throws InterruptedException {
            hub.receive(sender, chat(text, clientOffset));
            senderSink.awaitFrame(frame -> isAck(frame, clientOffset));
        }
    }

    @Test
    void aMessageCommittedWhileAPageIsInFlightArrivesOnceAfterTheReplayAndBeforeSynced() throws Exception {
        PausedReplay replay = new PausedReplay(Map.of(), 10);
        replay.commit("during the replay", "c-1");
        replay.store.release();

        List<JsonNode> frames = replay.replaying.awaitSynced();
        assertEquals(range(1, 11), RecordingSink.chatOffsets(frames));
        JsonNode synced = frames.get(frames.size() - 1);
        assertEquals("synced", synced.path("type").asText());
        assertEquals(11, synced.path("offset").asLong());
    }

    @Test
    void aMessageBothReadByTheReplayAndHeldLiveArrivesOnce() throws Exception {
        PausedReplay replay = new PausedReplay(Map.of("chat.replayPageSize", "5"), 5);
        replay.commit("read by the next page and held", "c-2");
        replay.store.release();

        assertEquals(range(1, 6), RecordingSink.chatOffsets(replay.replaying.awaitSynced()));
    }

    @Test
    void moreLiveMessagesThanCanBeHeldDuringAReplayAreReadBackFromTheStore() throws Exception {
        PausedReplay replay = new PausedReplay(Map.of("chat.outboxMaxFrames", "16", "chat.replayPageSize", "4"), 3);
        for (int i = 0; i < 40; i++) {
            replay.commit("flood " + i, "f-" + i);
        }
        replay.store.release();

        assertEquals(range(1, 43), RecordingSink.chatOffsets(replay.replaying.awaitSynced()));
        replay.commit("live", "after");
        assertEquals(range(1, 44), RecordingSink.chatOffsets(
                replay.replaying.awaitFrame(frame -> frame.path("offset").asLong() == 44 && frame.has("text"))));
    }

    @Test
    void aReplayFromBelowWhatRetentionKeptGetsWhatIsLeftWithTruncatedInSynced() throws Exception {
        ChatConfig config = config(Map.of("chat.retentionMaxBytes", "1")); // always over: all but the newest go
        PausableStore store = store(config);
        fill(store, 100);
        ChatHub hub = hub(config, store);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (store.oldestOffset(Rooms.GENERAL) != 100) {
            assertTrue(System.nanoTime() < deadline, "retention did not run; oldest " + store.oldestOffset(Rooms.GENERAL));
            Thread.sleep(20);
        }
        RecordingSink behind = sink();
        hub.connect(LOOPBACK, behind, 40, null);
        List<JsonNode> frames = behind.awaitSynced();
        assertEquals(List.of(100L), RecordingSink.chatOffsets(frames));
        JsonNode synced = syncedOf(frames);
        assertTrue(synced.path("truncated").asBoolean(), synced::toString);
        assertEquals(100, synced.path("offset").asLong());

        RecordingSink current = sink();
        hub.connect(LOOPBACK, current, 99, null);
        JsonNode uptoDate = syncedOf(current.awaitSynced());
        assertFalse(uptoDate.has("truncated"), "nothing after 99 was deleted: " + uptoDate);
    }

    @Test
    void anAddressOverItsDailyStorageQuotaGetsQuotaExceededAndNothingIsStored() throws Exception {
        ChatConfig config = config(Map.of("chat.maxStoredBytesPerAddressPerDay", "10"));
        PausableStore store = store(config);
        ChatHub hub = hub(config, store);
        RecordingSink sender = sink();
        ClientConnection sending = hub.connect("10.0.0.1", sender, 0, null);
        sender.awaitSynced();
        hub.receive(sending, chat("\u00e9\u00e9\u00e9", "q-1")); // 6 bytes of UTF-8
        sender.awaitFrame(frame -> isAck(frame, "q-1"));
        hub.receive(sending, chat("abcde", "q-2")); // 11 bytes in all
        java.util.function.Predicate<JsonNode> answer = frame -> frame.path("clientOffset").asText().equals("q-2");
        JsonNode refused = sender.awaitFrame(answer).stream().filter(answer).findFirst().orElseThrow();
        assertEquals("quota-exceeded", refused.path("code").asText(), refused::toString);
        hub.receive(sending, chat("abcd", "q-3")); // 10 bytes: still within
        sender.awaitFrame(frame -> isAck(frame, "q-3"));
        assertEquals(2, store.latestOffset(Rooms.GENERAL), "q-2 was not stored");
    }

    @Test
    void anAddressOverItsShareOfTheWriteQueueIsOverloadedWhileAnotherStillQueues() throws Exception {
        ChatConfig config = config(Map.of("chat.writeQueueCapacity", "16", "chat.writeQueueShare", "25"));
        PausableStore store = store(config);
        ChatHub hub = hub(config, store);
        RecordingSink flooder = sink();
        ClientConnection flooding = hub.connect("10.0.0.1", flooder, 0, null);
        RecordingSink other = sink();
        ClientConnection another = hub.connect("10.0.0.2", other, 0, null);
        flooder.awaitSynced();
        other.awaitSynced();

        store.pauseNextAppend();
        hub.receive(flooding, chat("first", "f-0"));
        store.awaitAppendPaused(); // f-0 is being stored and still counts: 4 of 16 is the address's share
        for (int i = 1; i <= 6; i++) {
            hub.receive(flooding, chat("flood " + i, "f-" + i));
        }
        hub.receive(another, chat("mine", "o-1"));
        List<JsonNode> refused = flooder.awaitFrame(frame -> frame.path("clientOffset").asText().equals("f-6"));
        assertEquals(List.of("f-4", "f-5", "f-6"), refused.stream()
                .filter(frame -> frame.path("code").asText().equals("overloaded"))
                .map(frame -> frame.path("clientOffset").asText()).toList());

        store.releaseAppends();
        other.awaitFrame(frame -> isAck(frame, "o-1")); // queued, not refused: acks come only once stored
        flooder.awaitFrame(frame -> isAck(frame, "f-3"));
        hub.receive(flooding, chat("after", "f-7"));
        flooder.awaitFrame(frame -> isAck(frame, "f-7")); // stored messages gave their share back
    }

    @Test
    void aLongReplayHoldsOnePageAtATime() throws Exception {
        ChatConfig config = config(Map.of("chat.replayPageSize", "200"));
        PausableStore store = store(config);
        fill(store, 100_000);
        ChatHub hub = hub(config, store);
        RecordingSink replaying = sink();
        replaying.observe(hub.connect(LOOPBACK, replaying, 0, null));

        List<JsonNode> frames = replaying.awaitSynced();
        assertEquals(range(1, 100_000), RecordingSink.chatOffsets(frames));
        assertTrue(replaying.deepestQueue() <= 201, "queued at most one page, saw " + replaying.deepestQueue());
    }

    @Test
    void concurrentSendersAreDeliveredToEveryoneInOffsetOrderWithoutGaps() throws Exception {
        ChatConfig config = config(Map.of());
        PausableStore store = store(config);
        ChatHub hub = hub(config, store);
        List<RecordingSink> watchers = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            RecordingSink watcher = sink();
            hub.connect(LOOPBACK, watcher, 0, null);
            watcher.awaitSynced();
            watchers.add(watcher);
        }
        int senders = 4;
        int perSender = 300;
        inParallel(senders, senderNumber -> {
            RecordingSink own = sink();
            ClientConnection subscription = hub.connect(LOOPBACK, own, 0, null);
            for (int m = 0; m < perSender; m++) {
                hub.receive(subscription, chat("m" + m, senderNumber + "-" + m));
            }
            own.awaitFrame(frame -> isAck(frame, senderNumber + "-" + (perSender - 1)));
        });
        long total = (long) senders * perSender;
        for (RecordingSink watcher : watchers) {
            List<JsonNode> frames = watcher.awaitFrame(frame -> frame.path("offset").asLong() == total && frame.has("text"));
            assertEquals(range(1, total), RecordingSink.chatOffsets(frames));
        }
    }

    @Test
    void withSeveralFanoutLanesEveryClientGetsEveryMessageInOrderAndALiveSenderItsOwnMessageBeforeItsAck()
            throws Exception {
        ChatConfig config = config(Map.of("chat.fanoutThreads", "3"));
        PausableStore store = store(config);
        ChatHub hub = hub(config, store);
        List<RecordingSink> clients = new ArrayList<>();
        List<ClientConnection> subscriptions = new ArrayList<>();
        for (int i = 0; i < 7; i++) {
            RecordingSink client = sink();
            subscriptions.add(hub.connect(LOOPBACK, client, 0, null));
            client.awaitSynced();
            clients.add(client);
        }
        int senders = 4;
        int perSender = 200;
        inParallel(senders, s -> {
            for (int m = 0; m < perSender; m++) {
                hub.receive(subscriptions.get(s), chat("m" + m, s + "-" + m));
            }
        });
        long total = (long) senders * perSender;
        for (RecordingSink client : clients) {
            List<JsonNode> frames = client.awaitFrame(frame -> frame.path("offset").asLong() == total && frame.has("text"));
            assertEquals(range(1, total), RecordingSink.chatOffsets(frames));
        }
        for (int s = 0; s < senders; s++) {
            String lastAck = s + "-" + (perSender - 1);
            List<JsonNode> frames = clients.get(s).awaitFrame(frame -> isAck(frame, lastAck));
            List<Long> seen = new ArrayList<>();
            int acks = 0;
            for (JsonNode frame : frames) {
                if (frame.has("text")) {
                    seen.add(frame.path("offset").asLong());
                } else if (frame.path("type").asText().equals("ack")) {
                    acks++;
                    long offset = frame.path("offset").asLong();
                    assertTrue(seen.contains(offset), "the message at " + offset + " reached its sender before its ack");
                }
            }
            assertEquals(perSender, acks);
        }
    }

    @Test
    void aClientAheadOfTheStoreIsReplayedEverythingFlaggedResetThenGetsLiveMessages() throws Exception {
        ChatConfig config = config(Map.of());
        PausableStore store = store(config);
        fill(store, 3);
        ChatHub hub = hub(config, store);
        RecordingSink ahead = sink();
        ClientConnection subscription = hub.connect(LOOPBACK, ahead, 1_000, null);
        List<JsonNode> frames = ahead.awaitSynced();
        assertEquals(range(1, 3), RecordingSink.chatOffsets(frames));
        JsonNode synced = frames.get(frames.size() - 1);
        assertEquals(3, synced.path("offset").asLong());
        assertTrue(synced.path("reset").asBoolean());

        hub.receive(subscription, chat("after the reset", "r-1"));
        frames = ahead.awaitFrame(frame -> isAck(frame, "r-1"));
        assertEquals(range(1, 4), RecordingSink.chatOffsets(frames));
    }

    @Test
    void aClientWithAnotherEpochIsReplayedEverythingFlaggedResetAndOneWithThisEpochIsNot() throws Exception {
        ChatConfig config = config(Map.of());
        PausableStore store = store(config);
        fill(store, 3);
        ChatHub hub = hub(config, store);

        RecordingSink other = sink();
        hub.connect(LOOPBACK, other, 2, "an-epoch-of-another-database");
        List<JsonNode> frames = other.awaitSynced();
        assertEquals(range(1, 3), RecordingSink.chatOffsets(frames));
        JsonNode synced = frames.get(frames.size() - 1);
        assertTrue(synced.path("reset").asBoolean());
        assertEquals(store.epoch(), synced.path("epoch").asText());

        RecordingSink same = sink();
        hub.connect(LOOPBACK, same, 2, store.epoch());
        frames = same.awaitSynced();
        assertEquals(List.of(3L), RecordingSink.chatOffsets(frames));
        assertTrue(frames.get(frames.size() - 1).path("reset").isMissingNode());
    }

    @Test
    void aClientAtTheNewestOffsetIsNotFlaggedReset() throws Exception {
        ChatConfig config = config(Map.of());
        PausableStore store = store(config);
        fill(store, 3);
        RecordingSink current = sink();
        hub(config, store).connect(LOOPBACK, current, 3, null);
        JsonNode synced = current.awaitSynced().get(0);
        assertEquals(3, synced.path("offset").asLong());
        assertTrue(synced.path("reset").isMissingNode());
    }

    @Test
    void aSenderGetsAnAckWithTheStoredOffsetForARepeatedClientOffset() throws Exception {
        ChatConfig config = config(Map.of());
        PausableStore store = store(config);
        ChatHub hub = hub(config, store);
        RecordingSink sink = sink();
        ClientConnection subscription = hub.connect(LOOPBACK, sink, 0, null);
        sink.awaitSynced();
        hub.receive(subscription, chat("once", "same"));
        hub.receive(subscription, chat("once", "same"));
        hub.receive(subscription, chat("next", "other"));
        List<JsonNode> frames = sink.awaitFrame(frame -> isAck(frame, "other"));
        assertEquals(List.of(1L, 2L), RecordingSink.chatOffsets(frames));
        List<Long> acks = frames.stream().filter(f -> f.path("type").asText().equals("ack"))
                .map(f -> f.path("offset").asLong()).toList();
        assertEquals(List.of(1L, 1L, 2L), acks);
    }

    @Test
    void anotherClientsClientOffsetWithAnotherTextIsAConflictNotAnAckOfTheirMessage() throws Exception {
        ChatConfig config = config(Map.of());
        PausableStore store = store(config);
        ChatHub hub = hub(config, store);
        RecordingSink owner = sink();
        RecordingSink other = sink();
        ClientConnection first = hub.connect(LOOPBACK, owner, 0, null);
        ClientConnection second = hub.connect(LOOPBACK, other, 0, null);
        owner.awaitSynced();
        other.awaitSynced();
        hub.receive(first, chat("mine", "k-1"));
        owner.awaitFrame(frame -> isAck(frame, "k-1"));

        hub.receive(second, chat("not the same", "k-1"));
        hub.receive(second, chat("after it", "k-2"));

        List<JsonNode> frames = other.awaitFrame(frame -> isAck(frame, "k-2"));
        JsonNode refused = frames.stream().filter(f -> f.path("clientOffset").asText().equals("k-1")).findFirst()
                .orElseThrow();
        assertEquals("error", refused.path("type").asText(), refused::toString);
        assertEquals("client-offset-conflict", refused.path("code").asText());
        assertEquals(List.of(1L, 2L), RecordingSink.chatOffsets(frames), "nothing stored for the conflict");
        assertEquals(List.of(stored(1, "mine"), stored(2, "after it")), plain(store.readAfter(Rooms.GENERAL, 0, 10)));
    }

    @Test
    void messagesOverTheRateLimitAreAnsweredRateLimitedAndNotStored() throws Exception {
        ChatConfig config = config(Map.of("chat.messagesPerSecond", "1", "chat.messageBurst", "2"));
        PausableStore store = store(config);
        ChatHub hub = hub(config, store);
        RecordingSink sink = sink();
        ClientConnection subscription = hub.connect(LOOPBACK, sink, 0, null);
        sink.awaitSynced();
        for (int i = 0; i < 5; i++) {
            hub.receive(subscription, chat("burst " + i, "b-" + i));
        }
        List<JsonNode> frames = sink.awaitFrame(frame -> frame.path("clientOffset").asText().equals("b-4"));
        List<String> limited = frames.stream().filter(f -> f.path("code").asText().equals("rate-limited"))
                .map(f -> f.path("clientOffset").asText()).toList();
        assertEquals(List.of("b-2", "b-3", "b-4"), limited);
        sink.awaitFrame(frame -> isAck(frame, "b-1"));
        assertEquals(2, store.latestOffset(Rooms.GENERAL), "only the burst was stored");
    }

    @Test
    void aFrameThatBreaksTheProtocolIsAnsweredWithAnErrorFrame() throws Exception {
        ChatConfig config = config(Map.of());
        ChatHub hub = hub(config, store(config));
        RecordingSink sink = sink();
        ClientConnection subscription = hub.connect(LOOPBACK, sink, 0, null);
        hub.receive(subscription, "not json");
        List<JsonNode> frames = sink.awaitFrame(frame -> frame.path("type").asText().equals("error"));
        JsonNode error = frames.stream().filter(f -> f.path("type").asText().equals("error")).findFirst().orElseThrow();
        assertEquals("bad-json", error.path("code").asText());
    }

    @Test
    void aClientInsideTheRecoveryWindowIsReplayedFromMemoryWithoutReadingTheStore() throws Exception {
        ChatConfig config = config(Map.of("chat.recoveryWindowMessages", "100"));
        PausableStore store = store(config);
        fill(store, 50);
        ChatHub hub = hub(config, store);
        RecordingSink sender = sink();
        ClientConnection sending = hub.connect(LOOPBACK, sender, 50, store.epoch());
        sender.awaitSynced();
        hub.receive(sending, chat("live", "w-1"));
        sender.awaitFrame(frame -> isAck(frame, "w-1"));
        int readsBefore = store.reads();

        RecordingSink returning = sink();
        hub.connect(LOOPBACK, returning, 40, store.epoch());
        List<JsonNode> frames = returning.awaitSynced();

        assertEquals(range(41, 51), RecordingSink.chatOffsets(frames));
        assertEquals(51, frames.get(frames.size() - 1).path("offset").asLong());
        assertEquals(readsBefore, store.reads(), "store reads during a replay from the window");
        assertEquals(11, replayed("memory"));
        assertEquals(0, replayed("store"));
    }

    @Test
    void aClientOlderThanTheWindowReadsTheStoreUpToTheWindowThenMemory() throws Exception {
        ChatConfig config = config(Map.of("chat.recoveryWindowMessages", "20", "chat.replayPageSize", "10"));
        PausableStore store = store(config);
        fill(store, 50);
        RecordingSink returning = sink();
        hub(config, store).connect(LOOPBACK, returning, 0, null);

        assertEquals(range(1, 50), RecordingSink.chatOffsets(returning.awaitSynced()));
        assertEquals(30, replayed("store"));
        assertEquals(20, replayed("memory"));
    }

    @Test
    void theWindowKeepsNoMoreCharactersThanAllowed() throws Exception {
        ChatConfig config = config(Map.of("chat.recoveryWindowMessages", "100", "chat.recoveryWindowChars", "65536",
                "chat.replayPageSize", "1"));
        PausableStore store = store(config);
        List<SentMessage> messages = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            messages.add(new SentMessage(Rooms.GENERAL, "x".repeat(10_000), null));
        }
        store.append(messages);
        RecordingSink returning = sink();
        hub(config, store).connect(LOOPBACK, returning, 0, null);

        assertEquals(range(1, 20), RecordingSink.chatOffsets(returning.awaitSynced()));
        long fromMemory = replayed("memory");
        // A message of general is held in both its forms, v2 (naming the room) and v1: about 20 000 characters.
        assertTrue(fromMemory >= 2 && fromMemory <= 3, "messages of about 20 000 characters in 65 536: " + fromMemory);
        assertEquals(20 - fromMemory, replayed("store"));
    }

    private long replayed(String source) {
        return Replayed.from(metrics, source);
    }
}
