package chat.bench;

import chat.testsupport.Postgres;
import chat.testsupport.StockTomcat;

import java.net.URI;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Several nodes of one chat on PostgreSQL: one PostgreSQL server of the benchmark's own ({@link Postgres}: fsync
 * and synchronous_commit on), and on it, in turn, 1, 2 and 3 stock Tomcat nodes with the packaged WAR, each node
 * count on a fresh database of its own. For each: the ingest scenario with its 10 senders spread over the nodes,
 * the fanout scenario with its 100 clients spread over them (every client's stream checked gapless and in order),
 * its paced run with the latencies split into a sender and a recipient on the same node and on different nodes,
 * and, on 2 and 3 nodes, a replay from offset 0 on the last node of a room written through the first.
 *
 * <p>Every process it starts (PostgreSQL, the nodes) is stopped when it ends, whether it failed or not; the nodes
 * of a node count are stopped before the next count's start.
 */
final class ClusterScenario {

    static final double INGEST_TARGET = 20_000;
    /** The node count the ingest target is for. */
    static final int INGEST_TARGET_NODES = 3;
    private static final String[] SETTINGS = {"server_version", "synchronous_commit", "fsync", "wal_sync_method",
        "full_page_writes", "commit_delay", "shared_buffers", "max_connections"};

    private final BenchOptions options;
    private final Report report;
    private final WsClient client;

    ClusterScenario(BenchOptions options, Report report, WsClient client) {
        this.options = options;
        this.report = report;
        this.client = client;
    }

    static String label(int nodes) {
        return "cluster " + nodes + (nodes == 1 ? " node" : " nodes");
    }

    void run() throws Exception {
        Bench.log("cluster: starting PostgreSQL");
        boolean failed = false;
        try (Postgres postgres = Postgres.start("bench-postgres")) {
            serverFacts(postgres);
            for (int nodes : options.clusterNodes) {
                boolean[] allDone = {true};
                failed |= !Bench.attempt(report, label(nodes), () -> allDone[0] = runOn(postgres, nodes));
                failed |= !allDone[0];
            }
            Bench.log("cluster: stopping PostgreSQL (pid " + postgres.pid() + ")");
        }
        compare();
        if (failed) {
            throw new IllegalStateException("a part of the cluster scenario failed; see the rows above");
        }
    }

    /** PostgreSQL's version and the settings that decide a commit's cost, as the server reports them. */
    private void serverFacts(Postgres postgres) throws SQLException {
        Map<String, String> values = new LinkedHashMap<>();
        try (Connection connection = postgres.connect(); Statement statement = connection.createStatement()) {
            statement.setQueryTimeout(10);
            for (String setting : SETTINGS) {
                try (ResultSet value = statement.executeQuery("SHOW " + setting)) {
                    value.next();
                    values.put(setting, value.getString(1));
                }
            }
        }
        StringBuilder fact = new StringBuilder("PostgreSQL ").append(values.remove("server_version"));
        values.forEach((name, value) -> fact.append(", ").append(name).append('=').append(value));
        report.fact("cluster database", fact + " (SHOW on the server; data in " + postgres.dataDirectory()
                + ", pid " + postgres.pid() + ")");
    }

    /** One node count on a fresh database; returns whether every part of it completed. */
    private boolean runOn(Postgres postgres, int count) throws Exception {
        String database = "bench_n" + count;
        String url = postgres.createDatabase(database);
        List<StockTomcat> nodes = new ArrayList<>();
        try {
            List<ServerUnderTest> servers = new ArrayList<>();
            for (int k = 1; k <= count; k++) {
                String name = "bench-n" + count + "-node" + k;
                StockTomcat node = StockTomcat.create(name);
                nodes.add(node);
                List<String> jvm = Bench.serverJvmOptions(options, name);
                jvm.add("-Dchat.db.url=" + url);
                jvm.add("-Dchat.db.user=" + postgres.user());
                jvm.add("-Dchat.db.password=" + postgres.password());
                node.jvmOptions(jvm);
                Bench.log(label(count) + ": starting node " + k + " on database " + database);
                node.start();
                servers.add(new ServerUnderTest(URI.create("ws://127.0.0.1:" + node.uri().getPort() + "/chat"),
                        OptionalLong.of(node.pid()), "node " + k + ", pid " + node.pid()));
                if (count == options.clusterNodes.get(0) && k == 1) {
                    report.fact("cluster nodes", "stock Tomcat, the packaged WAR as ROOT, each with "
                            + String.join(" ", jvm.subList(0, jvm.size() - 3)) + " -Dchat.db.url=" + url.replace(
                                    database, "bench_n<nodes>") + " (HikariCP pool of the WAR's own)");
                }
            }
            BenchContext context = new BenchContext(options, servers, OptionalLong.of(postgres.pid()), "PostgreSQL",
                    new PostgresWaits(() -> postgres.connect(url)), report, client);
            String label = label(count);
            boolean done = Bench.attempt(report, label + " ingest", new IngestScenario(context, label + " ingest",
                    count == INGEST_TARGET_NODES ? Report.Target.atLeast(INGEST_TARGET) : null, null)::run);
            done &= Bench.attempt(report, label + " fanout", new FanoutScenario(context, label + " fanout",
                    true)::run);
            if (count > 1) {
                done &= Bench.attempt(report, label + " replay", () -> replayElsewhere(context, label));
            }
            return done;
        } finally {
            List<StockTomcat> stopping = new ArrayList<>(nodes);
            Collections.reverse(stopping);
            for (StockTomcat node : stopping) {
                if (node.isRunning()) {
                    Bench.log(label(count) + ": stopping node (pid " + node.pid() + ")");
                }
                node.close();
            }
        }
    }

    /**
     * A room of its own written through the first node (4 senders, as the replay scenario seeds), then replayed
     * from offset 0 on the last node: once by one client from offset 1 while that node's JIT has not compiled the
     * replay path yet (no figure to go by), then by one client from 0 (messages/s), then by 50 at once (frames/s). The last node
     * got the room's messages only through its follower; a client of it that follows the room from its start
     * says when it has them all, before the replays begin.
     */
    private void replayElsewhere(BenchContext context, String label) throws Exception {
        int last = context.nodes() - 1;
        BenchContext writer = context.onNode(0);
        BenchContext reader = context.onNode(last);
        String room = "bench-" + context.runTag + "-replay";
        int count = options.scaled(20_000, 1_000);
        long deadline = context.deadline();
        List<BenchSocket> watcher = Clients.connect(reader, 1, i -> room, 0, 1, deadline);
        long latest;
        try {
            Clients.awaitSynced(watcher, deadline);
            latest = new ReplayScenario(writer).seed(room, 0, count, "-replay");
            CountDownLatch reached = new CountDownLatch(1);
            watcher.get(0).expect(latest, reached);
            if (!reached.await(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS)) {
                throw new TimeoutException("node " + (last + 1) + " did not deliver the room's message " + latest
                        + " in time (at " + watcher.get(0).lastOffset() + "); first problem: "
                        + Clients.firstProblem(watcher));
            }
            if (watcher.get(0).orderErrors() + watcher.get(0).errorFrames() > 0) {
                throw new IllegalStateException("node " + (last + 1) + " delivered the room out of order: "
                        + Clients.firstProblem(watcher));
            }
        } finally {
            Clients.abortAll(watcher);
        }
        ReplayScenario replay = new ReplayScenario(reader);
        String scenario = label + " replay on node " + (last + 1);
        // From offset 1, not 0: the node keeps the pages a replay read from the store (SharedPages) by where they
        // start, and the measured replays from 0 must read theirs from PostgreSQL.
        replay.replay(scenario + " cold", room, 1, latest, 1, true, false);
        replay.replay(scenario, room, 0, latest, 1, false, false);
        replay.replay(scenario + ", " + ReplayScenario.CLIENTS + " clients", room, 0, latest,
                ReplayScenario.CLIENTS, false, false);
    }

    /** Notes that put each figure of every node count side by side, after SQLite's of the same run. */
    private void compare() {
        side("acked messages/s (10 senders, window 32)", "ingest", IngestScenario.ACKED_METRIC, " ingest",
                IngestScenario.ACKED_METRIC);
        side("fanout delivered frames/s (100 clients)", "fanout", FanoutScenario.DELIVERED_METRIC, " fanout",
                FanoutScenario.DELIVERED_METRIC);
        side("paced p99 at 500 msgs/s, sender and recipient on the same node (SQLite: all pairs)", "fanout paced",
                "end-to-end latency p99", " fanout paced", FanoutScenario.SAME_NODE_P99);
        side("paced p99 at 500 msgs/s, sender and recipient on different nodes", null, null, " fanout paced",
                FanoutScenario.CROSS_NODE_P99);
        side("replay from offset 0 on the last node, 1 client, of a room written through the first", null, null,
                " replay on node %d", ReplayScenario.REPLAYED_ONE_CLIENT);
    }

    private void side(String what, String sqliteScenario, String sqliteMetric, String clusterScenario,
            String clusterMetric) {
        List<String> figures = new ArrayList<>();
        if (sqliteScenario != null) {
            figures.add("SQLite " + figure(report.value(sqliteScenario, sqliteMetric)));
        }
        for (int nodes : options.clusterNodes) {
            Double value = report.value(label(nodes) + clusterScenario.replace("%d", Integer.toString(nodes)),
                    clusterMetric);
            if (value != null) {
                figures.add("PostgreSQL " + nodes + (nodes == 1 ? " node " : " nodes ") + figure(value));
            }
        }
        report.note("side by side, this run: " + what + ": " + String.join("; ", figures));
    }

    private static String figure(Double value) {
        return value == null || value.isNaN() ? "n/a" : Report.number(value);
    }
}
