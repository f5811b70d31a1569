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

import java.net.URI;
import java.net.URL;
import java.util.Map;
import java.util.UUID;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Presence and typing over real sockets (docs/PROTOCOL.md, Presence): two tabs of one person count once, tabs
 * dropped abruptly and a reconnect within the grace period (2 s here) are no news to the others, typing is
 * forwarded once however fast it comes, and a person who is gone is reported left once the grace period is over.
 */
@ExtendWith(ArquillianExtension.class)
class PresenceIT {

    private static final long GRACE_MILLIS = 2_000;

    @Deployment(testable = false)
    static WebArchive war() {
        return ChatWar.packagedAs("chat-presence.war", "presence-chat.db",
                Map.of("chat.presenceGraceSeconds", String.valueOf(GRACE_MILLIS / 1000)));
    }

    @ArquillianResource
    private URL deployed;

    /** Connects {@code name} to {@code room} and returns once it has been told who is there. */
    private RawWebSocket arrive(String room, String name) throws Exception {
        RawWebSocket tab = RawWebSocket.open(URI.create(deployed.toString()), "?room=" + room + "&name=" + name);
        tab.readTimeout(java.time.Duration.ofSeconds(10));
        JsonNode frame;
        while (!(frame = tab.nextText()).path("type").asText().equals("presence")) {
            assertEquals("synced", frame.path("type").asText(), "a new room replays nothing");
        }
        return tab;
    }

    private static String describe(JsonNode frame) {
        StringBuilder text = new StringBuilder(frame.path("type").asText());
        for (String field : new String[] {"online", "joined", "left"}) {
            frame.path(field).forEach(person -> text.append(' ').append(field).append(':')
                    .append(person.path("author").asText()));
        }
        if (frame.has("author")) {
            text.append(' ').append(frame.path("author").asText());
        }
        if (frame.has("text")) {
            text.append(' ').append(frame.path("text").asText());
        }
        return text.toString();
    }

    @Test
    void tabsAndAQuickReconnectAreNoNewsTypingComesOnceAndLeftFollowsTheGracePeriod() throws Exception {
        String room = "presence-" + UUID.randomUUID().toString().substring(0, 8);
        try (RawWebSocket bob = arrive(room, "Bob")) {
            RawWebSocket ada1 = arrive(room, "Ada");
            assertEquals("presence joined:Ada", describe(bob.nextText()));
            RawWebSocket ada2 = arrive(room, "Ada");
            ada1.abort();
            ada2.abort();
            try (RawWebSocket ada3 = arrive(room, "Ada")) {
                Thread.sleep(GRACE_MILLIS + 1_000);
                for (int i = 0; i < 3; i++) {
                    ada3.sendText("{\"type\":\"typing\",\"room\":\"" + room + "\"}");
                }
                ada3.sendText("{\"type\":\"chat message\",\"room\":\"" + room + "\",\"text\":\"done\",\"clientOffset\":\"k-"
                        + room + "\"}");
                assertEquals("typing Ada", describe(bob.nextText()), "Ada's tabs and reconnect were no news to Bob");
                assertEquals("chat message Ada done", describe(bob.nextText()), "typing came once");
                ada3.closeCleanly();
            }
            long closed = System.nanoTime();
            assertEquals("presence left:Ada", describe(bob.nextText()));
            long waitedMillis = (System.nanoTime() - closed) / 1_000_000;
            assertEquals(true, waitedMillis >= GRACE_MILLIS - 500, "left after the grace period, not " + waitedMillis + " ms");
        }
    }
}
