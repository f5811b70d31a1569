package chat.it;

import chat.testsupport.ChatClient;
import chat.testsupport.StockTomcat;
import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.InputStream;
import java.nio.file.Files;
import java.util.List;
import java.util.Objects;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Upgrading a running chat: a stock Tomcat started on a database file written by the first release (before rooms;
 * see src/test/resources/chat/store/first-release.md) migrates it, and a v1 client that had offset 2 of that
 * epoch is replayed 3 to 5 without a reset, its resend of an old clientOffset is acknowledged with the old offset,
 * and new messages go on from 6; a v2 client finds the same messages in {@code general}.
 */
class MigrationIT {

    private static final String EPOCH = "170b54d1-ea4d-43f6-a1ad-a1dc320fd8ba";

    private StockTomcat tomcat;

    @AfterEach
    void stopTomcat() {
        if (tomcat != null) {
            tomcat.close();
        }
    }

    @Test
    void aFirstReleaseDatabaseIsMigratedAndItsClientsKeepTheirPlace() throws Exception {
        tomcat = StockTomcat.create("migration");
        try (InputStream release = MigrationIT.class.getResourceAsStream("/chat/store/first-release.db")) {
            Files.copy(Objects.requireNonNull(release, "first-release.db on the test class path"), tomcat.database());
        }
        tomcat.start();
        assertTrue(tomcat.output().contains("Migrating the database to schema 2"), tomcat::output);

        try (ChatClient v1 = ChatClient.connectRaw(tomcat.uri(), "?serverOffset=2&epoch=" + EPOCH)) {
            ChatClient.Replay replay = v1.awaitSynced();
            assertEquals(List.of("third \u00e9\ud83d\ude00", "fourth", "fifth"),
                    replay.messages().stream().map(m -> m.path("text").asText()).toList());
            assertEquals(List.of(3L, 4L, 5L), replay.messages().stream().map(m -> m.path("offset").asLong()).toList());
            assertEquals(5, replay.syncedOffset());

            v1.sendChat("fifth", "release-5");
            JsonNode resent = v1.nextAck();
            assertEquals(5, resent.path("offset").asLong(), "a resend is acknowledged with its offset of old");
            assertFalse(resent.has("room"), "a v1 client's frames name no room");
            v1.sendChat("sixth", "after-upgrade-6");
            JsonNode own = v1.next("chat message");
            assertEquals(6, own.path("offset").asLong());
            assertEquals(6, v1.nextAck().path("offset").asLong());
        }
        try (ChatClient v2 = ChatClient.connectRaw(tomcat.uri(), "?room=general&serverOffset=4&epoch=" + EPOCH)) {
            JsonNode fifth = v2.next("chat message");
            assertEquals("general", fifth.path("room").asText());
            assertEquals(5, fifth.path("offset").asLong());
            assertEquals(6, v2.next("chat message").path("offset").asLong());
            JsonNode synced = v2.next("synced");
            assertFalse(synced.has("reset"), "the epoch is kept: " + synced);
            assertEquals(EPOCH, synced.path("epoch").asText());
        }
    }
}
