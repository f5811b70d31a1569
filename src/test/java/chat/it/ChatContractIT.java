package chat.it;

import chat.testsupport.ChatClient;
import chat.testsupport.ChatWar;
import chat.testsupport.RawWebSocket;

import com.fasterxml.jackson.databind.JsonNode;
import jakarta.websocket.CloseReason;
import org.jboss.arquillian.container.test.api.Deployment;
import org.jboss.arquillian.junit5.ArquillianExtension;
import org.jboss.arquillian.test.api.ArquillianResource;
import org.jboss.shrinkwrap.api.spec.WebArchive;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.io.DataInputStream;
import java.net.Socket;
import java.net.URI;
import java.net.URL;
import java.net.http.HttpResponse;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.UUID;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The wire contract of README's "Protocol" section, against the packaged WAR in Tomcat over real sockets. */
@ExtendWith(ArquillianExtension.class)
class ChatContractIT {

    @Deployment(testable = false)
    static WebArchive war() {
        return ChatWar.packaged();
    }

    @ArquillianResource
    private URL deployed;

    private URI base() throws Exception {
        return deployed.toURI();
    }

    private ChatClient connectLive() throws Exception {
        long latest = ChatWar.latestOffset(base());
        ChatClient client = ChatClient.connect(base(), latest);
        ChatClient.Replay replay = client.awaitSynced();
        assertEquals(latest, replay.syncedOffset());
        return client;
    }

    private static String newClientOffset() {
        return "it-" + UUID.randomUUID();
    }

    @Test
    void aMessageIsBroadcastWithItsOffsetToEveryOpenSessionTheSenderIncluded() throws Exception {
        try (ChatClient sender = connectLive(); ChatClient second = connectLive(); ChatClient third = connectLive()) {
            String clientOffset = newClientOffset();
            sender.sendChat("hello, everyone", clientOffset);

            JsonNode own = sender.next("chat message");
            JsonNode ack = sender.next("ack");
            assertEquals(clientOffset, ack.path("clientOffset").asText());
            long offset = ack.path("offset").asLong();
            assertEquals(offset, own.path("offset").asLong());
            assertEquals("hello, everyone", own.path("text").asText());
            for (ChatClient other : List.of(second, third)) {
                JsonNode received = other.next("chat message");
                assertEquals(offset, received.path("offset").asLong());
                assertEquals("hello, everyone", received.path("text").asText());
                assertEquals(3, received.size(), () -> "only type, text and offset: " + received);
            }
        }
    }

    @Test
    void theAckComesOnlyOnceTheRowIsCommitted() throws Exception {
        try (ChatClient sender = connectLive(); Connection db = ChatWar.database()) {
            for (int i = 0; i < 20; i++) {
                String clientOffset = newClientOffset();
                sender.sendChat("durable " + i, clientOffset);
                JsonNode ack = sender.nextAck();
                try (PreparedStatement find = db.prepareStatement(
                        "SELECT room_offset, content FROM messages WHERE client_offset = ?")) {
                    find.setString(1, clientOffset);
                    try (ResultSet row = find.executeQuery()) {
                        assertTrue(row.next(), "a row exists when its ack arrives");
                        assertEquals(ack.path("offset").asLong(), row.getLong(1));
                        assertEquals("durable " + i, row.getString(2));
                    }
                }
            }
        }
    }

    @Test
    void aRepeatedClientOffsetGetsTheStoredOffsetAndNoSecondRowOrBroadcastAndAnotherTextAConflict() throws Exception {
        try (ChatClient sender = connectLive(); ChatClient watcher = connectLive(); Connection db = ChatWar.database()) {
            String clientOffset = newClientOffset();
            sender.sendChat("only once", clientOffset);
            long first = sender.nextAck().path("offset").asLong();
            sender.sendChat("only once", clientOffset);
            assertEquals(first, sender.nextAck().path("offset").asLong());
            sender.sendChat("only once, but edited", clientOffset);
            JsonNode conflict = sender.next("error");
            assertEquals("client-offset-conflict", conflict.path("code").asText(), conflict::toString);
            assertEquals(clientOffset, conflict.path("clientOffset").asText());

            String marker = newClientOffset();
            sender.sendChat("marker", marker);
            long markerOffset = sender.nextAck().path("offset").asLong();

            assertEquals(first, watcher.next("chat message").path("offset").asLong());
            JsonNode afterIt = watcher.next("chat message");
            assertEquals(markerOffset, afterIt.path("offset").asLong(), "no second broadcast before the marker");
            assertEquals(1, count(db, "SELECT COUNT(*) FROM messages WHERE client_offset = '" + clientOffset + "'"));
        }
    }

    @Test
    void aReconnectingClientIsReplayedExactlyWhatItMissedThenSynced() throws Exception {
        try (ChatClient sender = connectLive()) {
            ChatClient reader = connectLive();
            sender.sendChat("seen live", newClientOffset());
            long seen = sender.nextAck().path("offset").asLong();
            assertEquals(seen, reader.next("chat message").path("offset").asLong());
            reader.close();

            List<Long> missed = new ArrayList<>();
            for (int i = 0; i < 5; i++) {
                sender.sendChat("missed " + i, newClientOffset());
                missed.add(sender.nextAck().path("offset").asLong());
            }

            try (ChatClient back = ChatClient.connect(base(), seen)) {
                ChatClient.Replay replay = back.awaitSynced();
                assertEquals(missed, replay.messages().stream().map(m -> m.path("offset").asLong()).toList());
                assertEquals("missed 0", replay.messages().get(0).path("text").asText());
                assertEquals(missed.get(missed.size() - 1), replay.syncedOffset());

                sender.sendChat("live again", newClientOffset());
                long live = sender.nextAck().path("offset").asLong();
                assertEquals(live, back.next("chat message").path("offset").asLong());
            }
        }
    }

    @Test
    void aClientFromOffsetZeroOrWithoutAnOffsetIsReplayedTheWholeHistory() throws Exception {
        try (ChatClient sender = connectLive()) {
            sender.sendChat("history exists", newClientOffset());
            sender.nextAck();
        }
        List<Long> stored = new ArrayList<>();
        try (Connection db = ChatWar.database(); Statement statement = db.createStatement();
             ResultSet rows = statement.executeQuery("SELECT room_offset FROM messages WHERE room_id ="
                     + " (SELECT id FROM rooms WHERE name = 'general') ORDER BY room_offset")) {
            while (rows.next()) {
                stored.add(rows.getLong(1));
            }
        }
        for (Long serverOffset : new Long[] {0L, null}) {
            try (ChatClient client = ChatClient.connect(base(), serverOffset)) {
                ChatClient.Replay replay = client.awaitSynced();
                List<Long> replayed = replay.messages().stream().map(m -> m.path("offset").asLong()).toList();
                assertEquals(stored, replayed.subList(0, stored.size()));
                assertEquals(replayed.get(replayed.size() - 1), replay.syncedOffset());
            }
        }
    }

    @Test
    void aClientAheadOfTheStoreIsReplayedEverythingFlaggedResetAndThenGetsLiveMessages() throws Exception {
        long latest = ChatWar.latestOffset(base());
        try (ChatClient client = ChatClient.connect(base(), latest + 1_000); ChatClient sender = connectLive()) {
            List<JsonNode> frames = new ArrayList<>();
            JsonNode frame;
            while (!(frame = client.next()).path("type").asText().equals("synced")) {
                frames.add(frame);
            }
            assertTrue(frame.path("reset").asBoolean(), () -> "synced says reset");
            assertEquals(latest, frame.path("offset").asLong());
            assertEquals(latest, frames.size(), "every stored message, from the first");

            sender.sendChat("after the reset", newClientOffset());
            long offset = sender.nextAck().path("offset").asLong();
            assertEquals(offset, client.next("chat message").path("offset").asLong());
        }
    }

    @Test
    void syncedNamesTheStoresEpochAndAClientFromAnotherEpochIsReplayedEverythingFlaggedReset() throws Exception {
        String epoch;
        try (ChatClient first = ChatClient.connect(base(), ChatWar.latestOffset(base()))) {
            epoch = first.awaitSyncedFrame().path("epoch").asText();
            first.sendChat("so that the store is not empty", newClientOffset());
            first.nextAck();
        }
        assertFalse(epoch.isBlank());
        long latest = ChatWar.latestOffset(base());
        try (ChatClient same = ChatClient.connectRaw(base(), "?serverOffset=" + latest + "&epoch=" + epoch)) {
            JsonNode synced = same.awaitSyncedFrame();
            assertEquals(epoch, synced.path("epoch").asText());
            assertTrue(synced.path("reset").isMissingNode(), synced::toString);
        }
        try (ChatClient other = ChatClient.connectRaw(base(), "?serverOffset=" + latest + "&epoch=another-database")) {
            ChatClient.Replay replay = other.awaitSynced();
            assertEquals(latest, replay.messages().size(), "the whole history, from the first message");
            assertEquals(latest, replay.syncedOffset());
        }
    }

    @Test
    void badFramesGetTheirErrorCodeAndTheConnectionKeepsServing() throws Exception {
        String longOffset = "k".repeat(129);
        String[][] cases = {
                {"{", "bad-json"},
                {"[1,2]", "bad-json"},
                {"{\"type\":\"chat message\",\"text\":\"a\"} {}", "bad-json"},
                {"{\"type\":\"chat message\",\"type\":\"chat message\",\"text\":\"a\"}", "bad-json"},
                {"{\"text\":\"no type\"}", "bad-type"},
                {"{\"type\":\"shout\",\"text\":\"a\"}", "bad-type"},
                {"{\"type\":\"chat message\",\"text\":5}", "bad-text"},
                {"{\"type\":\"chat message\",\"text\":\"\"}", "bad-text"},
                {"{\"type\":\"chat message\",\"text\":\"a\",\"clientOffset\":\"\"}", "bad-client-offset"},
                {"{\"type\":\"chat message\",\"text\":\"a\",\"clientOffset\":\"" + longOffset + "\"}", "bad-client-offset"},
                {"{\"type\":\"chat message\",\"text\":\"a\",\"clientOffset\":7}", "bad-client-offset"},
        };
        try (ChatClient client = connectLive()) {
            for (String[] badCase : cases) {
                client.sendRaw(badCase[0]);
                JsonNode error = client.next("error");
                assertEquals(badCase[1], error.path("code").asText(), () -> "for " + badCase[0]);
                assertFalse(error.path("message").asText().isBlank());
            }
            String clientOffset = newClientOffset();
            client.sendChat("still here", clientOffset);
            assertEquals(clientOffset, client.nextAck().path("clientOffset").asText());
        }
    }

    @Test
    void aBadServerOffsetGetsBadOffsetThenClose1008() throws Exception {
        for (String query : List.of("?serverOffset=-1", "?serverOffset=abc", "?serverOffset=",
                "?serverOffset=99999999999999999999", "?serverOffset=1&serverOffset=2")) {
            try (ChatClient client = ChatClient.connectRaw(base(), query)) {
                JsonNode error = client.next("error");
                assertEquals("bad-offset", error.path("code").asText(), query);
                CloseReason reason = client.awaitClose();
                assertEquals(CloseReason.CloseCodes.VIOLATED_POLICY.getCode(), reason.getCloseCode().getCode(), query);
            }
        }
        try (ChatClient healthy = connectLive()) {
            assertTrue(healthy.isOpen());
        }
    }

    @Test
    void aFrameOverTheMaximumSizeCloses1009() throws Exception {
        try (ChatClient client = connectLive()) {
            client.sendChat("x".repeat(70_000), newClientOffset());
            assertEquals(CloseReason.CloseCodes.TOO_BIG.getCode(), client.awaitClose().getCloseCode().getCode());
        }
    }

    @Test
    void aFrameOverTheMaximumInUtf8BytesCloses1009EvenWithFewerCharacters() throws Exception {
        try (ChatClient client = connectLive(); Connection db = ChatWar.database()) {
            String clientOffset = newClientOffset();
            String euros = "\u20ac".repeat(25_000);
            client.sendRaw("{\"type\":\"chat message\",\"text\":\"padded\",\"clientOffset\":\"" + clientOffset
                    + "\",\"pad\":\"" + euros + "\"}");
            assertEquals(CloseReason.CloseCodes.TOO_BIG.getCode(), client.awaitClose().getCloseCode().getCode());
            assertEquals(0, count(db, "SELECT COUNT(*) FROM messages WHERE client_offset = '" + clientOffset + "'"));
        }
    }

    @Test
    void aBinaryFrameCloses1003() throws Exception {
        try (ChatClient client = connectLive()) {
            client.sendBinary(new byte[] {1, 2, 3});
            assertEquals(CloseReason.CloseCodes.CANNOT_ACCEPT.getCode(), client.awaitClose().getCloseCode().getCode());
        }
    }

    @Test
    void theStoreFailingAnswersStoreUnavailableAndAcksNothingUntilItRecovers() throws Exception {
        String clientOffset = newClientOffset();
        try (ChatClient sender = connectLive(); ChatClient watcher = connectLive(); Connection lock = ChatWar.database()) {
            ChatWar.refuseWrites(lock);
            sender.sendChat("while locked", clientOffset);
            JsonNode error = sender.next("error");
            assertEquals("store-unavailable", error.path("code").asText());
            assertEquals(clientOffset, error.path("clientOffset").asText());
            assertEquals(503, ChatWar.get(base().resolve("health")).statusCode(), "health while writes are refused");
            ChatWar.takeWrites(lock);
            ChatWar.awaitHealthy(base());
            assertNull(watcher.poll(Duration.ofMillis(200)), "nothing was broadcast");
            assertEquals(0, count(lock, "SELECT COUNT(*) FROM messages WHERE client_offset = '" + clientOffset + "'"));

            sender.sendChat("while locked", clientOffset);
            long offset = sender.nextAck().path("offset").asLong();
            assertEquals(offset, watcher.next("chat message").path("offset").asLong());
            assertEquals(1, count(lock, "SELECT COUNT(*) FROM messages WHERE client_offset = '" + clientOffset + "'"));
        }
    }

    @Test
    void thePageAndItsFilesAreServedWithAStrictContentSecurityPolicy() throws Exception {
        HttpResponse<String> page = ChatWar.get(base());
        assertEquals(200, page.statusCode());
        assertTrue(page.headers().firstValue("Content-Type").orElse("").startsWith("text/html"));
        assertTrue(page.body().contains("id=\"messages\""));
        assertTrue(page.body().contains("<script src=\"chat.js\""));
        assertFalse(page.body().contains("<script>"), "no inline script");
        String policy = page.headers().firstValue("Content-Security-Policy").orElse("");
        assertTrue(policy.contains("script-src 'self'") && policy.contains("default-src 'none'"), policy);
        for (String file : List.of("chat.js", "chat.css")) {
            assertEquals(200, ChatWar.get(base().resolve(file)).statusCode(), file);
        }
    }

    @Test
    void healthAnswers200WithTheLatestOffset() throws Exception {
        HttpResponse<String> health = ChatWar.get(base().resolve("health"));
        assertEquals(200, health.statusCode());
        assertTrue(health.headers().firstValue("Content-Type").orElse("").startsWith("application/json"));
        assertTrue(health.body().contains("\"status\":\"up\""), health.body());
        try (Connection db = ChatWar.database()) {
            assertEquals(count(db, "SELECT COALESCE(MAX(room_offset), 0) FROM messages WHERE room_id ="
                    + " (SELECT id FROM rooms WHERE name = 'general')"), ChatWar.latestOffset(base()));
        }
    }

    @Test
    void metricsCountCommitsAndReplaysFromTheMemoryWindow() throws Exception {
        HttpResponse<String> metrics = ChatWar.get(base().resolve("metrics"));
        assertEquals(200, metrics.statusCode());
        String contentType = metrics.headers().firstValue("Content-Type").orElse("").replace(" ", "");
        assertTrue(contentType.startsWith("text/plain;version=0.0.4"), contentType);
        double committed = ChatWar.metric(base(), "chat_messages_committed_total");
        double fromMemory = ChatWar.metric(base(), "chat_replayed_messages_total{source=\"memory\"}");
        double fromStore = ChatWar.metric(base(), "chat_replayed_messages_total{source=\"store\"}");
        long before;
        try (ChatClient sender = connectLive()) {
            before = ChatWar.latestOffset(base());
            for (int i = 0; i < 3; i++) {
                sender.sendChat("counted " + i, newClientOffset());
                sender.nextAck();
            }
            assertEquals(1, ChatWar.metric(base(), "chat_connections"));
        }
        assertEquals(committed + 3, ChatWar.metric(base(), "chat_messages_committed_total"));

        try (ChatClient returning = ChatClient.connect(base(), before)) {
            assertEquals(3, returning.awaitSynced().messages().size());
        }
        assertEquals(fromMemory + 3, ChatWar.metric(base(), "chat_replayed_messages_total{source=\"memory\"}"));
        assertEquals(fromStore, ChatWar.metric(base(), "chat_replayed_messages_total{source=\"store\"}"),
                "a replay inside the recovery window reads nothing from the store");
        assertTrue(ChatWar.metric(base(), "jvm_memory_used_bytes{area=\"heap\"}") > 0);
    }

    @Test
    void theHandshakeTurnsDownCompression() throws Exception {
        long latest = ChatWar.latestOffset(base());
        try (Socket socket = new Socket(base().getHost(), base().getPort())) {
            socket.setSoTimeout(10_000);
            String head = RawWebSocket.handshake(socket, new DataInputStream(socket.getInputStream()), base(),
                    "?serverOffset=" + latest, "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n");
            assertTrue(head.startsWith("HTTP/1.1 101"), head);
            assertFalse(head.toLowerCase(Locale.ROOT).contains("sec-websocket-extensions"), head);
        }
    }

    private static long count(Connection db, String sql) throws Exception {
        try (Statement statement = db.createStatement(); ResultSet result = statement.executeQuery(sql)) {
            result.next();
            return result.getLong(1);
        }
    }
}
