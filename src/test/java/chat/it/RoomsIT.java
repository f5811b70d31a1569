package chat.it;

import chat.testsupport.ChatClient;
import chat.testsupport.ChatWar;
import com.fasterxml.jackson.databind.JsonNode;
import jakarta.websocket.CloseReason;
import org.jboss.arquillian.container.test.api.Deployment;
import org.jboss.arquillian.junit5.ArquillianExtension;
import org.jboss.arquillian.test.api.ArquillianResource;
import org.jboss.shrinkwrap.api.spec.WebArchive;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.net.URI;
import java.net.URL;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Protocol v2 (rooms, docs/PROTOCOL.md) against the packaged WAR in Tomcat over real sockets: the handshake's room,
 * a message reaching only its room with an ack naming it, join and leave, history, the rooms list, and a bad room
 * name in the handshake refused like a bad offset. Room names are new for each test: the database outlives a
 * run of the class.
 */
@ExtendWith(ArquillianExtension.class)
class RoomsIT {

    /**
     * A database of its own: the v1 contract tests read the shared one's rows as the offsets of general, which they
     * are while it holds no other room.
     */
    @Deployment(testable = false)
    static WebArchive war() {
        return ChatWar.packagedAs("chat-rooms.war", "rooms-chat.db", Map.of());
    }

    @ArquillianResource
    private URL deployed;

    private URI base() throws Exception {
        return deployed.toURI();
    }

    private static String newRoom(String name) {
        return name + "-" + UUID.randomUUID().toString().substring(0, 8);
    }

    /** Skips frames until one of {@code type} about {@code room}. */
    private static JsonNode next(ChatClient client, String type, String room) throws InterruptedException {
        while (true) {
            JsonNode frame = client.next();
            if (frame.path("type").asText().equals(type) && frame.path("room").asText().equals(room)) {
                return frame;
            }
        }
    }

    /** Sends {@code count} messages to {@code room}, one at a time, each once acknowledged. */
    private static void store(ChatClient sender, String room, int count) throws Exception {
        for (int i = 1; i <= count; i++) {
            sender.sendRaw(chat(room, "m" + i, room + "-" + i));
            next(sender, "ack", room);
        }
    }

    private static String chat(String room, String text, String clientOffset) {
        return "{\"type\":\"chat message\",\"room\":\"" + room + "\",\"text\":\"" + text + "\",\"clientOffset\":\""
                + clientOffset + "\"}";
    }

    @Test
    void aMessageReachesItsRoomOnlyWithItsOwnOffsetAndAnAckNamingTheRoom() throws Exception {
        String ops = newRoom("ops");
        String dev = newRoom("dev");
        try (ChatClient sender = ChatClient.connectRaw(base(), "?room=" + ops);
             ChatClient reader = ChatClient.connectRaw(base(), "?room=" + ops);
             ChatClient elsewhere = ChatClient.connectRaw(base(), "?room=" + dev)) {
            assertEquals(0, next(sender, "synced", ops).path("offset").asLong());
            next(reader, "synced", ops);
            next(elsewhere, "synced", dev);

            sender.sendRaw(chat(ops, "hello ops", "k-" + ops));
            JsonNode received = next(reader, "chat message", ops);
            assertEquals(1, received.path("offset").asLong(), "a new room counts from 1");
            assertEquals("hello ops", received.path("text").asText());
            JsonNode ack = next(sender, "ack", ops);
            assertEquals("k-" + ops, ack.path("clientOffset").asText());
            assertEquals(1, ack.path("offset").asLong());
            assertNull(elsewhere.poll(Duration.ofSeconds(1)), "nothing of ops reaches a client of dev only");
        }
    }

    @Test
    void joinReplaysAboveTheOffsetAndNothingFollowsLeft() throws Exception {
        String ops = newRoom("ops");
        try (ChatClient sender = ChatClient.connectRaw(base(), "?room=" + ops);
             ChatClient reader = ChatClient.connectRaw(base(), "?room=")) {
            next(sender, "synced", ops);
            store(sender, ops, 4);
            reader.sendRaw("{\"type\":\"join\",\"room\":\"" + ops + "\",\"serverOffset\":2}");
            List<Long> replayed = new ArrayList<>();
            JsonNode frame;
            while (!(frame = reader.next()).path("type").asText().equals("synced")) {
                assertEquals(ops, frame.path("room").asText());
                replayed.add(frame.path("offset").asLong());
            }
            assertEquals(List.of(3L, 4L), replayed);
            assertEquals(ops, frame.path("room").asText());
            assertEquals(4, frame.path("offset").asLong());

            reader.sendRaw("{\"type\":\"leave\",\"room\":\"" + ops + "\"}");
            next(reader, "left", ops);
            sender.sendRaw(chat(ops, "after left", ops + "-5"));
            next(sender, "ack", ops);
            assertNull(reader.poll(Duration.ofSeconds(1)), "nothing of a room after left");
        }
    }

    @Test
    void historyAndTheRoomsListWithoutJoining() throws Exception {
        String ops = newRoom("ops");
        try (ChatClient sender = ChatClient.connectRaw(base(), "?room=" + ops);
             ChatClient reader = ChatClient.connectRaw(base(), "?room=")) {
            next(sender, "synced", ops);
            store(sender, ops, 5);
            reader.sendRaw("{\"type\":\"history\",\"room\":\"" + ops + "\",\"before\":5,\"limit\":2}");
            JsonNode page = next(reader, "history", ops);
            assertEquals(2, page.path("messages").size());
            assertEquals(3, page.path("messages").get(0).path("offset").asLong());
            assertEquals("m4", page.path("messages").get(1).path("text").asText());

            reader.sendRaw("{\"type\":\"rooms\"}");
            JsonNode rooms = reader.next("rooms");
            boolean listed = false;
            for (JsonNode room : rooms.path("rooms")) {
                if (room.path("room").asText().equals(ops)) {
                    listed = true;
                    assertEquals(5, room.path("offset").asLong());
                }
            }
            assertTrue(listed, ops + " in " + rooms);
        }
    }

    @Test
    void aBadRoomInTheHandshakeIsAnErrorThenClose1008() throws Exception {
        try (ChatClient client = ChatClient.connectRaw(base(), "?room=Not%20A%20Room")) {
            JsonNode error = client.next("error");
            assertEquals("bad-room", error.path("code").asText());
            CloseReason reason = client.awaitClose();
            assertEquals(CloseReason.CloseCodes.VIOLATED_POLICY.getCode(), reason.getCloseCode().getCode());
        }
    }

    @Test
    void aV1ClientKeepsGettingV1FramesWhileAV2ClientTalksInGeneral() throws Exception {
        long latest = ChatWar.latestOffset(base());
        try (ChatClient v1 = ChatClient.connect(base(), latest);
             ChatClient v2 = ChatClient.connectRaw(base(), "?room=general&serverOffset=" + latest)) {
            v1.awaitSynced();
            next(v2, "synced", "general");
            v2.sendRaw(chat("general", "from v2", "k-" + UUID.randomUUID()));
            JsonNode received = v1.next("chat message");
            assertFalse(received.has("room"), "a v1 frame names no room: " + received);
            assertEquals(3, received.size(), () -> "only type, text and offset: " + received);
            assertEquals("from v2", received.path("text").asText());
        }
    }
}
