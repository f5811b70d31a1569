package chat.delivery;

import chat.protocol.Author;
import chat.metrics.ChatMetrics;
import chat.protocol.Rooms;
import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Predicate;
import java.util.stream.LongStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Protocol v2 in the chat core, on a real SQLite file: each room its own gapless offsets, a connection gets only
 * its rooms' messages, join replays a room then goes live, nothing of a room follows {@code left}, history pages,
 * the rooms list, the errors of every refusal, a clientOffset answered with the room it was stored in, and v1
 * clients that see exactly v1 frames of general.
 */
class RoomsTest {

    private static final String LOOPBACK = "127.0.0.1";

    @TempDir
    Path directory;

    @RegisterExtension
    final Hubs hubs = new Hubs();
    private ChatHub hub;
    private ChatMetrics metrics;

    private ChatHub hub(Map<String, String> settings) throws Exception {
        hub = hubs.open(directory, settings);
        metrics = hubs.metrics();
        return hub;
    }

    private RecordingSink sink() {
        return hubs.sink();
    }

    /** A v2 client, its handshake naming {@code room} ("" for none). */
    private ClientConnection v2(RecordingSink sink, String room) {
        return hub.connect(LOOPBACK, sink, new Handshake(room.isEmpty() ? null : room, true, 0, null, new Author("tester", false)));
    }

    /** A v2 client in {@code room} from offset 0, once its replay is done. */
    private ClientConnection inRoom(RecordingSink sink, String room) throws InterruptedException {
        ClientConnection connection = v2(sink, room);
        sink.awaitFrame(type("synced", room));
        return connection;
    }

    private static Predicate<JsonNode> type(String type, String room) {
        return frame -> frame.path("type").asText().equals(type) && frame.path("room").asText().equals(room);
    }

    private static Predicate<JsonNode> error(String code) {
        return frame -> frame.path("type").asText().equals("error") && frame.path("code").asText().equals(code);
    }

    private static List<Long> offsetsIn(List<JsonNode> frames, String room) {
        return frames.stream().filter(type("chat message", room)).map(f -> f.path("offset").asLong()).toList();
    }

    private static String chat(String room, String text, String clientOffset) {
        return "{\"type\":\"chat message\",\"room\":\"" + room + "\",\"text\":\"" + text + "\",\"clientOffset\":\""
                + clientOffset + "\"}";
    }

    private static Predicate<JsonNode> ack(String clientOffset) {
        return frame -> frame.path("type").asText().equals("ack")
                && frame.path("clientOffset").asText().equals(clientOffset);
    }

    private static List<Long> range(long first, long last) {
        return LongStream.rangeClosed(first, last).boxed().toList();
    }

    @Test
    void eachRoomCountsItsOwnOffsetsAndAConnectionGetsOnlyItsRooms() throws Exception {
        hub(Map.of());
        RecordingSink opsSink = sink();
        ClientConnection ops = inRoom(opsSink, "ops");
        RecordingSink devSink = sink();
        ClientConnection dev = inRoom(devSink, "dev");

        hub.receive(ops, chat("ops", "o1", "o-1"));
        hub.receive(dev, chat("dev", "d1", "d-1"));
        hub.receive(ops, chat("ops", "o2", "o-2"));
        JsonNode ack = opsSink.awaitFrame(ack("o-2")).stream().filter(ack("o-2")).findFirst().orElseThrow();
        assertEquals("ops", ack.path("room").asText());
        assertEquals(2, ack.path("offset").asLong());
        List<JsonNode> devFrames = devSink.awaitFrame(ack("d-1"));

        assertEquals(List.of(1L, 2L), offsetsIn(opsSink.awaitFrame(ack("o-2")), "ops"));
        assertEquals(List.of(1L), offsetsIn(devFrames, "dev"));
        assertTrue(devFrames.stream().noneMatch(type("chat message", "ops")), "dev is not in ops: " + devFrames);
    }

    @Test
    void aRoomsMessagesSinceTheStartAreReplayedFromMemoryAndOlderOnesFromTheStore() throws Exception {
        hub(Map.of("chat.roomWindowMessages", "3", "chat.replayPageSize", "2"));
        RecordingSink senderSink = sink();
        ClientConnection sender = inRoom(senderSink, "ops");
        for (int i = 1; i <= 5; i++) {
            hub.receive(sender, chat("ops", "m" + i, "k-" + i));
        }
        senderSink.awaitFrame(ack("k-5"));

        RecordingSink recent = sink();
        hub.receive(v2(recent, ""), "{\"type\":\"join\",\"room\":\"ops\",\"serverOffset\":2}");
        assertEquals(range(3, 5), offsetsIn(recent.awaitFrame(type("synced", "ops")), "ops"));
        assertEquals(3, Replayed.from(metrics, "memory"));
        assertEquals(0, Replayed.from(metrics, "store"));

        RecordingSink older = sink();
        hub.receive(v2(older, ""), "{\"type\":\"join\",\"room\":\"ops\",\"serverOffset\":0}");
        assertEquals(range(1, 5), offsetsIn(older.awaitFrame(type("synced", "ops")), "ops"));
        assertEquals(2, Replayed.from(metrics, "store"), "1 and 2 are no longer in ops's window of 3");
        assertEquals(3 + 3, Replayed.from(metrics, "memory"));
    }

    @Test
    void aRoomWhoseWindowWasGivenToAnotherIsReplayedFromTheStoreWithoutAGap() throws Exception {
        hub(Map.of("chat.roomWindows", "1"));
        RecordingSink opsSink = sink();
        ClientConnection ops = inRoom(opsSink, "ops");
        RecordingSink devSink = sink();
        ClientConnection dev = inRoom(devSink, "dev");
        for (int i = 1; i <= 4; i++) {
            hub.receive(ops, chat("ops", "o" + i, "o-" + i));
        }
        opsSink.awaitFrame(ack("o-4"));
        hub.receive(dev, chat("dev", "d1", "d-1"));
        devSink.awaitFrame(ack("d-1"));

        RecordingSink returning = sink();
        hub.receive(v2(returning, ""), "{\"type\":\"join\",\"room\":\"ops\",\"serverOffset\":1}");
        assertEquals(range(2, 4), offsetsIn(returning.awaitFrame(type("synced", "ops")), "ops"));
        assertEquals(0, Replayed.from(metrics, "memory"), "dev holds the only window");
        assertEquals(3, Replayed.from(metrics, "store"));
    }

    @Test
    void joinReplaysTheRoomAboveTheOffsetThenSyncedThenLive() throws Exception {
        hub(Map.of());
        RecordingSink senderSink = sink();
        ClientConnection sender = inRoom(senderSink, "ops");
        for (int i = 1; i <= 5; i++) {
            hub.receive(sender, chat("ops", "m" + i, "k-" + i));
        }
        senderSink.awaitFrame(ack("k-5"));

        RecordingSink readerSink = sink();
        ClientConnection reader = v2(readerSink, "");
        hub.receive(reader, "{\"type\":\"join\",\"room\":\"ops\",\"serverOffset\":2}");
        List<JsonNode> frames = readerSink.awaitFrame(type("synced", "ops"));
        assertEquals(range(3, 5), offsetsIn(frames, "ops"));
        assertEquals(5, frames.stream().filter(type("synced", "ops")).findFirst().orElseThrow().path("offset").asLong());

        hub.receive(sender, chat("ops", "live", "k-6"));
        assertEquals(range(3, 6), offsetsIn(readerSink.awaitFrame(
                frame -> type("chat message", "ops").test(frame) && frame.path("offset").asLong() == 6), "ops"));
    }

    @Test
    void nothingOfARoomFollowsLeftAndTheRoomCanBeJoinedAgainAfterIt() throws Exception {
        hub(Map.of());
        RecordingSink senderSink = sink();
        ClientConnection sender = inRoom(senderSink, "ops");
        RecordingSink readerSink = sink();
        ClientConnection reader = inRoom(readerSink, "ops");

        for (int i = 1; i <= 200; i++) {
            hub.receive(sender, chat("ops", "m" + i, "k-" + i));
            if (i == 50) {
                hub.receive(reader, "{\"type\":\"leave\",\"room\":\"ops\"}");
            }
        }
        senderSink.awaitFrame(ack("k-200"));
        List<JsonNode> frames = readerSink.awaitFrame(type("left", "ops"));
        hub.receive(reader, "{\"type\":\"rooms\"}");
        frames = readerSink.awaitFrame(frame -> frame.path("type").asText().equals("rooms"));
        int left = frames.indexOf(frames.stream().filter(type("left", "ops")).findFirst().orElseThrow());
        assertTrue(frames.subList(left, frames.size()).stream().noneMatch(type("chat message", "ops")),
                "a message of ops after left: " + frames.subList(left, frames.size()));
        List<Long> before = offsetsIn(frames.subList(0, left), "ops");
        assertEquals(range(1, before.size()), before, "gapless up to left");

        hub.receive(reader, "{\"type\":\"join\",\"room\":\"ops\",\"serverOffset\":" + before.size() + "}");
        frames = readerSink.awaitFrame(frame -> type("synced", "ops").test(frame) && frame.path("offset").asLong() == 200);
        assertEquals(range(before.size() + 1, 200), offsetsIn(frames.subList(left, frames.size()), "ops"),
                "joined again, it is replayed what it missed, without a gap or a duplicate");
    }

    @Test
    void historyGivesThePageBelowBeforeWithoutJoiningAndEmptyAtTheStart() throws Exception {
        hub(Map.of());
        RecordingSink senderSink = sink();
        ClientConnection sender = v2(senderSink, "ops");
        for (int i = 1; i <= 10; i++) {
            hub.receive(sender, chat("ops", "m" + i, "k-" + i));
        }
        senderSink.awaitFrame(ack("k-10"));
        RecordingSink readerSink = sink();
        ClientConnection reader = v2(readerSink, "");
        hub.receive(reader, "{\"type\":\"history\",\"room\":\"ops\",\"before\":8,\"limit\":3}");
        JsonNode page = readerSink.awaitFrame(type("history", "ops")).stream().filter(type("history", "ops"))
                .findFirst().orElseThrow();
        assertEquals(8, page.path("before").asLong());
        List<Long> offsets = new ArrayList<>();
        page.path("messages").forEach(m -> offsets.add(m.path("offset").asLong()));
        assertEquals(List.of(5L, 6L, 7L), offsets);
        assertEquals("m5", page.path("messages").get(0).path("text").asText());
        assertEquals("ops", page.path("messages").get(0).path("room").asText());

        hub.receive(reader, "{\"type\":\"history\",\"room\":\"ops\",\"before\":1}");
        List<JsonNode> frames = readerSink.awaitFrame(frame -> type("history", "ops").test(frame)
                && frame.path("before").asLong() == 1);
        assertEquals(0, frames.get(frames.size() - 1).path("messages").size());
        assertTrue(frames.stream().noneMatch(type("chat message", "ops")), "history is not the live stream");
    }

    @Test
    void theRoomsListNamesEveryRoomWithItsNewestOffset() throws Exception {
        hub(Map.of());
        RecordingSink sink = sink();
        ClientConnection client = v2(sink, "ops");
        hub.receive(client, "{\"type\":\"join\",\"room\":\"empty-room\"}");
        hub.receive(client, chat("ops", "a", "k-1"));
        hub.receive(client, chat("ops", "b", "k-2"));
        sink.awaitFrame(ack("k-2"));
        hub.receive(client, "{\"type\":\"rooms\"}");
        // Frames of the joins may come after it: pick the rooms frame itself.
        JsonNode list = sink.awaitFrame(frame -> frame.path("type").asText().equals("rooms")).stream()
                .filter(frame -> frame.path("type").asText().equals("rooms")).findFirst().orElseThrow();
        Map<String, Long> rooms = new HashMap<>();
        list.path("rooms").forEach(r -> rooms.put(r.path("room").asText(),
                r.path("offset").asLong()));
        assertEquals(Map.of("general", 0L, "ops", 2L, "empty-room", 0L), rooms);
    }

    @Test
    void aResendToAnotherRoomIsAckedWithTheRoomAndOffsetItWasStoredUnder() throws Exception {
        hub(Map.of());
        RecordingSink sink = sink();
        ClientConnection client = v2(sink, "ops");
        hub.receive(client, "{\"type\":\"join\",\"room\":\"dev\"}");
        sink.awaitFrame(type("synced", "dev"));
        hub.receive(client, chat("ops", "hi", "k-1"));
        sink.awaitFrame(ack("k-1"));
        hub.receive(client, chat("dev", "hi", "k-1"));
        List<JsonNode> frames = sink.awaitFrame(nth(2, ack("k-1")));
        List<JsonNode> acks = frames.stream().filter(ack("k-1")).toList();
        assertEquals(2, acks.size(), "both answered: " + frames);
        for (JsonNode ack : acks) {
            assertEquals("ops", ack.path("room").asText());
            assertEquals(1, ack.path("offset").asLong());
        }
        assertEquals(List.of(), offsetsIn(frames, "dev"), "no second row, no second broadcast");
    }

    /** Matches the {@code n}th frame that matches {@code matching}; for one awaitFrame, which scans each frame once. */
    private static Predicate<JsonNode> nth(int n, Predicate<JsonNode> matching) {
        int[] seen = {0};
        return frame -> matching.test(frame) && ++seen[0] == n;
    }

    @Test
    void everyRefusalIsAnErrorNamingTheRoom() throws Exception {
        hub(Map.of("chat.maxRoomsPerConnection", "2"));
        RecordingSink sink = sink();
        ClientConnection client = inRoom(sink, "ops");
        hub.receive(client, "{\"type\":\"join\",\"room\":\"ops\"}");
        assertEquals("ops", last(sink, error("already-joined")).path("room").asText());
        hub.receive(client, chat("dev", "x", "k-1"));
        JsonNode notJoined = last(sink, error("not-joined"));
        assertEquals("dev", notJoined.path("room").asText());
        assertEquals("k-1", notJoined.path("clientOffset").asText());
        hub.receive(client, "{\"type\":\"leave\",\"room\":\"dev\"}");
        assertEquals("dev", sink.awaitFrame(nth(2, error("not-joined"))).stream().filter(error("not-joined"))
                .skip(1).findFirst().orElseThrow().path("room").asText());
        hub.receive(client, "{\"type\":\"join\",\"room\":\"Bad Room\"}");
        last(sink, error("bad-room"));
        hub.receive(client, "{\"type\":\"join\",\"room\":\"dev\"}");
        hub.receive(client, "{\"type\":\"join\",\"room\":\"third\"}");
        assertEquals("third", last(sink, error("too-many-rooms")).path("room").asText());
        hub.receive(client, "{\"type\":\"history\",\"room\":\"ops\",\"limit\":201}");
        last(sink, error("bad-limit"));
    }

    @Test
    void withListedRoomsOnlyThoseExist() throws Exception {
        hub(Map.of("chat.roomCreation", "listed", "chat.rooms", "ops,dev"));
        RecordingSink sink = sink();
        ClientConnection client = inRoom(sink, "ops");
        hub.receive(client, "{\"type\":\"join\",\"room\":\"elsewhere\"}");
        assertEquals("elsewhere", last(sink, error("no-such-room")).path("room").asText());
        hub.receive(client, "{\"type\":\"join\",\"room\":\"dev\"}");
        sink.awaitFrame(type("synced", "dev"));
    }

    @Test
    void pastMaxRoomsNoNewRoomIsMade() throws Exception {
        hub(Map.of("chat.maxRooms", "2"));
        RecordingSink sink = sink();
        ClientConnection client = v2(sink, "ops"); // general and ops: two rooms
        sink.awaitFrame(type("synced", "ops"));
        hub.receive(client, "{\"type\":\"join\",\"room\":\"one-too-many\"}");
        assertTrue(last(sink, error("too-many-rooms")).path("message").asText().contains("2 rooms"));
    }

    @Test
    void aHandshakeThatJoinsNoRoomGetsNotJoinedForAMessageWithoutARoom() throws Exception {
        hub(Map.of());
        RecordingSink sink = sink();
        ClientConnection client = v2(sink, "");
        hub.receive(client, "{\"type\":\"chat message\",\"text\":\"to nowhere\",\"clientOffset\":\"k-1\"}");
        last(sink, error("not-joined"));
    }

    @Test
    void aMessageCarriesItsSendersNameAndCommitTimeLiveInAReplayAndInHistory() throws Exception {
        hub(Map.of());
        RecordingSink adaSink = sink();
        Author ada = new Author("Ada", true);
        ClientConnection adaConnection = hub.connect(LOOPBACK, adaSink, new Handshake("ops", true, 0, null, ada));
        adaSink.awaitFrame(type("synced", "ops"));
        long before = System.currentTimeMillis();
        hub.receive(adaConnection, chat("ops", "hello", "k-ada"));
        JsonNode live = adaSink.awaitFrame(type("chat message", "ops")).stream().filter(type("chat message", "ops"))
                .findFirst().orElseThrow();
        long after = System.currentTimeMillis();
        assertEquals("Ada", live.path("author").asText());
        assertTrue(live.path("verified").asBoolean());
        long time = live.path("time").asLong();
        assertTrue(time >= before && time <= after, time + " between " + before + " and " + after);

        RecordingSink laterSink = sink();
        JsonNode replayed = inRoomFrames(laterSink, "ops").stream().filter(type("chat message", "ops")).findFirst()
                .orElseThrow();
        assertEquals(live, replayed, "the replay shows the same author and time");
        RecordingSink readerSink = sink();
        hub.receive(v2(readerSink, ""), "{\"type\":\"history\",\"room\":\"ops\"}");
        JsonNode page = readerSink.awaitFrame(type("history", "ops")).stream().filter(type("history", "ops"))
                .findFirst().orElseThrow();
        assertEquals(live, page.path("messages").get(0), "history too");
    }

    /** The frames a v2 client gets joining {@code room} from offset 0, up to its synced. */
    private List<JsonNode> inRoomFrames(RecordingSink sink, String room) throws InterruptedException {
        v2(sink, room);
        return sink.awaitFrame(type("synced", room));
    }

    @Test
    void aV1ClientSeesExactlyV1FramesOfGeneralAndAV2ClientTheSameMessagesNamingTheRoom() throws Exception {
        hub(Map.of());
        RecordingSink v1Sink = sink();
        ClientConnection v1 = hub.connect(LOOPBACK, v1Sink, 0, null);
        v1Sink.awaitSynced();
        RecordingSink v2Sink = sink();
        inRoom(v2Sink, Rooms.GENERAL);

        hub.receive(v1, "{\"type\":\"chat message\",\"text\":\"hello\",\"clientOffset\":\"k-1\"}");
        List<JsonNode> v1Frames = v1Sink.awaitFrame(ack("k-1"));
        for (JsonNode frame : v1Frames) {
            assertFalse(frame.has("room"), "a v1 frame names no room: " + frame);
        }
        JsonNode message = v1Frames.stream().filter(f -> f.path("type").asText().equals("chat message"))
                .findFirst().orElseThrow();
        assertEquals(3, message.size(), "only type, text and offset: " + message);
        JsonNode named = v2Sink.awaitFrame(type("chat message", "general")).stream()
                .filter(type("chat message", "general")).findFirst().orElseThrow();
        assertEquals(1, named.path("offset").asLong());
        assertEquals("hello", named.path("text").asText());
    }

    @Test
    void underSendersInSeveralRoomsAndReadersJoiningAndLeavingEachRoomStreamIsGaplessPerConnection()
            throws Exception {
        hub(Map.of());
        List<String> roomNames = List.of("r1", "r2", "r3");
        List<RecordingSink> senderSinks = new ArrayList<>();
        List<ClientConnection> senders = new ArrayList<>();
        for (String room : roomNames) {
            RecordingSink sink = sink();
            senderSinks.add(sink);
            senders.add(v2(sink, room));
        }
        List<RecordingSink> readerSinks = new ArrayList<>();
        List<ClientConnection> readers = new ArrayList<>();
        for (int r = 0; r < 4; r++) {
            RecordingSink sink = sink();
            readerSinks.add(sink);
            readers.add(v2(sink, ""));
        }
        int perRoom = 150;
        ThreadLocalRandom random = ThreadLocalRandom.current();
        for (int i = 1; i <= perRoom; i++) {
            for (int s = 0; s < senders.size(); s++) {
                hub.receive(senders.get(s), chat(roomNames.get(s), "m" + i, roomNames.get(s) + "-" + i));
            }
            if (i % 10 == 0) {
                for (ClientConnection reader : readers) {
                    String room = roomNames.get(random.nextInt(roomNames.size()));
                    hub.receive(reader, random.nextBoolean()
                            ? "{\"type\":\"join\",\"room\":\"" + room + "\"}"
                            : "{\"type\":\"leave\",\"room\":\"" + room + "\"}");
                }
            }
        }
        for (int s = 0; s < senders.size(); s++) {
            senderSinks.get(s).awaitFrame(ack(roomNames.get(s) + "-" + perRoom));
        }
        for (ClientConnection reader : readers) {
            hub.receive(reader, "{\"type\":\"rooms\"}");
        }
        for (RecordingSink sink : readerSinks) {
            List<JsonNode> frames = sink.awaitFrame(frame -> frame.path("type").asText().equals("rooms"));
            for (String room : roomNames) {
                // Every join is from 0: its replay starts at 1, and after left nothing comes until the next one.
                long expected = 0;
                for (JsonNode frame : frames) {
                    if (!frame.path("room").asText().equals(room)) {
                        continue;
                    }
                    String type = frame.path("type").asText();
                    if (type.equals("chat message")) {
                        assertEquals(expected + 1, frame.path("offset").asLong(),
                                room + ": a gap, a duplicate, or a message after left: " + frame);
                        expected++;
                    } else if (type.equals("left")) {
                        expected = 0;
                    } else if (type.equals("error")) {
                        String code = frame.path("code").asText();
                        assertTrue(code.equals("already-joined") || code.equals("not-joined"), frame.toString());
                    }
                }
            }
        }
    }

    private static JsonNode last(RecordingSink sink, Predicate<JsonNode> matching) throws InterruptedException {
        List<JsonNode> frames = sink.awaitFrame(matching);
        return frames.stream().filter(matching).reduce((first, second) -> second).orElseThrow();
    }
}
