package chat.it;

import com.fasterxml.jackson.databind.JsonNode;
import org.jboss.arquillian.container.test.api.Deployment;
import org.jboss.arquillian.junit5.ArquillianExtension;
import org.jboss.shrinkwrap.api.spec.WebArchive;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.net.URI;
import java.net.http.HttpResponse;
import java.util.UUID;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The chat deployed as ROOT.war behind nginx's {@code location /}: the page at {@code /}, its WebSocket at {@code /chat}. */
@ExtendWith(ArquillianExtension.class)
class ProxyRootIT {

    private static Nginx nginx;

    @Deployment(testable = false)
    static WebArchive war() {
        return ChatWar.packagedAsRoot();
    }

    @BeforeAll
    static void startNginx() throws Exception {
        nginx = Nginx.start();
    }

    @AfterAll
    static void stopNginx() {
        if (nginx != null) {
            nginx.close();
        }
    }

    @Test
    void thePageAndTheChatWorkAtTheRootThroughTheProxy() throws Exception {
        URI root = URI.create("http://" + Nginx.LOOPBACK + ':' + nginx.httpPort() + '/');
        HttpResponse<String> page = ChatWar.get(root);
        assertEquals(200, page.statusCode(), page::body);
        assertTrue(page.body().contains("id=\"messages\""), page::body);

        long latest = ChatWar.latestOffset(root);
        try (ChatClient sender = ChatClient.connect(root, latest); ChatClient reader = ChatClient.connect(root, latest)) {
            sender.awaitSynced();
            reader.awaitSynced();
            sender.sendChat("at the root", "root-" + UUID.randomUUID());
            sender.nextAck();
            JsonNode received = reader.next("chat message");
            assertEquals("at the root", received.path("text").asText());
            reader.close();

            sender.sendChat("while the reader is away", "root-" + UUID.randomUUID());
            sender.nextAck();
            try (ChatClient back = ChatClient.connect(root, received.path("offset").asLong())) {
                ChatClient.Replay replay = back.awaitSynced();
                assertEquals(1, replay.messages().size(), () -> "exactly the missed message: " + replay);
                assertEquals("while the reader is away", replay.messages().get(0).path("text").asText());
            }
        }
    }
}
