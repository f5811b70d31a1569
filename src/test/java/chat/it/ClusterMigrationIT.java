package chat.it;

import chat.testsupport.ChatClient;
import chat.testsupport.ChatWar;
import chat.testsupport.Postgres;
import chat.testsupport.StockTomcat;
import chat.testsupport.TestFiles;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

import java.io.File;
import java.lang.ProcessBuilder.Redirect;
import java.net.URI;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Moving a chat from SQLite to PostgreSQL keeps its history, as an operator does it: a stock Tomcat 11 on its
 * embedded SQLite default stores messages in {@code general} (a v1 client) and in two other rooms (v2), whose
 * readers keep each room's last offset and the epoch and go away; more messages follow. The node is stopped with
 * SIGTERM, and {@code chat.store.CopyToPostgres} runs as its own {@code java} process over the node's exploded
 * webapp ({@code WEB-INF/classes} and {@code WEB-INF/lib/*}, from Tomcat's base directory) with a password file,
 * and says it verified the copy. Two stock Tomcat nodes then start at once on that PostgreSQL database and report
 * the old epoch. The old clients reconnect to either node with their offsets and the epoch: no {@code reset}, and
 * each room's replay is exactly the messages they had not seen, the v2 frames equal to those the SQLite node
 * broadcast (text, offset, author, verified, time); a resend of an acknowledged clientOffset, also to another
 * room, is acknowledged with the room and offset stored on the SQLite node; a new message continues each room at
 * its newest + 1 and reaches a client on the other node.
 */
class ClusterMigrationIT {

    private static final String GENERAL = "general";
    private static final String OPS = "ops";
    private static final String INCIDENTS = "incidents";
    private static final List<String> ROOMS = List.of(GENERAL, OPS, INCIDENTS);
    /** What the readers read before they go away, per room, and what is sent after that. */
    private static final Map<String, Integer> SEEN = Map.of(GENERAL, 4, OPS, 4, INCIDENTS, 3);
    private static final Map<String, Integer> UNSEEN = Map.of(GENERAL, 3, OPS, 2, INCIDENTS, 2);
    /** COPY's text format escapes tabs, line breaks and backslashes; and some text beyond ASCII. */
    private static final String AWKWARD = "tab\there, line\nbreak, back\\slash, \\N, \u00e9\ud83d\ude00";
    private static final Duration COPY_TIMEOUT = Duration.ofMinutes(2);
    private static final Duration START_TIMEOUT = Duration.ofMinutes(3);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String RUN = UUID.randomUUID().toString().substring(0, 8);

    private static StockTomcat sqliteNode;
    private static Postgres postgres;
    private static final List<StockTomcat> postgresNodes = new ArrayList<>();
    private static final List<ChatClient> clients = new ArrayList<>();

    @AfterAll
    static void stopEverything() {
        for (ChatClient client : clients) {
            try {
                client.close();
            } catch (Exception e) {
                // the node it was connected to is gone already
            }
        }
        postgresNodes.forEach(StockTomcat::close);
        if (sqliteNode != null) {
            sqliteNode.close();
        }
        if (postgres != null) {
            postgres.close();
        }
    }

    @Test
    void clientsOfTheSqliteNodeReconnectToThePostgresClusterWithoutAResetAndWithoutAGap() throws Exception {
        // 1. One node on its SQLite default; readers that go away, writers that go on.
        sqliteNode = StockTomcat.create("cluster-migration-sqlite");
        sqliteNode.start();
        URI old = sqliteNode.uri();
        String epoch = health(old).path("epoch").asText();
        assertFalse(epoch.isEmpty(), "/health reports the epoch");

        ChatClient v1Reader = open(ChatClient.connect(old, 0L));
        ChatClient v2Reader = open(ChatClient.connectRaw(old, "?room=&name=Rea"));
        ChatClient recorder = open(ChatClient.connectRaw(old, "?room=&name=Rec"));
        ChatClient v1Writer = open(ChatClient.connectRaw(old, "?serverOffset=0&name=Vera"));
        ChatClient v2Writer = open(ChatClient.connectRaw(old, "?room=&name=Ada"));
        // Each reader keeps the epoch its synced named, with its offsets.
        String v1ReaderEpoch = v1Reader.awaitSyncedFrame().path("epoch").asText();
        assertEquals(epoch, v1ReaderEpoch, "the v1 reader's synced names the epoch of /health");
        Map<String, Long> fromStart = Map.of(GENERAL, 0L, OPS, 0L, INCIDENTS, 0L);
        Map<String, Joined> firstJoin = join(v2Reader, fromStart, null);
        String v2ReaderEpoch = firstJoin.get(OPS).synced().path("epoch").asText();
        for (Joined joined : firstJoin.values()) {
            assertEquals(epoch, joined.synced().path("epoch").asText(), () -> "the v2 reader's " + joined.synced());
        }
        join(recorder, fromStart, epoch);
        join(v2Writer, Map.of(OPS, 0L, INCIDENTS, 0L), epoch);
        v1Writer.awaitSynced();

        // clientOffset -> its ack (v2: with the room), and the text it was sent with
        Map<String, JsonNode> acks = new LinkedHashMap<>();
        Map<String, String> texts = new LinkedHashMap<>();
        Map<String, Long> newest = new LinkedHashMap<>();
        ROOMS.forEach(room -> newest.put(room, 0L));
        send(v1Writer, v2Writer, SEEN, "seen", acks, texts, newest);

        // The readers read up to each room's newest offset, remember it with the epoch, and go away.
        Map<String, Long> v2ReaderLast = new LinkedHashMap<>();
        readLive(v2Reader, newest, fromStart, v2ReaderLast);
        long v1ReaderLast = 0;
        while (v1ReaderLast < newest.get(GENERAL)) {
            JsonNode message = v1Reader.next("chat message");
            assertEquals(v1ReaderLast + 1, message.path("offset").asLong(), () -> "the v1 reader got " + message);
            assertFalse(message.has("room"), () -> "a v1 client's frames name no room: " + message);
            v1ReaderLast = message.path("offset").asLong();
        }
        assertEquals(Map.of(GENERAL, 4L, OPS, 4L, INCIDENTS, 3L), v2ReaderLast, "each room counts from 1");
        v1Reader.close();
        v2Reader.close();

        // What they have not seen: the replay after the move must hold exactly this.
        send(v1Writer, v2Writer, UNSEEN, "unseen", acks, texts, newest);
        Map<String, TreeMap<Long, JsonNode>> broadcast = new LinkedHashMap<>();
        readLive(recorder, newest, fromStart, null, broadcast);
        v1Writer.close();
        v2Writer.close();
        recorder.close();
        assertEquals(Map.of(GENERAL, 7L, OPS, 6L, INCIDENTS, 5L), newest, "what the SQLite node stored");
        assertEquals(newest.get(GENERAL), ChatWar.latestOffset(old), "/health's offset is general's newest");

        // 2. The operator stops the node and copies its database with the command shipped in the webapp.
        assertEquals(143, sqliteNode.stop(), () -> "Tomcat's exit code after SIGTERM\n" + sqliteNode.output());
        postgres = Postgres.start("cluster-migration");
        Path webInf = sqliteNode.base().resolve("webapps/ROOT/WEB-INF");
        assertTrue(Files.isRegularFile(webInf.resolve("classes/chat/store/CopyToPostgres.class")),
                () -> "Tomcat exploded the WAR into " + webInf.getParent() + " on its first start");
        assertTrue(jarNames(webInf.resolve("lib")).stream().anyMatch(jar -> jar.startsWith("postgresql-")),
                () -> "the PostgreSQL driver in " + webInf.resolve("lib") + ": " + jarNames(webInf.resolve("lib")));
        Path operator = Path.of(System.getProperty("basedir", ".")).toAbsolutePath()
                .resolve("target/cluster-migration/operator");
        TestFiles.deleteRecursively(operator);
        Files.createDirectories(operator);
        Path passwordFile = operator.resolve("postgres-password");
        Files.writeString(passwordFile, postgres.password() + "\n", StandardCharsets.UTF_8);
        Files.setPosixFilePermissions(passwordFile, PosixFilePermissions.fromString("rw-------"));
        Copy copy = copyToPostgres(operator.resolve("copy.out"), "--from", sqliteNode.database().toString(),
                "--to", postgres.jdbcUrl(), "--user", postgres.user(), "--password-file", passwordFile.toString());
        assertEquals(0, copy.exitCode(), () -> "CopyToPostgres's exit code\n" + copy.output());
        assertTrue(copy.output().contains("Verified: each of the 3 room(s)"),
                () -> "CopyToPostgres says it verified the copy\n" + copy.output());
        assertTrue(copy.output().contains("Copied 3 room(s) and 18 message(s), epoch " + epoch),
                () -> "CopyToPostgres says what it copied\n" + copy.output());

        // 3. Two nodes on PostgreSQL, started at once: both on the old epoch.
        startPostgresNodes(2);
        URI nodeA = postgresNodes.get(0).uri();
        URI nodeB = postgresNodes.get(1).uri();
        for (StockTomcat node : postgresNodes) {
            JsonNode health = health(node.uri());
            assertEquals(epoch, health.path("epoch").asText(), () -> node.uri() + " reports the old epoch: " + health);
            assertEquals(newest.get(GENERAL), health.path("offset").asLong(), () -> node.uri() + ": " + health);
        }

        // 4. The old clients come back, to either node, with their offsets and the epoch.
        v1Reader = open(ChatClient.connectRaw(nodeA, "?serverOffset=" + v1ReaderLast + "&epoch="
                + v1ReaderEpoch));
        List<JsonNode> v1Replay = new ArrayList<>();
        JsonNode synced;
        while (!(synced = v1Reader.next()).path("type").asText().equals("synced")) {
            assertEquals("chat message", synced.path("type").asText(), synced::toString);
            v1Replay.add(synced);
        }
        JsonNode v1Resynced = synced;
        assertFalse(v1Resynced.has("reset"), () -> "the v1 reader's offset is valid in PostgreSQL: " + v1Resynced);
        assertFalse(v1Resynced.has("truncated"), v1Resynced::toString);
        assertEquals(epoch, v1Resynced.path("epoch").asText(), v1Resynced::toString);
        assertEquals(newest.get(GENERAL), v1Resynced.path("offset").asLong(), v1Resynced::toString);
        assertEquals(v1Frames(broadcast.get(GENERAL).tailMap(v1ReaderLast, false)), v1Replay,
                "the v1 reader is replayed exactly general's messages after its offset, as v1 frames");

        v2Reader = open(ChatClient.connectRaw(nodeB, "?room=&name=Rea"));
        Map<String, Joined> rejoined = join(v2Reader, v2ReaderLast, v2ReaderEpoch);
        for (String room : ROOMS) {
            JsonNode roomSynced = rejoined.get(room).synced();
            assertFalse(roomSynced.has("reset"), () -> "the v2 reader's offset of " + room + " is valid: "
                    + roomSynced);
            assertFalse(roomSynced.has("truncated"), roomSynced::toString);
            assertEquals(epoch, roomSynced.path("epoch").asText(), roomSynced::toString);
            assertEquals(newest.get(room), roomSynced.path("offset").asLong(), roomSynced::toString);
            assertEquals(new ArrayList<>(broadcast.get(room).tailMap(v2ReaderLast.get(room), false).values()),
                    rejoined.get(room).replayed(), () -> "the v2 reader is replayed exactly the messages of " + room
                            + " after offset " + v2ReaderLast.get(room) + ", with their authors and times");
        }

        // Resends of acknowledged messages, each to the node its writer did not use before.
        v1Writer = open(ChatClient.connectRaw(nodeB, "?serverOffset=" + newest.get(GENERAL) + "&epoch=" + epoch
                + "&name=Vera"));
        assertTrue(v1Writer.awaitSynced().messages().isEmpty(), "nothing newer than general's newest");
        v2Writer = open(ChatClient.connectRaw(nodeA, "?room=&name=Ada"));
        join(v2Writer, Map.of(OPS, newest.get(OPS), INCIDENTS, newest.get(INCIDENTS)), epoch);
        String generalResent = firstClientOffsetOf(acks, null);
        v1Writer.sendChat(texts.get(generalResent), generalResent);
        JsonNode generalAck = v1Writer.next("ack");
        assertEquals(acks.get(generalResent), generalAck, "a resend to general is acknowledged with its old offset");
        String opsResent = firstClientOffsetOf(acks, OPS);
        v2Writer.sendChatIn(OPS, texts.get(opsResent), opsResent);
        assertEquals(acks.get(opsResent), nextNotPresence(v2Writer),
                "a resend to ops is acknowledged with its room and old offset, and not broadcast again");
        String incidentsResent = firstClientOffsetOf(acks, INCIDENTS);
        v2Writer.sendChatIn(OPS, texts.get(incidentsResent), incidentsResent);
        assertEquals(acks.get(incidentsResent), nextNotPresence(v2Writer),
                "a resend of an incidents message naming ops is acknowledged with incidents and its old offset");

        // New messages: each room goes on at its newest + 1, on both nodes; nothing resent came in between.
        v1Writer.sendChat("general after the move", "after-" + RUN + "-general");
        JsonNode generalOwn = v1Writer.next("chat message");
        assertEquals(newest.get(GENERAL) + 1, generalOwn.path("offset").asLong(), generalOwn::toString);
        JsonNode generalNew = v1Writer.next("ack");
        assertEquals(newest.get(GENERAL) + 1, generalNew.path("offset").asLong(), generalNew::toString);
        JsonNode onOtherNode = v1Reader.next("chat message");
        assertEquals(newest.get(GENERAL) + 1, onOtherNode.path("offset").asLong(),
                () -> "the v1 reader on the other node gets the new message next: " + onOtherNode);
        assertEquals("general after the move", onOtherNode.path("text").asText());
        assertNewMessage(v2Reader, GENERAL, newest.get(GENERAL) + 1, "general after the move", "Vera");
        for (String room : List.of(OPS, INCIDENTS)) {
            String text = room + " after the move";
            v2Writer.sendChatIn(room, text, "after-" + RUN + "-" + room);
            assertNewMessage(v2Writer, room, newest.get(room) + 1, text, "Ada");
            JsonNode ack = nextNotPresence(v2Writer);
            assertEquals("ack", ack.path("type").asText(), ack::toString);
            assertEquals(room, ack.path("room").asText(), ack::toString);
            assertEquals(newest.get(room) + 1, ack.path("offset").asLong(), ack::toString);
            assertNewMessage(v2Reader, room, newest.get(room) + 1, text, "Ada");
        }
        for (StockTomcat node : postgresNodes) {
            assertEquals(newest.get(GENERAL) + 1, ChatWar.latestOffset(node.uri()), () -> node.uri() + "'s /health");
        }
    }

    /**
     * Sends {@code counts} messages per room, one at a time, each once acknowledged: general's from the v1 writer,
     * the other rooms' from the v2 writer, interleaved so that the rooms' commits are too. Records each ack, text
     * and room's newest offset.
     */
    private static void send(ChatClient v1Writer, ChatClient v2Writer, Map<String, Integer> counts, String phase,
                             Map<String, JsonNode> acks, Map<String, String> texts, Map<String, Long> newest)
            throws Exception {
        int most = counts.values().stream().mapToInt(Integer::intValue).max().orElse(0);
        for (int i = 1; i <= most; i++) {
            for (String room : ROOMS) {
                if (i > counts.get(room)) {
                    continue;
                }
                String clientOffset = RUN + "-" + phase + "-" + room + "-" + i;
                String text = room + " " + phase + " " + i + (i == 2 ? ": " + AWKWARD : "");
                JsonNode ack;
                if (room.equals(GENERAL)) {
                    v1Writer.sendChat(text, clientOffset);
                    ack = v1Writer.nextAck();
                } else {
                    v2Writer.sendChatIn(room, text, clientOffset);
                    ack = v2Writer.next("ack", room);
                }
                long offset = newest.get(room) + 1;
                assertEquals(clientOffset, ack.path("clientOffset").asText(), ack::toString);
                assertEquals(offset, ack.path("offset").asLong(), () -> room + "'s next offset: " + ack);
                acks.put(clientOffset, ack);
                texts.put(clientOffset, text);
                newest.put(room, offset);
            }
        }
    }

    /** The first clientOffset acknowledged in {@code room}, or for a v1 ack (no room) in general when null. */
    private static String firstClientOffsetOf(Map<String, JsonNode> acks, String room) {
        return acks.entrySet().stream()
                .filter(ack -> room == null ? !ack.getValue().has("room") : room.equals(ack.getValue().path("room")
                        .asText()))
                .map(Map.Entry::getKey).findFirst().orElseThrow(() -> new AssertionError("no ack of " + room));
    }

    private record Joined(List<JsonNode> replayed, JsonNode synced) {
    }

    /**
     * Joins each room with its offset (and the epoch unless null), and reads until every room's {@code synced}:
     * the chat messages replayed per room, in offset order, and the synced frame.
     */
    private static Map<String, Joined> join(ChatClient client, Map<String, Long> offsets, String epoch)
            throws Exception {
        for (Map.Entry<String, Long> room : offsets.entrySet()) {
            var frame = JSON.createObjectNode().put("type", "join").put("room", room.getKey())
                    .put("serverOffset", room.getValue());
            if (epoch != null) {
                frame.put("epoch", epoch);
            }
            client.sendRaw(frame.toString());
        }
        Map<String, List<JsonNode>> replayed = new LinkedHashMap<>();
        Map<String, Joined> joined = new LinkedHashMap<>();
        offsets.keySet().forEach(room -> replayed.put(room, new ArrayList<>()));
        while (joined.size() < offsets.size()) {
            JsonNode frame = nextNotPresence(client);
            String room = frame.path("room").asText();
            assertTrue(replayed.containsKey(room) && !joined.containsKey(room),
                    () -> "a frame of a room being joined: " + frame);
            String type = frame.path("type").asText();
            if (type.equals("synced")) {
                joined.put(room, new Joined(replayed.get(room), frame));
                continue;
            }
            assertEquals("chat message", type, () -> "before " + room + "'s synced: " + frame);
            List<JsonNode> messages = replayed.get(room);
            long previous = messages.isEmpty() ? offsets.get(room) : messages.get(messages.size() - 1)
                    .path("offset").asLong();
            assertEquals(previous + 1, frame.path("offset").asLong(), () -> "replayed after " + previous + ": "
                    + frame);
            messages.add(frame);
        }
        return joined;
    }

    private static void readLive(ChatClient client, Map<String, Long> newest, Map<String, Long> from,
                                 Map<String, Long> last) throws Exception {
        readLive(client, newest, from, last, new LinkedHashMap<>());
    }

    /**
     * Reads a v2 client's live chat messages until it has each room's newest offset, checking that each room's
     * come one by one from {@code from}; fills {@code last} (unless null) and {@code frames} per room.
     */
    private static void readLive(ChatClient client, Map<String, Long> newest, Map<String, Long> from,
                                 Map<String, Long> last, Map<String, TreeMap<Long, JsonNode>> frames)
            throws Exception {
        Map<String, Long> read = new LinkedHashMap<>(from);
        newest.keySet().forEach(room -> frames.put(room, new TreeMap<>()));
        while (!read.equals(newest)) {
            JsonNode frame = nextNotPresence(client);
            assertEquals("chat message", frame.path("type").asText(), frame::toString);
            String room = frame.path("room").asText();
            long offset = frame.path("offset").asLong();
            assertTrue(read.containsKey(room), frame::toString);
            assertEquals(read.get(room) + 1, offset, () -> room + " after " + read.get(room) + ": " + frame);
            read.put(room, offset);
            frames.get(room).put(offset, frame);
        }
        if (last != null) {
            last.putAll(read);
        }
    }

    /** The same chat messages as a v1 client gets them, text and offset only, parsed as the client parses them. */
    private static List<JsonNode> v1Frames(Map<Long, JsonNode> v2Frames) throws Exception {
        List<JsonNode> frames = new ArrayList<>();
        for (JsonNode frame : v2Frames.values()) {
            frames.add(JSON.readTree(JSON.createObjectNode().put("type", "chat message")
                    .put("text", frame.path("text").asText()).put("offset", frame.path("offset").asLong())
                    .toString()));
        }
        return frames;
    }

    private static void assertNewMessage(ChatClient client, String room, long offset, String text, String author)
            throws Exception {
        JsonNode message = nextNotPresence(client);
        assertEquals("chat message", message.path("type").asText(), message::toString);
        assertEquals(room, message.path("room").asText(), message::toString);
        assertEquals(offset, message.path("offset").asLong(), () -> room + " goes on at its newest + 1: " + message);
        assertEquals(text, message.path("text").asText(), message::toString);
        assertEquals(author, message.path("author").asText(), message::toString);
    }

    /** The next frame other than presence, which comes and goes with the other connections of the node. */
    private static JsonNode nextNotPresence(ChatClient client) throws InterruptedException {
        while (true) {
            JsonNode frame = client.next();
            if (!frame.path("type").asText().equals("presence")) {
                return frame;
            }
        }
    }

    private static ChatClient open(ChatClient client) {
        clients.add(client);
        return client;
    }

    private static JsonNode health(URI base) throws Exception {
        HttpResponse<String> health = ChatWar.get(base.resolve("health"));
        assertEquals(200, health.statusCode(), health::body);
        return JSON.readTree(health.body());
    }

    private static List<String> jarNames(Path lib) {
        List<String> names = new ArrayList<>();
        try (DirectoryStream<Path> jars = Files.newDirectoryStream(lib, "*.jar")) {
            jars.forEach(jar -> names.add(jar.getFileName().toString()));
        } catch (Exception e) {
            names.add(e.toString());
        }
        return names;
    }

    private record Copy(int exitCode, String output) {
    }

    /**
     * {@code java -cp "webapps/ROOT/WEB-INF/classes:webapps/ROOT/WEB-INF/lib/*" chat.store.CopyToPostgres ...}
     * in the stopped node's base directory, with the test's java, as the command's usage says; without the
     * environment's {@code CHAT_*} settings, so that only its arguments count.
     */
    private static Copy copyToPostgres(Path output, String... arguments) throws Exception {
        List<String> command = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-cp",
                "webapps/ROOT/WEB-INF/classes" + File.pathSeparator + "webapps/ROOT/WEB-INF/lib/*",
                "chat.store.CopyToPostgres"));
        command.addAll(List.of(arguments));
        ProcessBuilder builder = new ProcessBuilder(command).directory(sqliteNode.base().toFile())
                .redirectErrorStream(true).redirectOutput(Redirect.to(output.toFile()));
        builder.environment().keySet().removeIf(name -> name.startsWith("CHAT_"));
        Process process = builder.start();
        try {
            if (!process.waitFor(COPY_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
                fail("CopyToPostgres did not end within " + COPY_TIMEOUT + "\n" + Files.readString(output));
            }
            return new Copy(process.exitValue(), "--- " + String.join(" ", command) + "\n"
                    + Files.readString(output, StandardCharsets.UTF_8));
        } finally {
            if (process.isAlive()) {
                process.destroyForcibly();
                process.waitFor(20, TimeUnit.SECONDS);
            }
        }
    }

    /** {@code count} stock Tomcat nodes on the PostgreSQL database, started at once, as ClusterIT's. */
    private static void startPostgresNodes(int count) throws Exception {
        for (int i = 1; i <= count; i++) {
            StockTomcat node = StockTomcat.create("cluster-migration-node" + i);
            node.jvmOptions(List.of("-Dchat.db.url=" + postgres.jdbcUrl(), "-Dchat.db.user=" + postgres.user(),
                    "-Dchat.db.password=" + postgres.password(), "-Dchat.db.pollMillis=250"));
            postgresNodes.add(node);
        }
        ExecutorService starts = Executors.newFixedThreadPool(count);
        try {
            List<Future<?>> started = new ArrayList<>();
            for (StockTomcat node : postgresNodes) {
                started.add(starts.submit(() -> {
                    node.start();
                    return null;
                }));
            }
            for (Future<?> start : started) {
                start.get(START_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
            }
        } finally {
            starts.shutdownNow();
        }
    }
}
