package chat.it;

import chat.testsupport.ChatWar;
import chat.testsupport.RawWebSocket;

import com.fasterxml.jackson.databind.JsonNode;
import org.jboss.arquillian.container.test.api.Deployment;
import org.jboss.arquillian.junit5.ArquillianExtension;
import org.jboss.arquillian.test.api.ArquillianResource;
import org.jboss.shrinkwrap.api.spec.WebArchive;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.net.InetAddress;
import java.net.URL;
import java.util.Map;
import java.util.UUID;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code chat.trustedUserHeader} behind an SSO proxy: the header names a verified author when the handshake comes
 * from {@code chat.trustedProxies} (here 127.0.0.1, as nginx on the same host), and is ignored from any other
 * address (127.0.0.2, a client setting the header itself), which then gets its chosen name, unverified.
 */
@ExtendWith(ArquillianExtension.class)
class TrustedHeaderIT {

    @Deployment(testable = false)
    static WebArchive war() {
        return ChatWar.packagedAs("chat-sso.war", "sso-chat.db", Map.of("chat.trustedUserHeader", "X-Forwarded-User",
                "chat.trustedProxies", "127\\.0\\.0\\.1"));
    }

    @ArquillianResource
    private URL deployed;

    /** The author of the message a client sends from {@code from} with the header naming "ada" and ?name=mallory. */
    private JsonNode authorOfAMessageFrom(String from) throws Exception {
        String room = "sso-" + UUID.randomUUID().toString().substring(0, 8);
        try (RawWebSocket client = RawWebSocket.open(deployed.toURI(), "?room=" + room + "&name=mallory", 0, 0,
                InetAddress.getByName(from), "X-Forwarded-User: ada\r\n")) {
            JsonNode frame;
            while (!(frame = client.nextText()).path("type").asText().equals("synced")) {
                // nothing is stored in a new room
            }
            client.sendText("{\"type\":\"chat message\",\"room\":\"" + room + "\",\"text\":\"hi\",\"clientOffset\":\"k-"
                    + room + "\"}");
            while (!(frame = client.nextText()).path("type").asText().equals("chat message")) {
                // an ack may not come first, but nothing else does
            }
            return frame;
        }
    }

    @Test
    void theHeaderFromTheTrustedProxyNamesAVerifiedAuthorAndANameGivenBesideItIsIgnored() throws Exception {
        JsonNode message = authorOfAMessageFrom("127.0.0.1");
        assertEquals("ada", message.path("author").asText());
        assertTrue(message.path("verified").asBoolean());
    }

    @Test
    void theHeaderFromAnyOtherAddressIsIgnored() throws Exception {
        JsonNode message = authorOfAMessageFrom("127.0.0.2");
        assertEquals("mallory", message.path("author").asText(), "the name the client chose, not the header's");
        assertFalse(message.path("verified").asBoolean());
    }
}
