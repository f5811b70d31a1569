package chat.it;

import chat.testsupport.ChatClient;
import chat.testsupport.ChatWar;
import chat.testsupport.Health;
import chat.testsupport.Nginx;
import chat.testsupport.PipeliningSender;
import chat.testsupport.Postgres;
import chat.testsupport.StockTomcat;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

import java.net.URI;
import java.nio.file.Path;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Several Tomcat nodes, one chat: three stock Tomcat 11 distributions in child JVMs, each with the packaged WAR on
 * one real PostgreSQL, behind real nginx with an upstream of the three: two with the WAR's own pool (chat.db.url),
 * the third with tomcat-conf's PostgreSQL context descriptor (jdbc/chat). The
 * nodes are started at the same moment on an empty database. The tests run in order: the later ones kill a node
 * and restart PostgreSQL under the clients.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ClusterIT {

    private static final int NODES = 3;
    private static final Duration PHASE_TIMEOUT = Duration.ofSeconds(60);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String RUN = UUID.randomUUID().toString().substring(0, 8);

    private static Postgres postgres;
    private static final List<StockTomcat> nodes = new ArrayList<>();
    private static Nginx nginx;

    @BeforeAll
    static void startCluster() throws Exception {
        postgres = Postgres.start("cluster-postgres");
        for (int i = 1; i <= NODES; i++) {
            StockTomcat node = StockTomcat.create("cluster-node" + i);
            if (i == NODES) {
                // The last node through tomcat-conf's PostgreSQL descriptor (jdbc/chat), its password from setenv.
                node.contextDescriptor(postgresDescriptor(postgres.jdbcUrl(), postgres.user()));
                node.jvmOptions(List.of("-Dchat.db.password=" + postgres.password(), "-Dchat.db.pollMillis=250",
                        "-Dchat.presenceNodeTimeoutSeconds=6"));
            } else {
                node.jvmOptions(List.of("-Dchat.db.url=" + postgres.jdbcUrl(), "-Dchat.db.user=" + postgres.user(),
                        "-Dchat.db.password=" + postgres.password(), "-Dchat.db.pollMillis=250",
                        "-Dchat.presenceNodeTimeoutSeconds=6"));
            }
            nodes.add(node);
        }
        ExecutorService starts = Executors.newFixedThreadPool(NODES);
        try {
            List<Future<?>> started = new ArrayList<>();
            for (StockTomcat node : nodes) {
                started.add(starts.submit(() -> {
                    node.start();
                    return null;
                }));
            }
            for (Future<?> start : started) {
                start.get(3, TimeUnit.MINUTES);
            }
        } finally {
            starts.shutdownNow();
        }
        nginx = Nginx.start("cluster-nginx", nodes.stream().map(node -> node.uri().getPort()).toList());
    }

    /** tomcat-conf/postgresql/ROOT.xml with only the database's URL and user changed. */
    private static String postgresDescriptor(String url, String user) throws java.io.IOException {
        String descriptor = java.nio.file.Files.readString(Path.of(System.getProperty("basedir", "."))
                .resolve("tomcat-conf/postgresql/ROOT.xml"));
        String adapted = descriptor.replaceFirst("jdbcUrl=\"[^\"]*\"", "jdbcUrl=\"" + url + "\"")
                .replaceFirst("username=\"[^\"]*\"", "username=\"" + user + "\"");
        assertTrue(adapted.contains(url) && adapted.contains("password=\"${chat.db.password}\""), adapted);
        return adapted;
    }

    @AfterAll
    static void stopCluster() {
        if (nginx != null) {
            nginx.close();
        }
        nodes.forEach(StockTomcat::close);
        if (postgres != null) {
            postgres.close();
        }
    }

    private static URI viaNginx() {
        return nginx.http("");
    }

    private static JsonNode health(URI base) throws Exception {
        HttpResponse<String> health = ChatWar.get(base.resolve("health"));
        assertEquals(200, health.statusCode(), health::body);
        return JSON.readTree(health.body());
    }

    @Test
    @Order(1)
    void nodesStartedAtOnceOnAnEmptyDatabaseShareOneEpochAndAMessageReachesEveryNode() throws Exception {
        Set<String> epochs = new HashSet<>();
        for (StockTomcat node : nodes) {
            epochs.add(health(node.uri()).path("epoch").asText());
        }
        assertEquals(1, epochs.size(), () -> "every node reports the epoch of the database: " + epochs);
        assertTrue(nodes.get(NODES - 1).output().contains("Storing messages in PostgreSQL through the container's"
                + " DataSource java:comp/env/jdbc/chat"), () -> nodes.get(NODES - 1).output());

        List<ChatClient> readers = new ArrayList<>();
        try (ChatClient sender = ChatClient.connect(nodes.get(0).uri(), ChatWar.latestOffset(nodes.get(0).uri()))) {
            long from = sender.awaitSynced().syncedOffset();
            for (StockTomcat node : nodes) {
                readers.add(ChatClient.connect(node.uri(), from));
            }
            readers.add(ChatClient.connect(viaNginx(), from));
            for (ChatClient reader : readers) {
                assertEquals(from, reader.awaitSynced().syncedOffset());
            }
            sender.sendChat("to every node", "first-" + RUN);
            long offset = sender.nextAck().path("offset").asLong();
            assertEquals(from + 1, offset);
            for (ChatClient reader : readers) {
                JsonNode message = reader.next("chat message");
                assertEquals(offset, message.path("offset").asLong());
                assertEquals("to every node", message.path("text").asText());
            }
        } finally {
            for (ChatClient reader : readers) {
                reader.close();
            }
        }
    }

    /**
     * A sender on every node, 16 unacknowledged at a time, while readers reconnect again and again to random nodes
     * (directly and through nginx) with their last offset and the epoch: each reader's stream, across all its
     * connections, is every offset once, in order.
     */
    @Test
    @Order(2)
    void sendersOnEveryNodeAndReadersReconnectingToRandomNodesSeeEveryOffsetOnceInOrder() throws Exception {
        URI first = nodes.get(0).uri();
        long from = ChatWar.latestOffset(first);
        String epoch = health(first).path("epoch").asText();
        int perSender = 400;
        int readerCount = 4;
        AtomicBoolean sending = new AtomicBoolean(true);
        List<String> violations = Collections.synchronizedList(new ArrayList<>());
        ExecutorService threads = Executors.newFixedThreadPool(NODES + readerCount);
        try {
            List<Future<?>> senders = new ArrayList<>();
            for (int n = 0; n < NODES; n++) {
                URI node = nodes.get(n).uri();
                String tag = "churn-" + RUN + "-n" + n;
                senders.add(threads.submit(() -> {
                    ChatClient.storeAll(node, tag, perSender, tag);
                    return null;
                }));
            }
            List<Future<long[]>> readers = new ArrayList<>();
            for (int r = 0; r < readerCount; r++) {
                readers.add(threads.submit(() -> readWhileReconnecting(from, epoch, sending, violations)));
            }
            for (Future<?> sender : senders) {
                sender.get(PHASE_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
            }
            long newest = ChatWar.latestOffset(first);
            assertEquals(from + (long) perSender * NODES, newest, "every message stored once");
            sending.set(false);
            for (Future<long[]> reader : readers) {
                long[] result = reader.get(PHASE_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
                assertEquals(newest, result[0], "the reader reached the newest offset");
                assertTrue(result[1] >= 2, "the reader reconnected " + result[1] + " times");
            }
            assertEquals(List.of(), violations.subList(0, Math.min(20, violations.size())));
            for (StockTomcat node : nodes) {
                assertEquals(newest, ChatWar.latestOffset(node.uri()));
            }
        } finally {
            sending.set(false);
            threads.shutdownNow();
            assertTrue(threads.awaitTermination(20, TimeUnit.SECONDS));
        }
    }

    /** @return the last offset read and the number of connections made */
    private static long[] readWhileReconnecting(long from, String epoch, AtomicBoolean sending, List<String> violations)
            throws Exception {
        long last = from;
        long connections = 0;
        long deadline = System.nanoTime() + PHASE_TIMEOUT.toNanos();
        while (System.nanoTime() < deadline) {
            int pick = ThreadLocalRandom.current().nextInt(NODES + 1);
            URI base = pick == NODES ? viaNginx() : nodes.get(pick).uri();
            boolean quietAfterSending = false;
            try (ChatClient reader = ChatClient.connectRaw(base, "?serverOffset=" + last + "&epoch=" + epoch)) {
                connections++;
                long until = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(
                        ThreadLocalRandom.current().nextInt(100, 700));
                while (System.nanoTime() < until || !sending.get() && !quietAfterSending) {
                    JsonNode frame = reader.poll(Duration.ofMillis(sending.get() ? 50 : 1_000));
                    if (frame == null) {
                        quietAfterSending = !sending.get();
                        continue;
                    }
                    String type = frame.path("type").asText();
                    if (type.equals("chat message")) {
                        long offset = frame.path("offset").asLong();
                        if (offset != last + 1) {
                            violations.add("read " + offset + " after " + last + " from " + base);
                        }
                        last = offset;
                    } else if (type.equals("synced")) {
                        if (frame.path("reset").asBoolean(false) || frame.path("offset").asLong() != last) {
                            violations.add("synced " + frame + " after " + last + " from " + base);
                        }
                    } else {
                        violations.add("unexpected " + frame + " from " + base);
                    }
                }
            }
            if (quietAfterSending) {
                return new long[] {last, connections};
            }
        }
        fail("a reader was still reading " + PHASE_TIMEOUT + " after it started");
        return null;
    }

    /**
     * kill -9 of a node while its clients pipeline: they reconnect through nginx, which skips the dead node, with
     * their offsets, and send again what has no ack. Every acknowledged message is stored once under its acked
     * offset, nothing twice; the killed node, started again, catches up with the others. Its people are reported
     * as left on the other nodes within chat.presenceNodeTimeoutSeconds (6 s here, 25 by default) and a poll.
     */
    @Test
    @Order(3)
    void aNodeKilledWhileItsClientsPipelineLosesNothingAcknowledgedAndCatchesUpWhenStartedAgain() throws Exception {
        StockTomcat victim = nodes.get(NODES - 1);
        URI before = victim.uri();
        long from = ChatWar.latestOffset(before);
        String doomed = "doomed-" + RUN;
        ChatClient watcher = ChatClient.connectRaw(nodes.get(0).uri(), "?room=ops&name=watcher-" + RUN);
        ChatClient doomedClient = ChatClient.connectRaw(before, "?room=ops&name=" + doomed);
        awaitPresence(watcher, doomed, List.of("online", "joined"), Duration.ofSeconds(30));
        long killedAt = 0;
        List<PipeliningSender> senders = new ArrayList<>();
        for (int s = 0; s < 3; s++) {
            senders.add(new PipeliningSender(s, "k9-" + RUN + "-s" + s + "-", 16, PHASE_TIMEOUT, null));
        }
        // A client of another node goes on sending meanwhile: the survivors' commits go on.
        ExecutorService threads = Executors.newFixedThreadPool(senders.size() + 1);
        try {
            List<Future<?>> sending = PipeliningSender.pipelineAll(senders, threads, before, from, "the kill",
                    victim::output);
            Future<?> bystander = threads.submit(() -> {
                ChatClient.storeAll(nodes.get(0).uri(), "bystander", 300, "bystander-" + RUN);
                return null;
            });
            Thread.sleep(ThreadLocalRandom.current().nextInt(300, 1_000));
            PipeliningSender.failIfAnyEnded(sending, "the kill");
            victim.kill();
            killedAt = System.nanoTime();
            for (Future<?> sender : sending) {
                sender.get(PHASE_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
            }
            assertTrue(senders.stream().mapToInt(s -> s.unacked().size()).sum() > 0, "messages were in flight");
            List<Future<?>> resending = new ArrayList<>();
            for (PipeliningSender sender : senders) {
                resending.add(threads.submit(() -> {
                    sender.resendUnacknowledged(viaNginx(), sender.lastOffset, 2);
                    return null;
                }));
            }
            for (Future<?> sender : resending) {
                sender.get(PHASE_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
            }
            bystander.get(PHASE_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
        } finally {
            threads.shutdownNow();
            assertTrue(threads.awaitTermination(20, TimeUnit.SECONDS));
        }

        awaitPresence(watcher, doomed, List.of("left"), Duration.ofSeconds(10).minusNanos(System.nanoTime() - killedAt));
        System.out.printf("ClusterIT: the killed node's person was reported left on another node %d ms after the"
                + " kill%n", TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - killedAt));
        watcher.close();
        doomedClient.close();

        TreeMap<Long, String> history = PipeliningSender.history(viaNginx());
        assertGapless(history);
        Map<String, List<Long>> offsetsByText = PipeliningSender.offsetsByText(history);
        for (PipeliningSender sender : senders) {
            Map<String, Long> acknowledged = new HashMap<>(sender.acked);
            acknowledged.putAll(sender.resendAcks);
            for (String clientOffset : sender.sent) {
                assertEquals(List.of(acknowledged.get(clientOffset)), offsetsByText.get(clientOffset),
                        () -> clientOffset + " is stored once, under the offset its ack named");
            }
            sender.recheckAcks.forEach((clientOffset, offset) -> assertEquals(sender.acked.get(clientOffset), offset,
                    () -> clientOffset + " sent again to another node is acknowledged with its first offset"));
            for (Map.Entry<Long, String> seen : sender.seen.entrySet()) {
                assertEquals(seen.getValue(), history.get(seen.getKey()), "what the killed node broadcast stays");
            }
        }

        victim.start();
        TreeMap<Long, String> caughtUp = PipeliningSender.history(victim.uri());
        assertEquals(history, caughtUp.headMap(history.lastKey(), true), "the restarted node replays the same");
        assertEquals(ChatWar.latestOffset(nodes.get(0).uri()), ChatWar.latestOffset(victim.uri()));
        try (ChatClient onVictim = ChatClient.connect(victim.uri(), ChatWar.latestOffset(victim.uri()));
             ChatClient onFirst = ChatClient.connect(nodes.get(0).uri(), ChatWar.latestOffset(nodes.get(0).uri()))) {
            onVictim.awaitSynced();
            onFirst.awaitSynced();
            onFirst.sendChat("after the restart", "after-restart-" + RUN);
            long offset = onFirst.nextAck().path("offset").asLong();
            assertEquals(offset, onVictim.next("chat message").path("offset").asLong(), "live again on it");
        }
    }

    /**
     * PostgreSQL restarted under load: while it is down, senders are answered {@code store-unavailable} and
     * {@code /health} says 503; the nodes reconnect by themselves, every message acknowledged is stored once under
     * its offset, and the readers connected through it all (one per node) go on gapless.
     */
    @Test
    @Order(4)
    void postgresRestartedUnderLoadLosesNothingAcknowledgedAndStreamsResumeGapless() throws Exception {
        URI first = nodes.get(0).uri();
        long from = ChatWar.latestOffset(first);
        List<ChatClient> readers = new ArrayList<>();
        List<Long> readerLast = new ArrayList<>();
        Map<String, Long> acked = new LinkedHashMap<>();
        Map<String, String> refusals = new LinkedHashMap<>();
        AtomicInteger refused = new AtomicInteger();
        AtomicInteger total = new AtomicInteger();
        try {
            for (StockTomcat node : nodes) {
                ChatClient reader = ChatClient.connect(node.uri(), from);
                assertEquals(from, reader.awaitSynced().syncedOffset());
                readers.add(reader);
                readerLast.add(from);
            }
            try (ChatClient sender = ChatClient.connect(viaNginx(), from)) {
                sender.awaitSynced();
                Outage outage = new Outage(sender, readers, readerLast, acked, refusals);
                outage.send(200);
                postgres.stop();
                long downSince = System.nanoTime();
                // New messages while it is down: answered store-unavailable, and sent again until stored.
                outage.sendUntil(() -> !refusals.isEmpty(), Duration.ofSeconds(20), "a store-unavailable answer");
                for (StockTomcat node : nodes) {
                    Health.await(node.uri(), 503, Duration.ofSeconds(20));
                }
                System.out.printf("ClusterIT: PostgreSQL down; every node's /health said 503 within %d ms%n",
                        TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - downSince));
                postgres.restart();
                outage.send(380);
                outage.pumpUntil(outage::allAcked, PHASE_TIMEOUT, "an ack for every message");
                refused.set(outage.refusals);
                total.set(outage.sent);
            }
            for (StockTomcat node : nodes) {
                Health.await(node.uri(), 200, Duration.ofSeconds(30));
            }
            long newest = ChatWar.latestOffset(first);
            long waitUntil = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (readerLast.stream().anyMatch(last -> last < newest) && System.nanoTime() < waitUntil) {
                drain(readers, readerLast);
                Thread.sleep(20);
            }
            assertEquals(Collections.nCopies(NODES, newest), readerLast, "every reader got every offset, in order");
        } finally {
            for (ChatClient reader : readers) {
                reader.close();
            }
        }
        TreeMap<Long, String> history = PipeliningSender.history(viaNginx());
        assertGapless(history);
        Map<String, List<Long>> stored = PipeliningSender.offsetsByText(history.tailMap(from, false));
        assertEquals(total.get(), stored.size(), "every message stored");
        assertEquals(total.get(), acked.size(), "every message acknowledged");
        acked.forEach((clientOffset, offset) -> assertEquals(List.of(offset), stored.get(clientOffset),
                () -> clientOffset + " stored once under its acked offset"));
        System.out.printf("ClusterIT: PostgreSQL restarted under load: %d refusals (store-unavailable) answered by"
                + " a resend, e.g. %s%n", refused.get(), refusals.values().stream().findFirst().orElse("none"));
    }

    /**
     * One sender, 8 unacknowledged at a time, that sends a refused message again with the same clientOffset after
     * 100 ms, as the page does; and the readers it drains as it goes.
     */
    private static final class Outage {
        private final ChatClient sender;
        private final List<ChatClient> readers;
        private final List<Long> readerLast;
        private final Map<String, Long> acked;
        private final Map<String, String> firstRefusals;
        private final List<String> pending = new ArrayList<>();
        private int sent;
        private int refusals;

        Outage(ChatClient sender, List<ChatClient> readers, List<Long> readerLast, Map<String, Long> acked,
               Map<String, String> firstRefusals) {
            this.sender = sender;
            this.readers = readers;
            this.readerLast = readerLast;
            this.acked = acked;
            this.firstRefusals = firstRefusals;
        }

        /** Sends {@code count} more messages, keeping the window, and takes the answers meanwhile. */
        void send(int count) throws Exception {
            int target = sent + count;
            long deadline = System.nanoTime() + PHASE_TIMEOUT.toNanos();
            while (sent < target) {
                assertTrue(System.nanoTime() < deadline, "sent within " + PHASE_TIMEOUT);
                while (sent < target && pending.size() < 8) {
                    String clientOffset = "pg-" + RUN + "-" + sent++;
                    pending.add(clientOffset);
                    sender.sendChat(clientOffset, clientOffset);
                }
                take(sender.poll(Duration.ofMillis(100)));
            }
        }

        /** Keeps the window full of new messages until {@code done}. */
        void sendUntil(java.util.function.BooleanSupplier done, Duration timeout, String what) throws Exception {
            long deadline = System.nanoTime() + timeout.toNanos();
            while (!done.getAsBoolean()) {
                assertTrue(System.nanoTime() < deadline, () -> "no " + what + " within " + timeout);
                while (pending.size() < 8) {
                    String clientOffset = "pg-" + RUN + "-" + sent++;
                    pending.add(clientOffset);
                    sender.sendChat(clientOffset, clientOffset);
                }
                take(sender.poll(Duration.ofMillis(100)));
            }
        }

        boolean allAcked() {
            return pending.isEmpty();
        }

        void pumpUntil(java.util.function.BooleanSupplier done, Duration timeout, String what) throws Exception {
            long deadline = System.nanoTime() + timeout.toNanos();
            while (!done.getAsBoolean()) {
                assertTrue(System.nanoTime() < deadline, () -> "no " + what + " within " + timeout);
                take(sender.poll(Duration.ofMillis(100)));
            }
        }

        private void take(JsonNode frame) throws Exception {
            drain(readers, readerLast);
            if (frame == null) {
                return;
            }
            String type = frame.path("type").asText();
            String clientOffset = frame.path("clientOffset").asText();
            if (type.equals("ack")) {
                acked.put(clientOffset, frame.path("offset").asLong());
                pending.remove(clientOffset);
            } else if (type.equals("error")) {
                assertEquals("store-unavailable", frame.path("code").asText(), frame::toString);
                refusals++;
                firstRefusals.putIfAbsent(clientOffset, frame.path("message").asText());
                Thread.sleep(100);
                sender.sendChat(clientOffset, clientOffset);
            } else {
                assertEquals("chat message", type, frame::toString);
            }
        }
    }

    /** Reads what the readers have been sent so far, checking each one's offsets come one by one. */
    private static void drain(List<ChatClient> readers, List<Long> last) throws InterruptedException {
        for (int i = 0; i < readers.size(); i++) {
            int node = i + 1;
            for (JsonNode next = readers.get(i).poll(Duration.ZERO); next != null;
                 next = readers.get(i).poll(Duration.ZERO)) {
                JsonNode frame = next;
                assertEquals("chat message", frame.path("type").asText(), frame::toString);
                long offset = frame.path("offset").asLong();
                long previous = last.get(i);
                assertEquals(previous + 1, offset, () -> "the reader on node " + node + " got " + previous
                        + " then " + frame);
                last.set(i, offset);
            }
        }
    }

    /** Reads {@code client}'s frames until a presence frame of ops names {@code person} in one of {@code fields}. */
    private static void awaitPresence(ChatClient client, String person, List<String> fields, Duration within)
            throws InterruptedException {
        long deadline = System.nanoTime() + Math.max(0, within.toNanos());
        while (System.nanoTime() < deadline) {
            JsonNode frame = client.poll(Duration.ofMillis(100));
            if (frame != null && frame.path("type").asText().equals("presence")) {
                for (String field : fields) {
                    if (frame.path(field).findValuesAsText("author").contains(person)) {
                        return;
                    }
                }
            }
        }
        fail(person + " was not reported " + fields + " within " + within);
    }

    private static void assertGapless(TreeMap<Long, String> history) {
        List<Long> gaps = history.keySet().stream().filter(offset -> offset > 1 && !history.containsKey(offset - 1))
                .limit(10).collect(Collectors.toList());
        assertTrue(gaps.isEmpty(), () -> "offsets missing before " + gaps);
        assertFalse(history.isEmpty());
    }
}
