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
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Authors against the packaged WAR in Tomcat over real sockets (docs/PROTOCOL.md, Authors): the name a client
 * chooses in its handshake, or a guest's, with the commit time, on live, replayed and history frames alike; a bad
 * name refused with {@code bad-name} and close 1008. Rooms are new for each test, in a database of its own.
 */
@ExtendWith(ArquillianExtension.class)
class PeopleIT {

    @Deployment(testable = false)
    static WebArchive war() {
        return ChatWar.packagedAs("chat-people.war", "people-chat.db", Map.of());
    }

    @ArquillianResource
    private URL deployed;

    private URI base() throws Exception {
        return deployed.toURI();
    }

    private static String newRoom() {
        return "people-" + UUID.randomUUID().toString().substring(0, 8);
    }

    @Test
    void aChosenNameAndTheCommitTimeAreOnTheLiveTheReplayedAndTheHistoryFrame() throws Exception {
        String room = newRoom();
        JsonNode live;
        long before = System.currentTimeMillis();
        try (ChatClient ada = ChatClient.connectRaw(base(), "?room=" + room + "&name=%20Ada%20Lovelace%20")) {
            ada.next("synced", room);
            ada.sendChatIn(room, "hello", "k-" + room);
            live = ada.next("chat message", room);
            ada.next("ack", room);
        }
        long after = System.currentTimeMillis();
        assertEquals("Ada Lovelace", live.path("author").asText(), "trimmed");
        assertFalse(live.path("verified").asBoolean(), "chosen, not a login");
        long time = live.path("time").asLong();
        assertTrue(time >= before && time <= after, time + " between " + before + " and " + after);

        try (ChatClient later = ChatClient.connectRaw(base(), "?room=" + room)) {
            assertEquals(live, later.next("chat message", room), "replayed as it was sent");
            later.next("synced", room);
            later.sendRaw("{\"type\":\"history\",\"room\":\"" + room + "\"}");
            assertEquals(live, later.next("history", room).path("messages").get(0), "and in history");
        }
    }

    @Test
    void aClientThatNamesNobodyIsAGuest() throws Exception {
        String room = newRoom();
        try (ChatClient guest = ChatClient.connectRaw(base(), "?room=" + room)) {
            guest.next("synced", room);
            guest.sendChatIn(room, "who am I", "k-" + room);
            JsonNode message = guest.next("chat message", room);
            assertTrue(message.path("author").asText().matches("guest-[a-z0-9]{4}"), message.toString());
            assertFalse(message.path("verified").asBoolean());
        }
    }

    @Test
    void aBadNameIsRefusedWithBadNameThenClosed1008() throws Exception {
        for (String query : List.of("?name=Ada%01", "?name=" + "a".repeat(65), "?name=%20%20", "?name=",
                "?name=Ada&name=Bob", "?name=%E2%80%AEadA")) {
            try (ChatClient client = ChatClient.connectRaw(base(), query)) {
                JsonNode error = client.next("error");
                assertEquals("bad-name", error.path("code").asText(), query + ": " + error);
                CloseReason reason = client.awaitClose();
                assertEquals(CloseReason.CloseCodes.VIOLATED_POLICY.getCode(), reason.getCloseCode().getCode(), query);
            }
        }
    }
}
