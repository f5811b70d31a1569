package chat.delivery;

import chat.config.ChatConfig;
import chat.metrics.ChatMetrics;
import chat.protocol.Rooms;
import chat.protocol.SentMessage;
import chat.store.SqliteMessageStore;
import chat.store.SqlitePool;
import com.zaxxer.hikari.HikariDataSource;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.LongStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Replays of large messages hold bounded memory: pages are cut by characters, a page that is not sent in time
 * closes its connection, and replays beyond the server's replay memory wait their turn.
 */
class ReplayBoundsTest {

    private static final String LOOPBACK = "127.0.0.1";
    private static final int MESSAGES = 40;
    private static final String TEXT = "x".repeat(10_000);

    @TempDir
    Path directory;

    private final List<AutoCloseable> toClose = new ArrayList<>();

    @AfterEach
    void closeAll() throws Exception {
        for (int i = toClose.size() - 1; i >= 0; i--) {
            toClose.get(i).close();
        }
    }

    private ChatHub hub(Map<String, String> settings) throws Exception {
        Map<String, String> values = new HashMap<>(settings);
        values.put("chat.db.path", directory.resolve("chat.db").toString());
        values.put("chat.recoveryWindowMessages", "0"); // every page comes from the store
        ChatConfig config = ChatConfig.of(values);
        HikariDataSource pool = SqlitePool.open(config);
        SqliteMessageStore store = SqliteMessageStore.open(pool, config.durability(), pool);
        List<SentMessage> messages = new ArrayList<>();
        for (int i = 0; i < MESSAGES; i++) {
            messages.add(new SentMessage(Rooms.GENERAL, TEXT, null));
        }
        store.append(messages);
        ChatHub hub = new ChatHub(config, store, ChatMetrics.unregistered());
        toClose.add(hub);
        return hub;
    }

    @Test
    void aReplayOfLargeMessagesIsCutIntoPagesOfAtMostTheConfiguredCharacters() throws Exception {
        ChatHub hub = hub(Map.of("chat.replayPageChars", "25000"));
        RecordingSink sink = new RecordingSink();
        toClose.add(sink);
        hub.connect(LOOPBACK, sink, 0, null);
        assertEquals(LongStream.rangeClosed(1, MESSAGES).boxed().toList(),
                RecordingSink.chatOffsets(sink.awaitSynced()), "every message once, in order, across the cut pages");
    }

    @Test
    void aClientThatDoesNotReadItsReplayIsClosedWithPolicyViolationAfterTheStallTimeout() throws Exception {
        ChatHub hub = hub(Map.of("chat.replayPageChars", "25000", "chat.stalledReplaySeconds", "1"));
        StalledSink stalled = new StalledSink();
        long start = System.nanoTime();
        hub.connect(LOOPBACK, stalled, 0, null);
        assertEquals(Closing.REPLAY_STALLED.code(), stalled.closeCode.get(10, TimeUnit.SECONDS));
        long waited = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        assertTrue(waited >= 1_000, "closed after " + waited + " ms, before the stall timeout");
        assertEquals(1, stalled.sends, "the first frame never completed: nothing else was handed over");
    }

    @Test
    void aClientThatDoesNotReadTheLastPageOfItsReplayIsClosedAndItsRoomGivenBack() throws Exception {
        // One page holds the whole history: the replay is done, and the subscription live, once it is queued.
        ChatHub hub = hub(Map.of("chat.replayPageChars", String.valueOf(1 << 20), "chat.stalledReplaySeconds", "1"));
        StalledSink stalled = new StalledSink();
        ClientConnection subscription = hub.connect(LOOPBACK, stalled, 0, null);
        stalled.awaitFirstSend();
        assertTrue(hub.replayMemory().reserved() > 0, "the last page holds its room while it is not sent");
        assertEquals(Closing.REPLAY_STALLED.code(), stalled.closeCode.get(10, TimeUnit.SECONDS));
        hub.disconnect(subscription); // what the endpoint's onClose does
        assertEquals(0, hub.replayMemory().reserved());
    }

    @Test
    void replaysBeyondTheReplayMemoryWaitUntilAnotherGivesItsRoomBack() throws Exception {
        // A page read from the store reserves room for its worst case, then holds what it read: 27 messages here
        // (the texts of 26 are still under 256 Ki characters), about 530 KiB. With room for one reservation and
        // 800 000 bytes more, two fit (the second once the first has read its page), and a third does not.
        long reservation = ReplayLimits.storePageBytes(500, 256 << 10, 10_000);
        ChatHub hub = hub(Map.of("chat.replayPageChars", String.valueOf(256 << 10), "chat.replayPageSize", "500",
                "chat.maxTextLength", "10000", "chat.replayMemoryMax", String.valueOf(reservation + 800_000)));
        StalledSink first = new StalledSink();
        StalledSink second = new StalledSink();
        ClientConnection firstConnection = hub.connect(LOOPBACK, first, 0, null);
        hub.connect(LOOPBACK, second, 0, null);
        // Replays start on the worker threads in any order: the third asks only once the first two hold pages.
        first.awaitFirstSend();
        second.awaitFirstSend();
        RecordingSink third = new RecordingSink();
        toClose.add(third);
        hub.connect(LOOPBACK, third, 0, null);
        Thread.sleep(300);
        assertEquals(0, third.frameCount(), "the third replay waits for room");

        hub.disconnect(firstConnection);
        assertEquals(LongStream.rangeClosed(1, MESSAGES).boxed().toList(),
                RecordingSink.chatOffsets(third.awaitSynced()), "and replays once the first gave its room back");
    }

    /** A transport whose peer never reads: the first send never completes. */
    private static final class StalledSink implements FrameSink {
        final CompletableFuture<Integer> closeCode = new CompletableFuture<>();
        final CompletableFuture<Void> firstSend = new CompletableFuture<>();
        volatile int sends;

        @Override
        public void send(String frame, SendCallback done) {
            sends++;
            firstSend.complete(null);
        }

        @Override
        public void close(int code, String reason) {
            closeCode.complete(code);
        }

        void awaitFirstSend() throws Exception {
            firstSend.get(10, TimeUnit.SECONDS);
        }
    }
}
