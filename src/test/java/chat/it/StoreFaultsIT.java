package chat.it;

import chat.testsupport.ChatClient;
import chat.testsupport.ChatWar;
import chat.testsupport.Health;
import chat.testsupport.StockTomcat;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The store refusing writes (README, Operations: "the database read-only or full"), provoked against the WAR in a
 * Tomcat of the test's own ({@link StockTomcat}), which runs without root's file capabilities so that file modes
 * bind it. Each case: a sender gets {@code store-unavailable} with its clientOffset, nothing is acknowledged,
 * stored or broadcast, {@code /health} says 503; once the fault is gone {@code /health} says 200 again by itself and
 * the message sent again is stored once. ChatContractIT covers the third fault, another process's write lock.
 *
 * <ul>
 *   <li>Read-only: Tomcat is stopped, the database files are made {@code 0444} and Tomcat starts on them, as after
 *   a restore with the wrong owner. (A chmod under a running chat changes nothing until the pool opens a new
 *   connection: SQLite keeps the descriptors it opened for writing.)</li>
 *   <li>Disk full: the running Tomcat's RLIMIT_FSIZE is lowered with {@code prlimit} below the end of the
 *   write-ahead log, so every append to it fails with EFBIG (the JVM ignores SIGXFSZ), which SQLite reports as
 *   SQLITE_IOERR_WRITE, as it would ENOSPC as SQLITE_FULL. No mount privileges needed.</li>
 * </ul>
 */
class StoreFaultsIT {

    private static final Duration RECOVERY_TIMEOUT = Duration.ofSeconds(30);
    private static final String PRLIMIT = "/usr/bin/prlimit";
    /** Messages of {@link #PAD_TEXT_LENGTH} characters that grow the log well above Tomcat's own files. */
    private static final int PAD_MESSAGES = 100;
    private static final int PAD_TEXT_LENGTH = 8000;
    private static final String RUN = UUID.randomUUID().toString().substring(0, 8);

    private static StockTomcat tomcat;

    @BeforeAll
    static void startTomcat() throws IOException, InterruptedException {
        tomcat = StockTomcat.create("store-faults").withoutDacOverride();
        tomcat.start();
        assertFileCapabilitiesDropped(tomcat.pid());
    }

    @AfterAll
    static void stopTomcat() {
        if (tomcat != null) {
            tomcat.close();
        }
    }

    @Test
    void aReadOnlyDatabaseAnswersStoreUnavailableAndRecoversOnceWritable() throws Exception {
        ensureRunning();
        String earlier = "ro-" + RUN + "-earlier";
        try (ChatClient client = connectLive(tomcat.uri())) {
            client.sendChat(earlier, earlier);
            client.nextAck();
        }
        tomcat.stop();
        Path database = tomcat.database();
        String clientOffset = "ro-" + RUN + "-refused";
        try {
            setDatabaseMode("r--r--r--");
            assertWriteRefusedWithoutDacOverride(database);
            tomcat.startExpectingHealth(503);
            assertFileCapabilitiesDropped(tomcat.pid());
            URI base = tomcat.uri();
            // Not ChatWar.latestOffset: it wants a healthy chat.
            try (ChatClient sender = ChatClient.connect(base, 0L)) {
                ChatClient.Replay replay = sender.awaitSynced();
                assertTrue(replay.messages().stream().anyMatch(m -> m.path("text").asText().equals(earlier)),
                        "the history is served from the read-only file");
                try (ChatClient watcher = ChatClient.connect(base, replay.syncedOffset())) {
                    watcher.awaitSynced();
                    sender.sendChat(clientOffset, clientOffset);
                    JsonNode error = sender.next("error");
                    assertEquals("store-unavailable", error.path("code").asText(), error::toString);
                    assertEquals(clientOffset, error.path("clientOffset").asText(), error::toString);
                    assertTrue(error.path("message").asText().contains("SQLITE_READONLY"), error::toString);
                    assertEquals(503, health(base).statusCode(), "health while the file is read-only");
                    assertNull(watcher.poll(Duration.ofMillis(300)), "nothing was broadcast");
                    assertNull(sender.poll(Duration.ofMillis(100)), "no ack after the error");
                }
            }
            assertEquals(0, storedCount(base, clientOffset));
        } finally {
            setDatabaseMode("rw-r--r--");
        }
        URI base = tomcat.uri();
        Health.await(base, 200, RECOVERY_TIMEOUT, tomcat::output);
        resendAndExpectStoredOnce(base, clientOffset);
    }

    @Test
    void aFullDiskAnswersStoreUnavailableAndRecoversOnceThereIsRoomAgain() throws Exception {
        ensureRunning();
        // The limit is per file. It must stop both the log from growing and a checkpoint from moving the log into
        // the database file (after which SQLite starts the log from its beginning again, under the limit): the
        // database file gets big (a restart checkpoints the log into it), the log bigger, and the limit is the
        // database file's size.
        padTheLog(tomcat.uri(), "first");
        tomcat.stop();
        tomcat.start();
        URI base = tomcat.uri();
        padTheLog(base, "second");
        Path wal = tomcat.database().resolveSibling(tomcat.database().getFileName() + "-wal");
        long limit = Files.size(tomcat.database());
        assertTrue(Files.size(wal) > limit, () -> "the write-ahead log (" + wal + ") is larger than the database");
        List<Path> ownFiles = tomcatOwnFiles();
        for (Path file : ownFiles) {
            assertTrue(Files.size(file) < limit, () -> file + " is larger than the limit " + limit
                    + ", so Tomcat's own logging would hit it too");
        }
        String clientOffset = "full-" + RUN + "-refused";
        try (ChatClient sender = connectLive(base); ChatClient watcher = connectLive(base)) {
            try {
                setFileSizeLimit(tomcat.pid(), Long.toString(limit));
                sender.sendChat(clientOffset, clientOffset);
                JsonNode error = sender.next("error");
                assertEquals("store-unavailable", error.path("code").asText(), error::toString);
                assertEquals(clientOffset, error.path("clientOffset").asText(), error::toString);
                String message = error.path("message").asText();
                assertTrue(message.contains("SQLITE_IOERR") || message.contains("SQLITE_FULL"), message);
                for (int check = 0; check < 3; check++) {
                    assertEquals(503, health(base).statusCode(), "health while no file may grow (check " + check + ")");
                    Thread.sleep(200);
                }
                assertNull(watcher.poll(Duration.ofMillis(300)), "nothing was broadcast");
                assertNull(sender.poll(Duration.ofMillis(100)), "no ack after the error");
            } finally {
                setFileSizeLimit(tomcat.pid(), "unlimited");
            }
            Health.await(base, 200, RECOVERY_TIMEOUT, tomcat::output);
        }
        assertEquals(0, storedCount(base, clientOffset));
        resendAndExpectStoredOnce(base, clientOffset);
    }

    /** Running and taking writes: an earlier case may have left it stopped, or recovering. */
    private static void ensureRunning() throws Exception {
        if (!tomcat.isRunning()) {
            tomcat.start();
        }
        Health.await(tomcat.uri(), 200, RECOVERY_TIMEOUT, tomcat::output);
    }

    private static ChatClient connectLive(URI base) throws Exception {
        ChatClient client = ChatClient.connect(base, ChatWar.latestOffset(base));
        client.awaitSynced();
        return client;
    }

    private static void resendAndExpectStoredOnce(URI base, String clientOffset) throws Exception {
        try (ChatClient sender = connectLive(base); ChatClient watcher = connectLive(base)) {
            sender.sendChat(clientOffset, clientOffset);
            long offset = sender.nextAck().path("offset").asLong();
            assertEquals(offset, watcher.next("chat message").path("offset").asLong());
        }
        assertEquals(1, storedCount(base, clientOffset));
    }

    /** How many stored messages have this text, from a replay from offset 0. */
    private static long storedCount(URI base, String text) throws Exception {
        try (ChatClient reader = ChatClient.connect(base, 0L)) {
            return reader.awaitSynced().messages().stream().filter(m -> m.path("text").asText().equals(text)).count();
        }
    }

    private static void padTheLog(URI base, String round) throws Exception {
        try (ChatClient client = connectLive(base)) {
            for (int i = 0; i < PAD_MESSAGES; i++) {
                client.sendChat(Character.toString('a' + i % 26).repeat(PAD_TEXT_LENGTH),
                        "pad-" + RUN + "-" + round + "-" + i);
            }
            for (int i = 0; i < PAD_MESSAGES; i++) {
                client.nextAck();
            }
        }
    }

    private static void setDatabaseMode(String permissions) throws IOException {
        Path database = tomcat.database();
        for (String suffix : List.of("", "-wal", "-shm")) {
            Path file = database.resolveSibling(database.getFileName() + suffix);
            if (Files.exists(file)) {
                Files.setPosixFilePermissions(file, PosixFilePermissions.fromString(permissions));
            }
        }
    }

    /** Proves the mode binds: a process without CAP_DAC_OVERRIDE, like the Tomcat, cannot open the file to write. */
    private static void assertWriteRefusedWithoutDacOverride(Path file) throws Exception {
        Process open = new ProcessBuilder(StockTomcat.SETPRIV, StockTomcat.DROP_DAC_CAPABILITIES, "/bin/sh", "-c",
                "exec 3>>\"$1\"", "sh", file.toString()).redirectErrorStream(true).start();
        assertTrue(open.waitFor(20, TimeUnit.SECONDS), "the write-open test did not end");
        String said = new String(open.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertNotEquals(0, open.exitValue(), () -> file + " could be opened for writing without CAP_DAC_OVERRIDE,"
                + " so a read-only mode proves nothing here");
        assertTrue(said.contains("Permission denied"), said);
    }

    /** CAP_DAC_OVERRIDE (bit 1) and CAP_DAC_READ_SEARCH (bit 2) are out of the process's effective set. */
    private static void assertFileCapabilitiesDropped(long pid) throws IOException {
        String status = Files.readString(Path.of("/proc", Long.toString(pid), "status"));
        String effective = status.lines().filter(line -> line.startsWith("CapEff:")).findFirst()
                .orElseThrow(() -> new AssertionError("no CapEff in /proc/" + pid + "/status"));
        long capabilities = Long.parseUnsignedLong(effective.substring("CapEff:".length()).trim(), 16);
        assertEquals(0, capabilities & 0b110, () -> "Tomcat (pid " + pid + ") still has DAC capabilities: " + effective);
    }

    /** Sets the soft RLIMIT_FSIZE of the running process, and checks in /proc that it took. */
    private static void setFileSizeLimit(long pid, String soft) throws Exception {
        Process prlimit = new ProcessBuilder(PRLIMIT, "--pid", Long.toString(pid), "--fsize=" + soft + ":unlimited")
                .redirectErrorStream(true).start();
        assertTrue(prlimit.waitFor(20, TimeUnit.SECONDS), "prlimit did not end");
        String said = new String(prlimit.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, prlimit.exitValue(), () -> "prlimit failed: " + said);
        String limits = Files.readString(Path.of("/proc", Long.toString(pid), "limits"));
        String fileSize = limits.lines().filter(line -> line.startsWith("Max file size")).findFirst().orElse("");
        assertTrue(fileSize.matches("Max file size\\s+" + soft + "\\s+unlimited\\s+bytes\\s*"),
                () -> "RLIMIT_FSIZE of pid " + pid + " is not " + soft + ": " + fileSize);
    }

    /** Files under the Tomcat's base it writes to: its logs and its output. */
    private static List<Path> tomcatOwnFiles() throws IOException {
        List<Path> files = new ArrayList<>();
        try (DirectoryStream<Path> logs = Files.newDirectoryStream(tomcat.base().resolve("logs"))) {
            logs.forEach(files::add);
        }
        assertFalse(files.isEmpty(), "Tomcat has written no logs");
        return files;
    }

    private static HttpResponse<String> health(URI base) throws Exception {
        return ChatWar.get(base.resolve("health"));
    }
}
