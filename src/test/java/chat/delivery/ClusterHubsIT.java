package chat.delivery;

import chat.protocol.Author;
import chat.testsupport.PostgresPerClass;
import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import java.util.stream.LongStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Several nodes, one chat: hubs each with a store and pool of their own on one real PostgreSQL, their clients
 * recording sinks. What one node commits reaches the others' clients in offset order, whatever the interleaving.
 */
class ClusterHubsIT {

    @RegisterExtension
    static final PostgresPerClass POSTGRES = new PostgresPerClass("cluster-hubs");

    private static final String LOOPBACK = "127.0.0.1";

    @RegisterExtension
    final Hubs hubs = new Hubs();
    private String url;

    @BeforeEach
    void useAFreshDatabase() throws Exception {
        url = POSTGRES.freshDatabase();
    }

    private ChatHub node() throws Exception {
        return hubs.openOnPostgres(url, POSTGRES.server().user(), POSTGRES.server().password(), Map.of());
    }

    private static ClientConnection inRoom(ChatHub hub, RecordingSink sink, String room, long offset)
            throws InterruptedException {
        ClientConnection connection = hub.connect(LOOPBACK, sink, new Handshake(room, true, offset, null,
                new Author("tester", false)));
        sink.awaitFrame(type("synced", room));
        return connection;
    }

    private static Predicate<JsonNode> type(String type, String room) {
        return frame -> frame.path("type").asText().equals(type) && frame.path("room").asText().equals(room);
    }

    private static Predicate<JsonNode> ack(String clientOffset) {
        return frame -> frame.path("type").asText().equals("ack")
                && frame.path("clientOffset").asText().equals(clientOffset);
    }

    private static Predicate<JsonNode> offset(String room, long offset) {
        return frame -> type("chat message", room).test(frame) && frame.path("offset").asLong() == offset;
    }

    private static List<Long> offsetsIn(List<JsonNode> frames, String room) {
        return frames.stream().filter(type("chat message", room)).map(f -> f.path("offset").asLong()).toList();
    }

    private static String chat(String room, String text, String clientOffset) {
        return "{\"type\":\"chat message\",\"room\":\"" + room + "\",\"text\":\"" + text + "\",\"clientOffset\":\""
                + clientOffset + "\"}";
    }

    private static List<Long> range(long first, long last) {
        return LongStream.rangeClosed(first, last).boxed().toList();
    }

    @Test
    void aMessageCommittedOnOneNodeReachesTheClientsOfTheOthersWithItsOffset() throws Exception {
        ChatHub one = node();
        ChatHub two = node();
        assertEquals(one.epoch(), two.epoch());
        RecordingSink senderSink = hubs.sink();
        ClientConnection sender = inRoom(one, senderSink, "ops", 0);
        RecordingSink readerSink = hubs.sink();
        inRoom(two, readerSink, "ops", 0);

        one.receive(sender, chat("ops", "across", "x-1"));
        JsonNode message = readerSink.awaitFrame(offset("ops", 1)).stream().filter(offset("ops", 1)).findFirst()
                .orElseThrow();
        assertEquals("across", message.path("text").asText());
        assertEquals("tester", message.path("author").asText());
        senderSink.awaitFrame(ack("x-1"));
    }

    @Test
    void sendersOnThreeNodesAtOnceEveryClientGetsEveryOffsetOnceInOrder() throws Exception {
        List<ChatHub> nodes = List.of(node(), node(), node());
        List<RecordingSink> sinks = new ArrayList<>();
        List<ClientConnection> senders = new ArrayList<>();
        for (ChatHub node : nodes) {
            RecordingSink sink = hubs.sink();
            senders.add(inRoom(node, sink, "general", 0));
            sinks.add(sink);
        }
        int perNode = 300;
        for (int i = 0; i < perNode; i++) {
            for (int n = 0; n < nodes.size(); n++) {
                nodes.get(n).receive(senders.get(n), chat("general", "m" + i, "n" + n + "-" + i));
            }
        }
        long total = (long) perNode * nodes.size();
        for (RecordingSink sink : sinks) {
            assertEquals(range(1, total), offsetsIn(sink.awaitFrame(offset("general", total)), "general"));
        }
        // A client joining late on any node is replayed the same, from that node's memory, which holds the other
        // nodes' messages as well as its own; and then live.
        long fromStoreBefore = Replayed.from(hubs.metrics(), "store");
        RecordingSink late = hubs.sink();
        ClientConnection lateConnection = inRoom(nodes.get(2), late, "general", 100);
        nodes.get(0).receive(senders.get(0), chat("general", "after", "after-1"));
        assertEquals(range(101, total + 1), offsetsIn(late.awaitFrame(offset("general", total + 1)), "general"));
        assertTrue(lateConnection.joined().containsKey("general"));
        assertTrue(Replayed.from(hubs.metrics(), "memory") >= total - 100, "replayed from the recovery window");
        assertEquals(fromStoreBefore, Replayed.from(hubs.metrics(), "store"), "nothing of it from the store");
    }

    private static ClientConnection named(ChatHub hub, RecordingSink sink, String name) throws InterruptedException {
        ClientConnection connection = hub.connect(LOOPBACK, sink, new Handshake("ops", true, 0, null,
                new Author(name, false)));
        sink.awaitFrame(type("synced", "ops"));
        return connection;
    }

    /** A presence frame of ops that names {@code name} in {@code field} (online, joined or left). */
    private static Predicate<JsonNode> presence(String field, String name) {
        return frame -> type("presence", "ops").test(frame) && frame.path(field).findValuesAsText("author")
                .contains(name);
    }

    @Test
    void thePeopleOfEveryNodeAreListedTypingCrossesNodesAndALeaveIsReportedEverywhere() throws Exception {
        ChatHub one = node();
        ChatHub two = node();
        RecordingSink adaSink = hubs.sink();
        ClientConnection ada = named(one, adaSink, "ada");
        RecordingSink bobSink = hubs.sink();
        named(two, bobSink, "bob");

        // Bob arrives after ada: he is listed with her by his node as soon as hers hears of her, and she hears of him.
        bobSink.awaitFrame(presence("online", "ada").or(presence("joined", "ada")));
        adaSink.awaitFrame(presence("joined", "bob"));

        one.receive(ada, "{\"type\":\"typing\",\"room\":\"ops\"}");
        JsonNode typing = bobSink.awaitFrame(frame -> frame.path("type").asText().equals("typing")).stream()
                .filter(frame -> frame.path("type").asText().equals("typing")).findFirst().orElseThrow();
        assertEquals("ada", typing.path("author").asText());

        one.receive(ada, "{\"type\":\"leave\",\"room\":\"ops\"}");
        bobSink.awaitFrame(presence("left", "ada"));
    }

    /**
     * A client may come with an offset another node published before this one has: it is no reset, its replay
     * starts there, and this node goes on with what follows. The messages are committed here as another node's
     * would be, but without a notification, and this node polls only every 10 minutes: it has not heard of them.
     */
    @Test
    void aClientWithAnOffsetThisNodeHasNotPublishedYetIsNotReset() throws Exception {
        ChatHub node = hubs.openOnPostgres(url, POSTGRES.server().user(), POSTGRES.server().password(),
                Map.of("chat.db.pollMillis", "600000"));
        RecordingSink first = hubs.sink();
        ClientConnection sender = inRoom(node, first, "general", 0);
        node.receive(sender, chat("general", "before", "before-1"));
        first.awaitFrame(ack("before-1"));
        try (java.sql.Connection other = POSTGRES.server().connect(url);
             java.sql.Statement statement = other.createStatement()) {
            for (int i = 2; i <= 4; i++) {
                statement.execute("UPDATE rooms SET newest = " + i + " WHERE name = 'general'");
                statement.execute("INSERT INTO messages (room_id, room_offset, content, author, verified, created_at)"
                        + " VALUES ((SELECT id FROM rooms WHERE name = 'general'), " + i + ", 'elsewhere', 'eve',"
                        + " false, 0)");
            }
        }
        RecordingSink ahead = hubs.sink();
        ClientConnection client = node.connect(LOOPBACK, ahead, new Handshake("general", true, 4, node.epoch(),
                new Author("tester", false)));
        JsonNode synced = ahead.awaitFrame(type("synced", "general")).stream().filter(type("synced", "general"))
                .findFirst().orElseThrow();
        assertFalse(synced.path("reset").asBoolean(false), synced::toString);
        assertEquals(4, synced.path("offset").asLong());
        node.receive(client, chat("general", "after", "after-1"));
        assertEquals(List.of(5L), offsetsIn(ahead.awaitFrame(ack("after-1")), "general"),
                "the node's own next message, after it published the others' before it");
        assertEquals(range(1, 5), offsetsIn(first.awaitFrame(offset("general", 5)), "general"));
    }

    @Test
    void aClientOffsetResentToAnotherNodeIsAcknowledgedWithTheOriginalRoomAndOffset() throws Exception {
        ChatHub one = node();
        ChatHub two = node();
        RecordingSink first = hubs.sink();
        ClientConnection before = inRoom(one, first, "ops", 0);
        one.receive(before, chat("ops", "filler", "f-1"));
        one.receive(before, chat("ops", "lost ack", "lost-1"));
        first.awaitFrame(ack("lost-1"));

        RecordingSink again = hubs.sink();
        ClientConnection after = inRoom(two, again, "general", 0);
        two.receive(after, "{\"type\":\"join\",\"room\":\"ops\",\"serverOffset\":0}");
        again.awaitFrame(type("synced", "ops"));
        two.receive(after, chat("general", "lost ack", "lost-1"));
        JsonNode ack = again.awaitFrame(ack("lost-1")).stream().filter(ack("lost-1")).findFirst().orElseThrow();
        assertEquals("ops", ack.path("room").asText());
        assertEquals(2, ack.path("offset").asLong());
        two.receive(after, chat("ops", "new", "n-1"));
        assertEquals(range(1, 3), offsetsIn(again.awaitFrame(offset("ops", 3)), "ops"), "stored once");
    }
}
