package chat.bench;

import chat.testsupport.ChatWar;
import chat.testsupport.StockTomcat;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.net.InetAddress;
import java.net.URI;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.LongAdder;
import java.util.stream.Collectors;

/**
 * A reconnect storm, on a stock Tomcat of its own: 10 000 v2 clients in {@code general}, live in front of 20 000
 * stored messages, lose the server and come back with their offset and epoch, as the page does. Four storms in
 * turn: a restart (SIGTERM, then the same database on the same port) and a redeploy (a newer WAR over ROOT.war,
 * which autoDeploy undeploys and deploys), each with every client reconnecting at once as soon as {@code /health}
 * answers 200 (the worst case), then with the page's backoff and jitter from the moment its connection dropped.
 * Meanwhile a sender that reconnects the same way sends 100 messages with clientOffsets, keeps those not acked
 * and sends them again on its next connection, as the page's outbox does. Every client's stream is checked gapless,
 * in order and without duplicates across its connections.
 */
final class StormScenario {

    static final String ROOM = "general";
    private static final int MESSAGES_DURING = 100;
    /** The page's reconnect policy, webapp/chat.js: BASE_BACKOFF_MS and MAX_BACKOFF_MS. */
    private static final long BASE_BACKOFF_MS = 500;
    private static final long MAX_BACKOFF_MS = 30_000;
    /**
     * Handshakes in flight at most, each a blocking thread of the load generator. With 2 048 the selector threads
     * that read the clients' frames got so little of the two shared cores that every client's {@code synced} was
     * read in one burst after the last handshake; 256 keep the server's listen queue and worker threads full.
     */
    private static final int HANDSHAKES_IN_FLIGHT = 256;
    /** At once: a client refused after /health 200 tries again this much later. */
    private static final long RETRY_AT_ONCE_NANOS = 50_000_000;
    /** The sender sends a message not acked on the same connection again after this, as the page after 5 s. */
    private static final long RESEND_NANOS = 2_000_000_000L;
    private static final long SEND_INTERVAL_NANOS = 20_000_000;
    private static final long WHEN_HEALTHY = Long.MAX_VALUE;
    private static final long TARGET_SYNCED_MILLIS = 10_000;
    /** How long after the first close an undeploy may take to remove the context. */
    private static final long UNDEPLOY_GRACE_NANOS = 3_000_000_000L;

    private final BenchOptions options;
    private final Report report;
    private final String runTag = java.util.UUID.randomUUID().toString().substring(0, 8);
    private final List<Peer> peers = new ArrayList<>();
    private Peer sender;
    private URI chat;
    private String epoch;

    StormScenario(BenchOptions options, Report report) {
        this.options = options;
        this.report = report;
    }

    void run() throws Exception {
        if (options.url != null) {
            report.add("storm", "completed", null, "", null, null, "needs a Tomcat of its own to stop (no bench.url)");
            return;
        }
        int clients = options.scaled(10_000, 100);
        int history = options.scaled(20_000, 1_000);
        StockTomcat tomcat = StockTomcat.create("bench-storm");
        tomcat.jvmOptions(Bench.serverJvmOptions(options, "storm"));
        List<InetAddress> sources = new ArrayList<>();
        for (int i = 1; i <= 4; i++) {
            sources.add(InetAddress.getByName("127.0.0." + i));
        }
        NioWsClient nio = new NioWsClient(HANDSHAKES_IN_FLIGHT, sources, 64 << 10);
        try {
            Bench.log("storm: starting its own Tomcat");
            tomcat.start();
            chat = URI.create("ws://127.0.0.1:" + tomcat.uri().getPort() + "/chat");
            ServerUnderTest server = new ServerUnderTest(chat, OptionalLong.of(tomcat.pid()), "storm");
            report.fact("storm client", nio.description());
            BenchContext context = new BenchContext(options, server, report, nio);
            long latest = new ReplayScenario(context).seed(ROOM, server.latestOffset(), history, "-storm");
            epoch = new ObjectMapper().readTree(health(server).body()).path("epoch").asText();
            for (int i = 0; i < clients; i++) {
                peers.add(new Peer(latest));
            }
            sender = new Peer(latest);
            Bench.log("storm: connecting " + clients + " clients and the sender from offset " + latest);
            Storm first = new Storm("storm connect", true, null, nio);
            first.healthAt = System.nanoTime();
            first.drive(server, tomcat, false);
            for (String cause : List.of("restart", "redeploy")) {
                for (boolean atOnce : options.stormSpread ? List.of(true, false) : List.of(true)) {
                    new Storm("storm " + cause + (atOnce ? " at once" : " spread"), atOnce, cause, nio)
                            .drive(server, tomcat, true);
                }
            }
        } finally {
            peers.forEach(Peer::abort);
            if (sender != null) {
                sender.abort();
            }
            nio.close();
            tomcat.close();
        }
    }

    private static HttpResponse<String> health(ServerUnderTest server) throws IOException, InterruptedException {
        return ChatWar.get(URI.create(server.chatUri().toString().replaceFirst("^ws", "http")).resolve("health"));
    }

    private static boolean healthy(ServerUnderTest server) throws InterruptedException {
        try {
            return health(server).statusCode() == 200;
        } catch (IOException down) {
            return false;
        }
    }

    /** One client over its connections: the offset it would reconnect with, its frames summed over them. */
    private static final class Peer {
        final long firstOffset;
        volatile BenchSocket socket;
        volatile boolean connecting;
        /** When the next attempt is due (nanoTime), 0 when none is scheduled; the driving thread's only. */
        long due;
        int failedAttempts;
        long offset;
        long frames;
        long orderErrors;
        long presenceFrames;
        boolean reset;
        BenchSocket before;
        volatile long syncedAt;

        Peer(long offset) {
            this.firstOffset = offset;
            this.offset = offset;
        }

        long lastOffset() {
            BenchSocket current = socket;
            return current == null ? offset : current.lastOffset();
        }

        long frames() {
            BenchSocket current = socket;
            return frames + (current == null ? 0 : current.chatFrames());
        }

        long orderErrors() {
            BenchSocket current = socket;
            return orderErrors + (current == null ? 0 : current.orderErrors());
        }

        long presenceFrames() {
            BenchSocket current = socket;
            return presenceFrames + (current == null ? 0 : current.presenceFrames());
        }

        boolean live() {
            BenchSocket current = socket;
            return current != null && current.closeCode() == -1 && current.isSynced();
        }

        void abort() {
            BenchSocket current = socket;
            if (current != null) {
                current.abort();
            }
        }
    }

    /** One storm: its cause, how the clients come back, and what it counts. */
    private final class Storm implements BenchSocket.AckSink {
        final String name;
        final boolean atOnce;
        final String cause;
        final NioWsClient nio;
        volatile long healthAt;
        final Map<String, LongAdder> dropped = new ConcurrentHashMap<>();
        final Map<String, LongAdder> failedBefore = new ConcurrentHashMap<>();
        final Map<String, LongAdder> refused = new ConcurrentHashMap<>();
        final Map<String, LongAdder> messagesRefused = new ConcurrentHashMap<>();
        final AtomicLong longestHandshake = new AtomicLong();
        final LongAdder slowHandshakes = new LongAdder();
        final String prefix;
        final AtomicLongArray acked = new AtomicLongArray(MESSAGES_DURING);
        final BenchSocket[] sentOn = new BenchSocket[MESSAGES_DURING];
        final long[] sentAt = new long[MESSAGES_DURING];

        Storm(String name, boolean atOnce, String cause, NioWsClient nio) {
            this.name = name;
            this.atOnce = atOnce;
            this.cause = cause;
            this.nio = nio;
            this.prefix = runTag + "-" + name.replace(' ', '-') + "-";
        }

        void drive(ServerUnderTest server, StockTomcat tomcat, boolean measured) throws Exception {
            long deadline = System.nanoTime() + options.phaseTimeout.toNanos();
            long before = measured ? server.latestOffset() : 0;
            long[] listenDrops = listenDrops();
            List<Peer> all = new ArrayList<>(peers);
            all.add(sender);
            long[] framesBefore = new long[all.size()];
            long presenceBefore = 0;
            for (int i = 0; i < all.size(); i++) {
                Peer peer = all.get(i);
                peer.before = peer.socket;
                peer.syncedAt = 0;
                framesBefore[i] = peer.frames();
                presenceBefore += peer.presenceFrames();
            }
            Thread driver = Clients.started("storm-driver", () -> reconnect(all, deadline));
            Thread feed = null;
            long downAt = System.nanoTime();
            HeapSampler heap = null;
            CpuMeter cpu = null;
            try {
                if ("restart".equals(cause)) {
                    feed = Clients.started("storm-sender", () -> feed(deadline));
                    Thread.sleep(300);
                    downAt = System.nanoTime();
                    Bench.log(name + ": SIGTERM to Tomcat (pid " + tomcat.pid() + ")");
                    tomcat.stop();
                    CompletableFuture<Void> starting = CompletableFuture.runAsync(() -> {
                        try {
                            tomcat.restartOnSamePort();
                        } catch (IOException | InterruptedException e) {
                            throw new IllegalStateException("restarting Tomcat on port " + chat.getPort() + ": " + e, e);
                        }
                    });
                    healthAt = awaitHealth(server, true, deadline, starting);
                    starting.get(Math.max(0, deadline - System.nanoTime()), java.util.concurrent.TimeUnit.NANOSECONDS);
                } else if ("redeploy".equals(cause)) {
                    Bench.log(name + ": copying a newer WAR over webapps/ROOT.war");
                    tomcat.redeploy();
                    awaitUndeployed(server, all, deadline);
                    downAt = System.nanoTime();
                    feed = Clients.started("storm-sender", () -> feed(deadline));
                    healthAt = awaitHealth(server, true, deadline, null);
                }
                if (measured) {
                    Bench.log(name + ": /health 200 " + Report.number((healthAt - downAt) / 1e6) + " ms after the "
                            + cause + " began");
                    cpu = CpuMeter.start(List.of(tomcat.pid()), false, OptionalLong.empty(), null);
                    heap = HeapSampler.start(tomcat.pid());
                }
                awaitAll(all, deadline, measured ? before + MESSAGES_DURING : -1, server);
            } finally {
                driver.interrupt();
                driver.join(10_000);
                if (feed != null) {
                    feed.interrupt();
                    feed.join(10_000);
                }
                if (heap != null) {
                    heap.close();
                }
            }
            long[] synced = peers.stream().mapToLong(p -> p.syncedAt - healthAt).sorted().toArray();
            if (!measured) {
                report.add(name, "time until all " + peers.size() + " are connected and synced",
                        synced[synced.length - 1] / 1e6, "ms", null, null, HANDSHAKES_IN_FLIGHT + " handshakes at a"
                                + " time, from offset " + sender.firstOffset);
                return;
            }
            long after = server.latestOffset();
            report.add(name, "outage (" + ("restart".equals(cause) ? "SIGTERM" : "redeploy seen") + " to /health 200)",
                    (healthAt - downAt) / 1e6, "ms");
            for (double share : new double[] {0.5, 0.99, 1.0}) {
                int index = Math.max(0, (int) Math.ceil(share * synced.length) - 1);
                report.add(name, "/health 200 to " + Report.number(share * 100) + " % of " + peers.size() + " synced",
                        synced[index] / 1e6, "ms", share == 1.0 && atOnce ? Report.Target.atMost(TARGET_SYNCED_MILLIS)
                                : null, null, share == 1.0 ? (atOnce ? "every client reconnects as /health answers 200"
                                : "the page's backoff: 0.5 s doubling to 30 s, each delay between half and all of it")
                                : null);
            }
            report.add(name, "handshakes refused after /health 200", (double) total(refused), "",
                    Report.Target.atMost(0), null, reasons(refused));
            report.add(name, "attempts failed before /health 200 (server down)", (double) total(failedBefore), "",
                    null, null, reasons(failedBefore));
            report.add(name, "live connections closed by the " + cause, (double) total(dropped), "", null, null,
                    reasons(dropped));
            report.add(name, "longest handshake answered after /health 200", longestHandshake.get() / 1e6, "ms", null, null,
                    slowHandshakes.sum() + " over 1 s (a dropped SYN waits 1 s, then 2, 4...); TcpExt of the whole"
                            + " machine: " + dropsSince(listenDrops));
            PrometheusText metrics = server.metrics().orElse(null);
            for (String[] source : new String[][] {{"memory", MetricsWindow.REPLAYED_MEMORY},
                    {"store pages another replay had just read", MetricsWindow.REPLAYED_SHARED},
                    {"SQLite", MetricsWindow.REPLAYED_STORE}}) {
                report.add(name, "messages replayed from " + source[0], metrics == null ? null
                        : metrics.value(source[1]), "", null, null, metrics == null ? MetricsWindow.absentNote()
                        : "since the chat started: this storm's replays");
            }
            report.add(name, "peak server heap in use", heap.peakBytes() / (1024.0 * 1024), "MiB", null, null,
                    "jstat every 100 ms from /health 200, uncollected garbage included");
            cpu.report(report, name);
            long presence = -presenceBefore;
            long wrong = 0;
            String firstWrong = null;
            for (int i = 0; i < all.size(); i++) {
                Peer peer = all.get(i);
                presence += peer.presenceFrames();
                long off = Math.abs(peer.frames() - framesBefore[i] - MESSAGES_DURING)
                        + Math.abs(peer.lastOffset() - after) + (peer.reset ? 1 : 0);
                wrong += off;
                if (firstWrong == null && (off > 0 || peer.orderErrors() > 0)) {
                    firstWrong = "client " + i + ": " + (peer.frames() - framesBefore[i]) + " frames, last offset "
                            + peer.lastOffset() + " of " + after + ", order errors " + peer.orderErrors()
                            + (peer.reset ? ", reset" : "");
                }
                wrong += peer.orderErrors();
            }
            int ackedCount = 0;
            for (int seq = 0; seq < MESSAGES_DURING; seq++) {
                ackedCount += acked.get(seq) != 0 ? 1 : 0;
            }
            wrong += Math.abs(after - before - MESSAGES_DURING) + (MESSAGES_DURING - ackedCount);
            report.add(name, "messages lost, duplicated or reordered (all clients)", (double) wrong, "",
                    Report.Target.atMost(0), null, wrong == 0 ? "each of " + all.size() + " clients got offsets "
                            + (before + 1) + " to " + after + " once, in order, over its connections"
                            : firstWrong + "; stored " + (after - before) + " of " + MESSAGES_DURING + ", acked "
                            + ackedCount);
            report.add(name, "presence frames received (all clients)", (double) presence, "", null, null,
                    Report.number((double) presence / all.size()) + " per client");
            report.add(name, "sender's messages refused and sent again", (double) total(messagesRefused), "", null,
                    null, reasons(messagesRefused));
        }

        /** Waits until every client is synced again and, measured, has every message up to {@code last}. */
        private void awaitAll(List<Peer> all, long deadline, long last, ServerUnderTest server) throws Exception {
            while (true) {
                long synced = all.stream().filter(p -> p.syncedAt != 0).count();
                boolean sent = last < 0 || allAcked();
                if (synced == all.size() && sent && (last < 0
                        || all.stream().allMatch(p -> p.lastOffset() >= last))) {
                    return;
                }
                if (System.nanoTime() - deadline > 0) {
                    throw new TimeoutException(name + ": " + synced + " of " + all.size() + " clients synced again,"
                            + " the sender's messages " + (sent ? "all" : "not all") + " acked, within "
                            + options.phaseTimeout + "; refused: " + reasons(refused) + "; failed before /health"
                            + " 200: " + reasons(failedBefore));
                }
                Thread.sleep(20);
            }
        }

        private boolean allAcked() {
            for (int seq = 0; seq < MESSAGES_DURING; seq++) {
                if (acked.get(seq) == 0) {
                    return false;
                }
            }
            return true;
        }

        /** The driving thread: reconnects every client whose connection is gone, by the storm's policy. */
        private void reconnect(List<Peer> all, long deadline) {
            try {
                while (System.nanoTime() - deadline < 0) {
                    long now = System.nanoTime();
                    for (Peer peer : all) {
                        if (peer.connecting) {
                            continue;
                        }
                        BenchSocket socket = peer.socket;
                        if (socket != null && socket.closeCode() == -1) {
                            if (socket.isSynced()) {
                                peer.failedAttempts = 0;
                                if (socket != peer.before && peer.syncedAt == 0) {
                                    peer.syncedAt = socket.syncedAtNanos();
                                }
                            }
                            continue;
                        }
                        if (socket != null) {
                            fold(peer, socket);
                        }
                        if (peer.due == 0) {
                            peer.due = schedule(peer, now, socket == null);
                        }
                        if (peer.due == WHEN_HEALTHY && healthAt != 0) {
                            peer.due = now;
                        }
                        if (peer.due != WHEN_HEALTHY && now - peer.due >= 0) {
                            attempt(peer);
                        }
                    }
                    Thread.sleep(5);
                }
            } catch (InterruptedException stopped) {
                // the storm is over
            }
        }

        /** When a client whose connection dropped ({@code failed}: whose attempt failed) tries again. */
        private long schedule(Peer peer, long now, boolean failed) {
            if (atOnce) {
                return healthAt == 0 ? WHEN_HEALTHY : failed ? now + RETRY_AT_ONCE_NANOS : now;
            }
            peer.failedAttempts++;
            double ceiling = Math.min(MAX_BACKOFF_MS, BASE_BACKOFF_MS * Math.pow(2, Math.min(peer.failedAttempts - 1, 10)));
            double delay = ceiling / 2 + ThreadLocalRandom.current().nextDouble() * ceiling / 2;
            return now + (long) (delay * 1e6);
        }

        private void fold(Peer peer, BenchSocket socket) {
            peer.socket = null;
            peer.offset = socket.lastOffset();
            peer.frames += socket.chatFrames();
            peer.orderErrors += socket.orderErrors();
            peer.presenceFrames += socket.presenceFrames();
            peer.reset |= socket.wasReset();
            String reason = "close " + socket.closeCode();
            if (socket.isSynced() && socket == peer.before) {
                count(dropped, reason);
            } else {
                count(healthAt == 0 ? failedBefore : refused, reason + " " + shortened(socket.firstError()));
            }
        }

        private void attempt(Peer peer) {
            peer.connecting = true;
            peer.due = 0;
            BenchSocket socket = new BenchSocket(peer.offset);
            if (peer == sender) {
                socket.ackSink(this);
            }
            long start = System.nanoTime();
            nio.connect(chat, WsClient.query(ROOM, peer.offset, options.framesAsLines) + "&epoch=" + epoch, socket)
                    .whenComplete((opened, failure) -> {
                        // Counted once /health answers 200: a connection queued before, while Tomcat bound its
                        // port but did not accept yet, is answered after it.
                        boolean afterHealth = healthAt != 0;
                        if (failure != null) {
                            count(afterHealth ? refused : failedBefore, reasonOf(failure));
                        } else {
                            long took = System.nanoTime() - start;
                            if (afterHealth) {
                                longestHandshake.accumulateAndGet(took, Math::max);
                                if (took > 1_000_000_000L) {
                                    slowHandshakes.increment();
                                }
                            }
                            peer.socket = opened;
                        }
                        peer.connecting = false;
                    });
        }

        /** The sender's thread: each message once it is due, and again on the next connection until acked. */
        private void feed(long deadline) {
            long start = System.nanoTime();
            try {
                while (!allAcked() && System.nanoTime() - deadline < 0) {
                    long now = System.nanoTime();
                    BenchSocket socket = sender.socket;
                    for (int seq = 0; seq < MESSAGES_DURING && now - start >= seq * SEND_INTERVAL_NANOS; seq++) {
                        if (acked.get(seq) == 0 && sender.live() && (sentOn[seq] != socket
                                || now - sentAt[seq] > RESEND_NANOS)) {
                            sentOn[seq] = socket;
                            sentAt[seq] = now;
                            socket.send("{\"type\":\"chat message\",\"text\":\"" + name + " message " + seq
                                    + "\",\"clientOffset\":\"" + prefix + seq + "\"}");
                        }
                    }
                    Thread.sleep(5);
                }
            } catch (InterruptedException stopped) {
                // the storm is over
            }
        }

        @Override
        public void acked(String clientOffset, long offset) {
            if (clientOffset != null && clientOffset.startsWith(prefix)) {
                acked.compareAndSet(Integer.parseInt(clientOffset.substring(prefix.length())), 0, offset);
            }
        }

        @Override
        public void refused(String clientOffset, String frame) {
            String code = frame.replaceFirst(".*\"code\":\"([^\"]*)\".*", "$1");
            count(messagesRefused, code.length() > 40 ? shortened(frame) : code);
        }
    }

    /**
     * Waits until the redeploy shows: /health answers anything but 200, or a live client's connection closes. An
     * undeploy closes the sessions first and removes the context a moment later, so after a close /health is given
     * {@link #UNDEPLOY_GRACE_NANOS} to stop answering 200; if it never does, Tomcat reloaded the context instead
     * (it does with a context descriptor in conf/Catalina/localhost), holding the requests meanwhile.
     */
    private static void awaitUndeployed(ServerUnderTest server, List<Peer> peers, long deadline) throws Exception {
        while (healthy(server)) {
            if (peers.stream().anyMatch(p -> p.before != null && p.before.closeCode() != -1)) {
                long grace = System.nanoTime() + UNDEPLOY_GRACE_NANOS;
                while (healthy(server) && System.nanoTime() - grace < 0) {
                    Thread.sleep(20);
                }
                return;
            }
            if (System.nanoTime() - deadline > 0) {
                throw new TimeoutException("neither did /health answer anything but 200 nor did a connection close"
                        + " after the redeploy: is autoDeploy off?");
            }
            Thread.sleep(20);
        }
    }

    /** Polls /health every 20 ms until it answers 200 ({@code up}) or anything else; returns when it did. */
    private static long awaitHealth(ServerUnderTest server, boolean up, long deadline, CompletableFuture<Void> starting)
            throws Exception {
        while (healthy(server) != up) {
            if (starting != null && starting.isCompletedExceptionally()) {
                starting.join();
            }
            if (System.nanoTime() - deadline > 0) {
                throw new TimeoutException("/health did not answer " + (up ? "" : "anything but ") + "200 in time");
            }
            Thread.sleep(20);
        }
        return System.nanoTime();
    }

    private static String reasonOf(Throwable failure) {
        Throwable cause = failure instanceof java.util.concurrent.CompletionException && failure.getCause() != null
                ? failure.getCause() : failure;
        String text = String.valueOf(cause.getMessage());
        int refusedAt = text.indexOf("upgrade refused: ");
        if (refusedAt >= 0) {
            return "HTTP " + text.substring(refusedAt + 17).replaceFirst("^HTTP/1.1 ", "");
        }
        return shortened(text.replaceFirst("^handshake with \\S+ failed: ", ""));
    }

    private static String shortened(String text) {
        String value = String.valueOf(text);
        return value.length() > 80 ? value.substring(0, 80) + "..." : value;
    }

    private static void count(Map<String, LongAdder> counts, String reason) {
        counts.computeIfAbsent(reason, r -> new LongAdder()).increment();
    }

    private static long total(Map<String, LongAdder> counts) {
        return counts.values().stream().mapToLong(LongAdder::sum).sum();
    }

    private static String reasons(Map<String, LongAdder> counts) {
        if (counts.isEmpty()) {
            return null;
        }
        return new TreeMap<>(counts).entrySet().stream().map(e -> e.getValue().sum() + " x " + e.getKey())
                .collect(Collectors.joining(", "));
    }

    /** Counters of dropped connection attempts in TcpExt of /proc/net/netstat (the whole machine), in this order. */
    private static final List<String> DROP_COUNTERS = List.of("ListenOverflows", "ListenDrops", "TCPReqQFullDrop",
            "TCPReqQFullDoCookies");

    private static long[] listenDrops() {
        long[] counts = new long[DROP_COUNTERS.size()];
        try {
            List<String> lines = Files.readAllLines(Path.of("/proc/net/netstat")).stream()
                    .filter(l -> l.startsWith("TcpExt:")).toList();
            List<String> names = Arrays.asList(lines.get(0).split("\\s+"));
            String[] values = lines.get(1).split("\\s+");
            for (int i = 0; i < counts.length; i++) {
                int at = names.indexOf(DROP_COUNTERS.get(i));
                counts[i] = at < 0 ? 0 : Long.parseLong(values[at]);
            }
        } catch (IOException | RuntimeException e) {
            // not Linux: zeros
        }
        return counts;
    }

    private static String dropsSince(long[] before) {
        long[] now = listenDrops();
        List<String> parts = new ArrayList<>();
        for (int i = 0; i < now.length; i++) {
            parts.add(DROP_COUNTERS.get(i) + " " + (now[i] - before[i]));
        }
        return String.join(", ", parts);
    }
}
