package chat.it;

import chat.testsupport.ChatClient;
import chat.testsupport.ChatWar;
import chat.testsupport.Health;

import com.fasterxml.jackson.databind.JsonNode;
import jakarta.websocket.CloseReason;
import jakarta.websocket.DeploymentException;
import org.jboss.arquillian.container.test.api.Deployment;
import org.jboss.arquillian.junit5.ArquillianExtension;
import org.jboss.arquillian.test.api.ArquillianResource;
import org.jboss.shrinkwrap.api.spec.WebArchive;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.net.URI;
import java.net.URL;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The chat's limits, set low through context parameters: origins, connections per address, message rate, text and
 * clientOffset lengths.
 */
@ExtendWith(ArquillianExtension.class)
class LimitsIT {

    private static final String ALLOWED_ORIGIN = "https://app.example.com";

    @Deployment(testable = false)
    static WebArchive war() {
        return ChatWar.packagedAs("chat-limits.war", "limits-chat.db", Map.of(
                "chat.messagesPerSecond", "2",
                "chat.messageBurst", "3",
                "chat.maxConnectionsPerAddress", "3",
                "chat.maxTextLength", "50",
                "chat.maxClientOffsetLength", "40",
                "chat.allowedOrigins", ALLOWED_ORIGIN));
    }

    @ArquillianResource
    private URL deployed;

    private URI base() throws Exception {
        return deployed.toURI();
    }

    private String ownOrigin() throws Exception {
        return "http://" + base().getHost() + ":" + base().getPort();
    }

    @Test
    void aPageOfAnotherOriginIsRefusedTheChatsOwnAndConfiguredOnesAndNonBrowsersAreNot() throws Exception {
        DeploymentException refused = assertThrows(DeploymentException.class,
                () -> ChatClient.connectFrom("https://evil.example", base(), "?serverOffset=0"));
        assertTrue(String.valueOf(refused.getMessage()).contains("403"), refused::getMessage);
        for (String origin : new String[] {ownOrigin(), ALLOWED_ORIGIN, null}) {
            try (ChatClient client = ChatClient.connectFrom(origin, base(), "?serverOffset=" + ChatWar.latestOffset(base()))) {
                client.awaitSynced();
            }
        }
    }

    @Test
    void theFourthConnectionFromOneAddressIsClosedWithTheReasonAndAFreedPlaceCanBeTakenAgain() throws Exception {
        List<ChatClient> clients = new ArrayList<>();
        int openBefore = Health.connections(base());
        try {
            for (int i = 0; i < 3; i++) {
                ChatClient client = ChatClient.connect(base(), ChatWar.latestOffset(base()));
                client.awaitSynced();
                clients.add(client);
            }
            try (ChatClient fourth = ChatClient.connect(base(), 0L)) {
                CloseReason reason = fourth.awaitClose();
                assertEquals(CloseReason.CloseCodes.VIOLATED_POLICY.getCode(), reason.getCloseCode().getCode());
                assertTrue(reason.getReasonPhrase().startsWith("Too many connections from 127.0.0.1"),
                        reason::getReasonPhrase);
            }
            clients.remove(0).close();
            // The client's close returns once its close frame is written; the server frees the place when it has
            // read it, and counts the connection out just before.
            Health.awaitConnections(base(), openBefore + 2, java.time.Duration.ofSeconds(10));
            try (ChatClient again = ChatClient.connect(base(), ChatWar.latestOffset(base()))) {
                again.awaitSynced();
                assertTrue(again.isOpen());
            }
        } finally {
            for (ChatClient client : clients) {
                client.close();
            }
        }
    }

    @Test
    void messagesOverTheRateAreAnsweredRateLimitedAndNotStored() throws Exception {
        String run = UUID.randomUUID().toString().substring(0, 8);
        // The rate belongs to the address, shared with this class's other tests: 1.5 s fill it up again.
        Thread.sleep(1_600);
        long start = ChatWar.latestOffset(base());
        try (ChatClient sender = ChatClient.connect(base(), start)) {
            sender.awaitSynced();
            for (int i = 0; i < 6; i++) {
                sender.sendChat(run + " #" + i, run + "-" + i);
            }
            List<String> acked = new ArrayList<>();
            List<String> limited = new ArrayList<>();
            while (acked.size() + limited.size() < 6) {
                JsonNode frame = sender.next();
                switch (frame.path("type").asText()) {
                    case "ack" -> acked.add(frame.path("clientOffset").asText());
                    case "error" -> {
                        assertEquals("rate-limited", frame.path("code").asText(), frame::toString);
                        limited.add(frame.path("clientOffset").asText());
                    }
                    default -> assertEquals("chat message", frame.path("type").asText(), frame::toString);
                }
            }
            assertEquals(List.of(run + "-0", run + "-1", run + "-2"), acked, "the burst of three is stored");
            assertEquals(List.of(run + "-3", run + "-4", run + "-5"), limited);
        }
        try (ChatClient reader = ChatClient.connect(base(), start)) {
            assertEquals(3, reader.awaitSynced().messages().size(), "nothing over the rate was stored");
        }
        try (ChatClient reconnected = ChatClient.connect(base(), start)) {
            reconnected.awaitSynced();
            for (int i = 6; i < 9; i++) {
                reconnected.sendChat(run + " #" + i, run + "-" + i);
            }
            int answers = 0;
            int refused = 0;
            while (answers < 3) {
                JsonNode frame = reconnected.next();
                String type = frame.path("type").asText();
                if (type.equals("ack") || type.equals("error")) {
                    answers++;
                    refused += type.equals("error") ? 1 : 0;
                }
            }
            assertTrue(refused >= 1, "a new connection from the same address does not get a new burst");
        }
    }

    @Test
    void textAndClientOffsetOverTheirConfiguredLengthsAreRefusedAndNotStored() throws Exception {
        String run = UUID.randomUUID().toString().substring(0, 8);
        String longestOffset = run + "-" + "o".repeat(40 - run.length() - 1);
        Thread.sleep(1_600); // the address's rate, which the rate test may have used up, is full again
        long start = ChatWar.latestOffset(base());
        try (ChatClient sender = ChatClient.connect(base(), start)) {
            sender.awaitSynced();
            sender.sendChat("t".repeat(51), run + "-long-text");
            JsonNode tooLong = sender.next();
            assertEquals("bad-text", tooLong.path("code").asText(), tooLong::toString);
            assertEquals(run + "-long-text", tooLong.path("clientOffset").asText());
            assertTrue(tooLong.path("message").asText().contains("1 to 50 characters"), tooLong::toString);

            sender.sendChat("fits", longestOffset + "x");
            JsonNode badOffset = sender.next();
            assertEquals("bad-client-offset", badOffset.path("code").asText(), badOffset::toString);
            assertTrue(badOffset.path("message").asText().contains("1 to 40"), badOffset::toString);

            sender.sendChat("t".repeat(50), longestOffset);
            assertEquals(start + 1, sender.nextAck().path("offset").asLong());
        }
        try (ChatClient reader = ChatClient.connect(base(), start)) {
            assertEquals(1, reader.awaitSynced().messages().size(), "only the message within both limits was stored");
        }
    }

    @Test
    void aPlainGetOfTheEndpointIsToldToUpgrade() throws Exception {
        assertEquals(426, ChatWar.get(base().resolve("chat")).statusCode());
    }
}
