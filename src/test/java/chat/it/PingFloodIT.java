package chat.it;

import chat.testsupport.RawWebSocket;
import chat.testsupport.StockTomcat;
import chat.testsupport.TestFiles;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.LongSummaryStatistics;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A client that floods pings and never reads cannot hold the server's threads: its connections are closed soon
 * after the server stops reading them, and other users are served meanwhile. Tomcat answers every ping itself,
 * with a blocking send of the pong on the worker thread that read the ping; once the peer's buffers are full that
 * send waits, and the worker with it, for the session's blocking send timeout ({@code
 * chat.controlFrameTimeoutMillis}, 2 s), and then Tomcat closes the session.
 *
 * <p>On a Tomcat of its own with tomcat-conf's server.xml (200 worker threads) and the shipped 25 s pings (with the
 * tests' usual 1 s, a timeout derived from the ping interval would be short too), one address, 127.0.0.1, opens
 * as many WebSockets as the server admits by default (until a handshake is answered with a close, or 200: the
 * connector's threads), with 4 KiB socket buffers. It floods them with 125-byte pings, reading nothing: two at a
 * time, each until the server stops taking its pings (a write that has not returned for {@link #STALLED}), then
 * the next ones, for {@link #FLOOD_WINDOW}. A connection the server stopped reading holds a worker in a pong. On
 * loopback every socket's send buffer is 4 MiB (tcp_wmem's maximum) whatever the peer's window, so the server
 * sends some 25 000 pongs, a few tenths of a second of its CPU, before a pong blocks; flooding every connection at
 * once would measure what two cores can answer, not the threads.
 *
 * <p>All the while, a user from another address, 127.0.0.3, asks {@code /health} and opens a fresh WebSocket
 * that sends a message, once a second: {@code /health} must answer within {@link #HEALTH_LIMIT}, and the user
 * must have {@code synced} and the ack of its message within {@link #ACK_LIMIT} of connecting. The server must
 * have stopped reading, or closed, at least {@link #MIN_STOPPED} flooded connections, and must close every one it
 * stopped reading within {@link #HOLD_LIMIT} of the write it left waiting. The message rate limit plays no part:
 * the tests' Tomcats run without one.
 */
class PingFloodIT {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String ATTACKER_ADDRESS = TestFiles.LOOPBACK;
    private static final String USER_ADDRESS = "127.0.0.3";
    /** tomcat-conf/conf/server.xml's maxThreads. */
    private static final int MAX_ATTACKERS = 200;
    /** Receive and send buffers of the attacker's sockets: pongs and unread pings fill them at once. */
    private static final int ATTACKER_BUFFER = 4_096;
    /** The most a control frame may carry. */
    private static final byte[] PING_PAYLOAD = new byte[125];
    private static final int PINGS_PER_WRITE = 64;
    private static final int FLOODING_AT_ONCE = 2;
    /** A write of pings that has not returned for this long: the server has stopped reading that connection. */
    private static final Duration STALLED = Duration.ofMillis(500);
    private static final Duration FLOOD_WINDOW = Duration.ofSeconds(12);
    private static final int MIN_STOPPED = 5;
    /** The pong's 2 s, the close after it, and a busy machine's delays. */
    private static final Duration HOLD_LIMIT = Duration.ofSeconds(8);
    private static final Duration HEALTH_LIMIT = Duration.ofSeconds(2);
    private static final Duration ACK_LIMIT = Duration.ofSeconds(3);
    private static final Duration PROBE_EVERY = Duration.ofSeconds(1);
    /** How long a probe is waited for, to tell how late it was. */
    private static final Duration PROBE_WAIT = Duration.ofSeconds(10);

    static {
        Arrays.fill(PING_PAYLOAD, (byte) 'p');
    }

    private StockTomcat tomcat;
    private final List<Attacker> attackers = new ArrayList<>();
    private final ScheduledExecutorService scheduler =
            Executors.newSingleThreadScheduledExecutor(daemon("flood-scheduler"));
    private final ExecutorService probes = Executors.newCachedThreadPool(daemon("probe"));

    @AfterEach
    void stop() {
        scheduler.shutdownNow();
        attackers.forEach(Attacker::stop);
        probes.shutdownNow();
        if (tomcat != null) {
            tomcat.close();
        }
    }

    @Test
    void connectionsFloodingPingsWithoutReadingLeaveOthersServedAndAreClosed() throws Exception {
        tomcat = StockTomcat.create("ping-flood");
        tomcat.jvmOptions(List.of("-Dchat.pingIntervalSeconds=25")); // as tomcat-conf/bin/setenv.sh
        tomcat.start();
        URI base = tomcat.uri();
        // The user's first rounds, before the attack: not figures of the server's.
        long offset = health(base).offset();
        for (int i = 0; i < 2; i++) {
            Probe warmUp = chat(base, offset);
            assertTrue(warmUp.acked(), "before the attack: " + warmUp);
            offset = warmUp.offset();
        }

        int refusedAt = 0;
        while (attackers.size() < MAX_ATTACKERS) {
            RawWebSocket socket = RawWebSocket.open(base, "?serverOffset=" + offset, ATTACKER_BUFFER,
                    ATTACKER_BUFFER, InetAddress.getByName(ATTACKER_ADDRESS));
            JsonNode first = socket.nextText(); // the answer to its handshake; nothing is read after it
            if (first == null) {
                socket.abort(); // closed at once (1008): no more connections from this address
                refusedAt = attackers.size() + 1;
                break;
            }
            assertEquals("synced", first.path("type").asText(), first::toString);
            attackers.add(new Attacker(attackers.size() + 1, socket));
        }
        int admitted = attackers.size();

        long floodStart = System.nanoTime();
        long windowEnd = floodStart + FLOOD_WINDOW.toNanos();
        scheduler.scheduleWithFixedDelay(() -> floodInTurn(windowEnd), 0, 20, TimeUnit.MILLISECONDS);
        List<Round> rounds = new ArrayList<>();
        long lastRoundBy = windowEnd + HOLD_LIMIT.plus(STALLED).plusSeconds(2).toNanos();
        while (System.nanoTime() < lastRoundBy && !(System.nanoTime() > windowEnd && settled())) {
            long roundStart = System.nanoTime();
            Round round = probeRound(base, offset, millisSince(floodStart));
            rounds.add(round);
            offset = Math.max(offset, round.user().offset());
            long next = roundStart + PROBE_EVERY.toNanos() - System.nanoTime();
            if (next > 0) {
                Thread.sleep(Duration.ofNanos(next).toMillis());
            }
        }
        scheduler.shutdownNow();
        scheduler.awaitTermination(5, TimeUnit.SECONDS);

        List<Attacker> flooded = attackers.stream().filter(Attacker::started).toList();
        List<Attacker> stopped = flooded.stream().filter(attacker -> attacker.everStalled() || attacker.ended())
                .toList();
        List<Attacker> closed = flooded.stream().filter(Attacker::ended).toList();
        List<Attacker> held = stopped.stream()
                .filter(attacker -> !attacker.ended() && attacker.heldMillis() > HOLD_LIMIT.toMillis()).toList();
        long longestHold = stopped.stream().mapToLong(Attacker::heldMillis).max().orElse(0);
        String figures = String.format("%d connections admitted from %s (%s); %d flooded, %d at a time, in %s,"
                        + " %d pings in all; the server stopped taking the pings of %d, the first %d ms into the"
                        + " flood; closed by the server: %d (%s), %s into the flood; longest a connection was held"
                        + " unread: %d ms (median %d ms); held past %s and still open: %d; %d rounds from %s: /health %s; the user's"
                        + " synced and ack %s",
                admitted, ATTACKER_ADDRESS, refusedAt > 0 ? "connection " + refusedAt + " closed at once"
                        : "none refused", flooded.size(), FLOODING_AT_ONCE, FLOOD_WINDOW,
                attackers.stream().mapToLong(Attacker::pings).sum(), stopped.size(),
                stopped.stream().filter(Attacker::everStalled).mapToLong(attacker -> attacker.stalledAt - floodStart)
                        .min().orElse(-1_000_000) / 1_000_000,
                closed.size(), closed.stream().map(Attacker::failure).distinct().limit(3).toList(),
                spread(closed.stream().map(attacker -> (attacker.ended - floodStart) / 1_000_000).toList()),
                longestHold, median(stopped.stream().map(Attacker::heldMillis).toList()), HOLD_LIMIT, held.size(),
                rounds.size(), USER_ADDRESS, spread(rounds.stream().map(round -> round.health().millis()).toList()),
                spread(rounds.stream().map(round -> round.user().millis()).toList()));
        System.out.println("PingFloodIT: " + figures);
        rounds.forEach(round -> System.out.println("PingFloodIT round: " + round));

        assertTrue(tomcat.isRunning(), "the JVM is up\n" + tomcat.output());
        assertTrue(stopped.size() >= MIN_STOPPED, "the flood did not take hold: " + figures);
        List<Round> slowHealth = rounds.stream().filter(round -> round.health().status() != 200
                || round.health().millis() > HEALTH_LIMIT.toMillis()).toList();
        assertEquals(List.of(), slowHealth, "/health over " + HEALTH_LIMIT + " or not 200 during the flood: "
                + figures);
        List<Round> slowUser = rounds.stream().filter(round -> !round.user().acked()
                || round.user().millis() > ACK_LIMIT.toMillis()).toList();
        assertEquals(List.of(), slowUser, "the user's message not acknowledged within " + ACK_LIMIT
                + " of connecting: " + figures);
        assertEquals(List.of(), held.stream().map(Attacker::toString).toList(),
                "connections the server stopped reading and held open past " + HOLD_LIMIT + ": " + figures);
        assertTrue(longestHold <= HOLD_LIMIT.toMillis(), "a connection held " + longestHold + " ms after the"
                + " server stopped reading it: " + figures);
    }

    /** Starts flooding the next connections while fewer than {@link #FLOODING_AT_ONCE} are taking pings. */
    private void floodInTurn(long windowEnd) {
        long flooding = 0;
        for (Attacker attacker : attackers) {
            attacker.noticeStall();
            if (attacker.flooding()) {
                flooding++;
            }
        }
        if (System.nanoTime() > windowEnd) {
            return;
        }
        for (Attacker attacker : attackers) {
            if (flooding >= FLOODING_AT_ONCE) {
                return;
            }
            if (!attacker.started()) {
                attacker.start();
                flooding++;
            }
        }
    }

    /** Whether every flooded connection is closed, or has been held past {@link #HOLD_LIMIT}. */
    private boolean settled() {
        return attackers.stream().filter(Attacker::started)
                .allMatch(attacker -> attacker.ended() || attacker.heldMillis() > HOLD_LIMIT.toMillis());
    }

    /** {@code /health} and a user's chat at once, each waited for on its own: a late one does not delay the other. */
    private Round probeRound(URI base, long offset, long atMillis) throws InterruptedException {
        Future<Health> health = probes.submit(() -> health(base));
        Future<Probe> user = probes.submit(() -> chat(base, offset));
        return new Round(atMillis,
                await(health, failure -> new Health(-1, -1, PROBE_WAIT.toMillis(), failure)),
                await(user, failure -> new Probe(-1, PROBE_WAIT.toMillis(), offset, false, failure)));
    }

    private static <T> T await(Future<T> probe, Function<String, T> failed) throws InterruptedException {
        try {
            return probe.get(PROBE_WAIT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            probe.cancel(true); // its socket times out, or closes with the server after the test
            return failed.apply("no answer within " + PROBE_WAIT);
        } catch (ExecutionException e) {
            return failed.apply(e.getCause().toString());
        }
    }

    /**
     * {@code GET /health} from {@link #USER_ADDRESS}, over a plain socket: Java 17's HttpClient cannot choose its
     * local address.
     */
    private static Health health(URI base) throws IOException {
        long start = System.nanoTime();
        try (Socket socket = new Socket()) {
            socket.bind(new InetSocketAddress(InetAddress.getByName(USER_ADDRESS), 0));
            socket.connect(new InetSocketAddress(base.getHost(), base.getPort()), (int) PROBE_WAIT.toMillis());
            socket.setSoTimeout((int) PROBE_WAIT.toMillis());
            OutputStream out = socket.getOutputStream();
            out.write(("GET /health HTTP/1.1\r\nHost: " + base.getHost() + ':' + base.getPort()
                    + "\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            out.flush();
            ByteArrayOutputStream response = new ByteArrayOutputStream();
            socket.getInputStream().transferTo(response);
            long millis = millisSince(start);
            String text = response.toString(StandardCharsets.UTF_8);
            String[] statusLine = text.split("\r\n", 2)[0].split(" ");
            int status = statusLine.length > 1 ? Integer.parseInt(statusLine[1]) : -1;
            String body = text.substring(text.indexOf("\r\n\r\n") + 4).strip();
            long offset = status == 200 ? JSON.readTree(body).path("offset").asLong(-1) : -1;
            return new Health(status, offset, millis, body);
        }
    }

    /**
     * A user's fresh WebSocket from {@link #USER_ADDRESS}: connected from {@code offset}, it waits for
     * {@code synced}, sends a chat message and waits for its ack, answering the server's pings as any client does.
     */
    private static Probe chat(URI base, long offset) throws IOException {
        long start = System.nanoTime();
        try (RawWebSocket socket = RawWebSocket.open(base, "?serverOffset=" + offset, 0, 0,
                InetAddress.getByName(USER_ADDRESS))) {
            JsonNode synced = skipChatMessages(socket);
            if (synced == null || !synced.path("type").asText().equals("synced")) {
                return new Probe(-1, millisSince(start), offset, false, "instead of synced: " + synced);
            }
            long syncedMillis = millisSince(start);
            String clientOffset = "user-" + UUID.randomUUID();
            socket.sendText("{\"type\":\"chat message\",\"text\":\"still served?\",\"clientOffset\":\""
                    + clientOffset + "\"}");
            JsonNode ack = skipChatMessages(socket);
            boolean acked = ack != null && ack.path("type").asText().equals("ack")
                    && ack.path("clientOffset").asText().equals(clientOffset);
            return new Probe(syncedMillis, millisSince(start), acked ? ack.path("offset").asLong() : offset, acked,
                    acked ? "acked" : "instead of the ack: " + ack);
        }
    }

    /** The next frame that is not a chat message; null if the server closed the connection. */
    private static JsonNode skipChatMessages(RawWebSocket socket) throws IOException {
        while (true) {
            JsonNode frame = socket.nextText();
            if (frame == null || !frame.path("type").asText().equals("chat message")) {
                return frame;
            }
        }
    }

    private static long millisSince(long start) {
        return Duration.ofNanos(System.nanoTime() - start).toMillis();
    }

    private static long median(List<Long> values) {
        List<Long> sorted = values.stream().sorted().toList();
        return sorted.isEmpty() ? -1 : sorted.get(sorted.size() / 2);
    }

    private static String spread(List<Long> millis) {
        LongSummaryStatistics all = millis.stream().mapToLong(Long::longValue).summaryStatistics();
        return millis.isEmpty() ? "none" : all.getMin() + " to " + all.getMax() + " ms, median " + median(millis)
                + " ms";
    }

    private static java.util.concurrent.ThreadFactory daemon(String name) {
        return runnable -> {
            Thread thread = new Thread(runnable, name);
            thread.setDaemon(true);
            return thread;
        };
    }

    private record Health(int status, long offset, long millis, String body) {
        @Override
        public String toString() {
            return status + " after " + millis + " ms";
        }
    }

    /**
     * @param syncedMillis from connecting, -1 if it was not synced
     * @param millis from connecting to the ack, or to giving up
     * @param offset the ack's, or the one it connected from
     */
    private record Probe(long syncedMillis, long millis, long offset, boolean acked, String outcome) {
        @Override
        public String toString() {
            return "synced after " + syncedMillis + " ms, " + outcome + " after " + millis + " ms";
        }
    }

    private record Round(long atMillis, Health health, Probe user) {
        @Override
        public String toString() {
            return atMillis + " ms into the flood: /health " + health + ", user " + user;
        }
    }

    /** One attacking connection and the thread that floods it with pings until the server closes it. */
    private static final class Attacker {
        private final int number;
        private final RawWebSocket socket;
        private final Thread thread;
        private volatile boolean stopping;
        private volatile long pings;
        /** When the write under way started; 0 while none is. */
        private volatile long writeStarted;
        /** When the server was first seen to have stopped taking its pings; 0 until then. */
        private volatile long stalledAt;
        private volatile long ended;
        /** How long the write that failed had waited. */
        private volatile long failedWriteMillis;
        private volatile String failure;

        Attacker(int number, RawWebSocket socket) {
            this.number = number;
            this.socket = socket;
            this.thread = new Thread(this::flood, "ping-flood-" + number);
            thread.setDaemon(true);
        }

        void start() {
            thread.start();
        }

        boolean started() {
            return thread.getState() != Thread.State.NEW;
        }

        private void flood() {
            try {
                while (!stopping) {
                    writeStarted = System.nanoTime();
                    socket.pings(PING_PAYLOAD, PINGS_PER_WRITE);
                    writeStarted = 0;
                    pings += PINGS_PER_WRITE;
                }
            } catch (IOException closedByTheServer) {
                if (!stopping) {
                    long now = System.nanoTime();
                    failedWriteMillis = Duration.ofNanos(now - writeStarted).toMillis();
                    failure = closedByTheServer.getClass().getSimpleName() + ": " + closedByTheServer.getMessage();
                    ended = now;
                }
            }
        }

        /** Called by the scheduler only. */
        void noticeStall() {
            if (stalledAt == 0 && stalled()) {
                stalledAt = writeStarted;
            }
        }

        private boolean stalled() {
            long since = writeStarted;
            return !ended() && since != 0 && System.nanoTime() - since >= STALLED.toNanos();
        }

        /** Started, and the server still takes its pings. */
        boolean flooding() {
            return started() && !ended() && !stalled();
        }

        boolean everStalled() {
            return stalledAt != 0;
        }

        boolean ended() {
            return ended != 0;
        }

        /**
         * How long the server has held the connection without reading it: the write that failed when it closed
         * the connection, else the write still waiting.
         */
        long heldMillis() {
            if (ended()) {
                return failedWriteMillis;
            }
            long since = writeStarted;
            return since == 0 ? 0 : Duration.ofNanos(System.nanoTime() - since).toMillis();
        }

        long pings() {
            return pings;
        }

        String failure() {
            return failure;
        }

        void stop() {
            stopping = true;
            socket.abort();
        }

        @Override
        public String toString() {
            return "#" + number + " (" + pings + " pings, not read for " + heldMillis() + " ms)";
        }
    }
}
