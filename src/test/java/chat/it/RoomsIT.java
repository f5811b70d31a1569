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

    @Test
    void aMessageReachesItsRoomOnlyWithItsOwnOffsetAndAnAckNamingTheRoom() throws Exception {
        String ops = newRoom("ops");
        String dev = newRoom("dev");
        try (ChatClient sender = ChatClient.connectRaw(base(), "?room=" + ops);
             ChatClient reader = ChatClient.connectRaw(base(), "?room=" + ops);
             ChatClient elsewhere = ChatClient.connectRaw(base(), "?room=" + dev)) {
            assertEquals(0, sender.next("synced", ops).path("offset").asLong());
            reader.next("synced", ops);
            elsewhere.next("synced", dev);

            sender.sendChatIn(ops, "hello ops", "k-" + ops);
            JsonNode received = reader.next("chat message", ops);
            assertEquals(1, received.path("offset").asLong(), "a new room counts from 1");
            assertEquals("hello ops", received.path("text").asText());
            JsonNode ack = sender.next("ack", ops);
            assertEquals("k-" + ops, ack.path("clientOffset").asText());
            assertEquals(1, ack.path("offset").asLong());
            JsonNode stray;
            while ((stray = elsewhere.poll(Duration.ofSeconds(1))) != null) {
                assertEquals(dev, stray.path("room").asText(), "nothing of ops reaches a client of dev only");
            }
        }
    }

    @Test
    void joinReplaysAboveTheOffsetAndNothingFollowsLeft() throws Exception {
        String ops = newRoom("ops");
        try (ChatClient sender = ChatClient.connectRaw(base(), "?room=" + ops);
             ChatClient reader = ChatClient.connectRaw(base(), "?room=")) {
            sender.next("synced", ops);
            sender.storeIn(ops, "m", 4);
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
            reader.next("left", ops);
            sender.sendChatIn(ops, "after left", ops + "-5");
            sender.next("ack", ops);
            assertNull(reader.poll(Duration.ofSeconds(1)), "nothing of a room after left");
        }
    }

    @Test
    void historyAndTheRoomsListWithoutJoining() throws Exception {
        String ops = newRoom("ops");
        try (ChatClient sender = ChatClient.connectRaw(base(), "?room=" + ops);
             ChatClient reader = ChatClient.connectRaw(base(), "?room=")) {
            sender.next("synced", ops);
            sender.storeIn(ops, "m", 5);
            reader.sendRaw("{\"type\":\"history\",\"room\":\"" + ops + "\",\"before\":5,\"limit\":2}");
            JsonNode page = reader.next("history", ops);
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
    void aClientThatTakesFramesAsLinesGetsItsReplayInRunsOfLinesInOrderAndOthersOneFramePerMessage()
            throws Exception {
        String ops = newRoom("ops");
        try (ChatClient sender = ChatClient.connectRaw(base(), "?room=" + ops)) {
            sender.next("synced", ops);
            sender.storeIn(ops, "line ", 300);
        }
        try (ChatClient lines = ChatClient.connectRaw(base(), "?room=" + ops + "&frames=lines");
             ChatClient single = ChatClient.connectRaw(base(), "?room=" + ops)) {
            ChatClient.Replay asLines = lines.awaitSynced();
            ChatClient.Replay oneByOne = single.awaitSynced();
            assertEquals(300, asLines.messages().size());
            for (int i = 0; i < 300; i++) {
                assertEquals(i + 1, asLines.messages().get(i).path("offset").asLong());
                assertEquals(oneByOne.messages().get(i), asLines.messages().get(i), "the same frame either way");
            }
            assertEquals(300, asLines.syncedOffset());
            assertTrue(lines.messagesOfSeveralFrames() > 0, "the replay's frames went out in runs");
            assertEquals(0, single.messagesOfSeveralFrames(), "one frame per message without frames=lines");

            lines.sendChatIn(ops, "live", ops + "-live");
            assertEquals(301, lines.next("ack", ops).path("offset").asLong());
        }
    }

    @Test
    void anUnknownFramesValueIsAnErrorThenClose1008() throws Exception {
        assertRefused("?room=&frames=json", "bad-frames");
    }

    @Test
    void aBadRoomInTheHandshakeIsAnErrorThenClose1008() throws Exception {
        assertRefused("?room=Not%20A%20Room", "bad-room");
    }

    /** The handshake {@code query} is answered with an error frame of {@code code}, then close 1008. */
    private void assertRefused(String query, String code) throws Exception {
        try (ChatClient client = ChatClient.connectRaw(base(), query)) {
            JsonNode error = client.next("error");
            assertEquals(code, error.path("code").asText());
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
            v2.next("synced", "general");
            v2.sendChatIn("general", "from v2", "k-" + UUID.randomUUID());
            JsonNode received = v1.next("chat message");
            assertFalse(received.has("room"), "a v1 frame names no room: " + received);
            assertEquals(3, received.size(), () -> "only type, text and offset: " + received);
            assertEquals("from v2", received.path("text").asText());
        }
    }

    /**
     * Senders in three rooms while readers join and leave them at random, over real sockets: for each reader and
     * room, every run of messages between a join from 0 and its {@code left} is 1, 2, 3, ... without a gap or a
     * duplicate, and nothing of a room comes between {@code left} and the next join's replay.
     */
    @Test
    void sendersInSeveralRoomsAndReadersJoiningAndLeavingAtRandomGetGaplessStreams() throws Exception {
        List<String> rooms = List.of(newRoom("r1"), newRoom("r2"), newRoom("r3"));
        int perRoom = 60;
        List<ChatClient> senders = new ArrayList<>();
        List<ChatClient> readers = new ArrayList<>();
        try {
            for (String room : rooms) {
                ChatClient sender = ChatClient.connectRaw(base(), "?room=" + room);
                sender.next("synced", room);
                senders.add(sender);
            }
            for (int r = 0; r < 4; r++) {
                readers.add(ChatClient.connectRaw(base(), "?room="));
            }
            java.util.Random random = new java.util.Random(42);
            for (int i = 1; i <= perRoom; i++) {
                for (int s = 0; s < senders.size(); s++) {
                    senders.get(s).sendChatIn(rooms.get(s), "m" + i, rooms.get(s) + "-" + i);
                }
                if (i % 5 == 0) {
                    for (ChatClient reader : readers) {
                        String room = rooms.get(random.nextInt(rooms.size()));
                        reader.sendRaw("{\"type\":\"" + (random.nextBoolean() ? "join" : "leave") + "\",\"room\":\""
                                + room + "\"}");
                    }
                }
            }
            for (int s = 0; s < senders.size(); s++) {
                String last = rooms.get(s) + "-" + perRoom;
                JsonNode ack;
                do {
                    ack = senders.get(s).next("ack", rooms.get(s));
                } while (!ack.path("clientOffset").asText().equals(last));
            }
            for (ChatClient reader : readers) {
                reader.sendRaw("{\"type\":\"rooms\"}");
                java.util.Map<String, Long> expected = new java.util.HashMap<>();
                JsonNode frame;
                while (!(frame = reader.next()).path("type").asText().equals("rooms")) {
                    String room = frame.path("room").asText();
                    switch (frame.path("type").asText()) {
                        case "chat message" -> {
                            long offset = frame.path("offset").asLong();
                            long previous = expected.getOrDefault(room, 0L);
                            assertEquals(previous + 1, offset, room + ": a gap, a duplicate, or a message after left");
                            expected.put(room, offset);
                        }
                        case "left" -> expected.remove(room);
                        case "presence", "typing" -> {
                            // who is in the room: not part of its stream of messages
                        }
                        case "synced" -> assertEquals(expected.getOrDefault(room, 0L), frame.path("offset").asLong(),
                                room + ": synced names the last offset sent");
                        case "error" -> assertTrue(List.of("already-joined", "not-joined")
                                .contains(frame.path("code").asText()), frame.toString());
                        default -> throw new AssertionError("unexpected frame " + frame);
                    }
                }
            }
        } finally {
            for (ChatClient client : senders) {
                client.close();
            }
            for (ChatClient client : readers) {
                client.close();
            }
        }
    }
}
