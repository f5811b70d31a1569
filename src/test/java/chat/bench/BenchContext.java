package chat.bench;

import chat.testsupport.JvmProbe;

import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.UUID;

/**
 * What every scenario uses: the options, the server, the clients' HTTP stack, the report. On several nodes of one
 * chat ({@link ClusterScenario}) the servers are the nodes: socket {@code i} of a scenario goes to node
 * {@code i % nodes}, and {@link #server} is the first node.
 */
final class BenchContext {

    final BenchOptions options;
    final ServerUnderTest server;
    /** Every node the scenarios spread their sockets over; just {@link #server} unless on a cluster. */
    final List<ServerUnderTest> servers;
    /** The database server's process (PostgreSQL's postmaster), whose CPU is reported apart; empty for SQLite. */
    final OptionalLong databasePid;
    /** Where the messages are stored, as the report names it: SQLite or PostgreSQL. */
    final String storeName;
    /** PostgreSQL's sessions, sampled in every phase; null for SQLite. */
    final PostgresWaits databaseWaits;
    /** Every node of the chat, whose CPU is the server's, also when a phase talks to one node of it only. */
    private final List<ServerUnderTest> allNodes;
    final Report report;
    final WsClient client;
    /** Whether the scenario's clients take several frames in one WebSocket message ({@code frames=lines}). */
    final boolean framesAsLines;
    /** Unique per run, so that clientOffsets never collide with those of an earlier run on the same database. */
    final String runTag = UUID.randomUUID().toString().substring(0, 8);

    BenchContext(BenchOptions options, ServerUnderTest server, Report report, WsClient client) {
        this(options, server == null ? List.of() : List.of(server), OptionalLong.empty(), "SQLite", null, report,
                client);
    }

    BenchContext(BenchOptions options, List<ServerUnderTest> servers, OptionalLong databasePid, String storeName,
            PostgresWaits databaseWaits, Report report, WsClient client) {
        this(options, servers, servers, databasePid, storeName, databaseWaits, report, client, options.framesAsLines);
    }

    private BenchContext(BenchOptions options, List<ServerUnderTest> servers, List<ServerUnderTest> nodes,
            OptionalLong databasePid, String storeName, PostgresWaits databaseWaits, Report report,
            WsClient client, boolean framesAsLines) {
        this.options = options;
        this.allNodes = List.copyOf(nodes);
        this.servers = List.copyOf(servers);
        this.server = servers.isEmpty() ? null : servers.get(0);
        this.databasePid = databasePid;
        this.storeName = storeName;
        this.databaseWaits = databaseWaits;
        this.report = report;
        this.client = client;
        this.framesAsLines = framesAsLines;
    }

    /** The same, its sockets all on node {@code node}; the CPU of every node still counts as the server's. */
    BenchContext onNode(int node) {
        return new BenchContext(options, List.of(servers.get(node)), allNodes, databasePid, storeName, databaseWaits,
                report, client, framesAsLines);
    }

    /** The same, its clients taking several frames in one WebSocket message or not. */
    BenchContext framesAsLines(boolean asLines) {
        return new BenchContext(options, servers, allNodes, databasePid, storeName, databaseWaits, report, client,
                asLines);
    }

    int nodes() {
        return servers.size();
    }

    /** The node a scenario's socket {@code index} connects to. */
    int nodeOf(int index) {
        return index % servers.size();
    }

    ServerUnderTest serverFor(int index) {
        return servers.get(nodeOf(index));
    }

    /** The end of a phase that starts now. */
    long deadline() {
        return System.nanoTime() + options.phaseTimeout.toNanos();
    }

    CpuMeter cpu() {
        return CpuMeter.start(allNodes.stream().map(ServerUnderTest::pid).filter(OptionalLong::isPresent)
                .map(OptionalLong::getAsLong).toList(), allNodes.stream().anyMatch(s -> s.pid().isEmpty()),
                databasePid, databaseWaits);
    }

    Optional<JvmProbe> probe() {
        return server.pid().isPresent() ? Optional.of(new JvmProbe(server.pid().getAsLong())) : Optional.empty();
    }
}
