package chat.delivery;

import chat.protocol.Author;
import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Presence and typing in the chat core: who is in a room after {@code synced} and as it changes, one person with
 * several connections counted once, no flap on a quick reconnect, {@code left} at once on a leave, counts past
 * {@code chat.presenceMax}, typing forwarded to the others at most once per person in 2 s, and nothing of it for
 * v1 clients.
 */
class PresenceTest {

    private static final String LOOPBACK = "127.0.0.1";
    private static final Author ADA = new Author("Ada", true);
    private static final Author BOB = new Author("Bob", false);
    private static final Author CY = new Author("Cy", false);

    @TempDir
    Path directory;

    @RegisterExtension
    final Hubs hubs = new Hubs();
    private ChatHub hub;

    private void hub(Map<String, String> settings) throws Exception {
        hub = hubs.open(directory, settings);
    }

    /** A connection's sink and the connection, once it has been told who is in {@code room}. */
    private record Tab(RecordingSink sink, ClientConnection connection) {
    }

    private Tab arrive(Author person, String room) throws InterruptedException {
        RecordingSink sink = hubs.sink();
        ClientConnection connection = hub.connect(LOOPBACK, sink, new Handshake(room, true, 0, null, person));
        sink.awaitFrame(presence(room, "online").or(presence(room, "count")));
        return new Tab(sink, connection);
    }

    private static Predicate<JsonNode> presence(String room, String field) {
        return frame -> frame.path("type").asText().equals("presence") && frame.path("room").asText().equals(room)
                && frame.has(field);
    }

    private static List<JsonNode> presenceFrames(RecordingSink sink) {
        return sink.frames().stream().filter(frame -> frame.path("type").asText().equals("presence")).toList();
    }

    private static String people(JsonNode frame, String field) {
        List<String> names = new ArrayList<>();
        frame.path(field).forEach(person -> names.add(person.path("author").asText()
                + (person.path("verified").asBoolean() ? "✓" : "")));
        return String.join(",", names);
    }

    @Test
    void twoTabsOfOnePersonCountOnceAndAQuickReconnectDoesNotFlap() throws Exception {
        hub(Map.of("chat.presenceGraceSeconds", "1"));
        Tab ada1 = arrive(ADA, "ops");
        JsonNode first = presenceFrames(ada1.sink()).get(0);
        assertEquals("Ada✓", people(first, "online"));
        assertEquals("Ada", first.path("you").path("author").asText());
        assertTrue(first.path("you").path("verified").asBoolean());
        Tab bob = arrive(BOB, "ops");
        assertEquals("Ada✓,Bob", people(presenceFrames(bob.sink()).get(0), "online"));
        JsonNode bobJoined = ada1.sink().awaitFrame(presence("ops", "joined")).stream()
                .filter(presence("ops", "joined")).findFirst().orElseThrow();
        assertEquals("Bob", people(bobJoined, "joined"));
        assertEquals("", people(bobJoined, "left"));

        Tab ada2 = arrive(ADA, "ops");
        assertEquals("Ada✓,Bob", people(presenceFrames(ada2.sink()).get(0), "online"));
        hub.disconnect(ada1.connection());
        hub.disconnect(ada2.connection());
        Tab ada3 = arrive(ADA, "ops"); // back within the grace period
        Thread.sleep(1_500);
        assertEquals(1, presenceFrames(bob.sink()).size(), "Ada's tabs and reconnect are no news to Bob");

        hub.disconnect(ada3.connection());
        JsonNode adaLeft = bob.sink().awaitFrame(presence("ops", "left").and(f -> f.path("left").size() > 0))
                .stream().filter(presence("ops", "left")).findFirst().orElseThrow();
        assertEquals("Ada✓", people(adaLeft, "left"));
        assertTrue(adaLeft.path("you").isMissingNode(), "only the first presence frame says who you are");
        assertEquals("", people(adaLeft, "joined"));
        assertEquals(2, presenceFrames(bob.sink()).size());
    }

    @Test
    void leavingTheRoomIsReportedAtOnceAndClosingAfterTheGracePeriod() throws Exception {
        hub(Map.of("chat.presenceGraceSeconds", "3600"));
        Tab ada = arrive(ADA, "ops");
        Tab bob = arrive(BOB, "ops");
        hub.receive(bob.connection(), "{\"type\":\"leave\",\"room\":\"ops\"}");
        JsonNode bobLeft = ada.sink().awaitFrame(presence("ops", "left").and(f -> f.path("left").size() > 0))
                .stream().filter(presence("ops", "left").and(f -> f.path("left").size() > 0)).findFirst()
                .orElseThrow();
        assertEquals("Bob", people(bobLeft, "left"));
        assertTrue(presenceFrames(bob.sink()).stream().noneMatch(f -> f.path("left").size() > 0),
                "nothing of ops follows Bob's left");
    }

    @Test
    void aRoomWithMorePeopleThanPresenceMaxIsToldTheCountAndTheListAgainOnceBelow() throws Exception {
        hub(Map.of("chat.presenceMax", "2", "chat.presenceGraceSeconds", "0"));
        Tab ada = arrive(ADA, "ops");
        arrive(BOB, "ops");
        Tab cy = arrive(CY, "ops");
        assertEquals(3, presenceFrames(cy.sink()).get(0).path("count").asInt());
        ada.sink().awaitFrame(presence("ops", "count"));
        hub.disconnect(cy.connection());
        List<JsonNode> adaSees = presenceFrames(ada.sink());
        JsonNode again = ada.sink().awaitFrame(presence("ops", "online").and(f -> f.path("online").size() == 2))
                .stream().filter(presence("ops", "online").and(f -> f.path("online").size() == 2)).findFirst()
                .orElseThrow();
        assertEquals("Ada✓,Bob", people(again, "online"));
        assertEquals(List.of("online:Ada✓", "joined:Bob", "count:3", "online:Ada✓,Bob"),
                presenceFrames(ada.sink()).stream().map(PresenceTest::describe).toList(), adaSees.toString());
    }

    @Test
    void aRoomThatOnlyCountsItsPeopleSendsTheCountOncePerSecondNotOnEveryArrival() throws Exception {
        hub(Map.of("chat.presenceMax", "1"));
        Tab ada = arrive(ADA, "ops");
        for (String name : List.of("Bob", "Cy", "Dee", "Eve")) {
            arrive(new Author(name, false), "ops");
        }
        ada.sink().awaitFrame(presence("ops", "count"));
        Thread.sleep(1_500);
        assertEquals(List.of("online:Ada✓", "count:5"),
                presenceFrames(ada.sink()).stream().map(PresenceTest::describe).toList());
    }

    private static String describe(JsonNode frame) {
        if (frame.has("count")) {
            return "count:" + frame.path("count").asInt();
        }
        return frame.has("online") ? "online:" + people(frame, "online") : "joined:" + people(frame, "joined")
                + (frame.path("left").size() > 0 ? " left:" + people(frame, "left") : "");
    }

    @Test
    void typingReachesTheRoomsOtherConnectionsAtMostOnceInTwoSecondsAndIsNotStored() throws Exception {
        hub(Map.of());
        Tab ada = arrive(ADA, "ops");
        Tab bob = arrive(BOB, "ops");
        Tab elsewhere = arrive(CY, "dev");
        for (int i = 0; i < 5; i++) {
            hub.receive(ada.connection(), "{\"type\":\"typing\",\"room\":\"ops\"}");
        }
        Predicate<JsonNode> typing = frame -> frame.path("type").asText().equals("typing");
        JsonNode forwarded = bob.sink().awaitFrame(typing).stream().filter(typing).findFirst().orElseThrow();
        assertEquals("ops", forwarded.path("room").asText());
        assertEquals("Ada", forwarded.path("author").asText());
        assertTrue(forwarded.path("verified").asBoolean());
        assertTrue(forwarded.path("offset").isMissingNode(), "typing has no offset");

        Thread.sleep(2_100);
        hub.receive(ada.connection(), "{\"type\":\"typing\",\"room\":\"ops\"}");
        bob.sink().awaitFrame(frame -> bob.sink().frames().stream().filter(typing).count() == 2);
        hub.receive(ada.connection(), "{\"type\":\"typing\",\"room\":\"dev\"}");
        ada.sink().awaitFrame(frame -> frame.path("code").asText().equals("not-joined"));
        Thread.sleep(200);
        assertEquals(2, bob.sink().frames().stream().filter(typing).count());
        assertEquals(0, ada.sink().frames().stream().filter(typing).count(), "nobody is told their own typing");
        assertEquals(0, elsewhere.sink().frames().stream().filter(typing).count(), "typing stays in its room");
        assertEquals(0, hub.latestOffset());
    }

    @Test
    void v1ClientsAreCountedButNeverToldOfPresenceOrTyping() throws Exception {
        hub(Map.of());
        RecordingSink v1 = hubs.sink();
        ClientConnection old = hub.connect(LOOPBACK, v1, 0, null);
        v1.awaitSynced();
        Tab ada = arrive(ADA, "general");
        assertEquals(2, presenceFrames(ada.sink()).get(0).path("online").size(), "the v1 guest is online");
        hub.receive(ada.connection(), "{\"type\":\"typing\",\"room\":\"general\"}");
        hub.disconnect(ada.connection());
        Thread.sleep(200);
        assertEquals(List.of("synced"), v1.frames().stream().map(f -> f.path("type").asText()).toList());
        assertTrue(old.author().name().startsWith("guest-"));
    }
}
