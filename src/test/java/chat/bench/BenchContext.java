package chat.bench;

import chat.testsupport.JvmProbe;

import java.util.Optional;
import java.util.UUID;

/** What every scenario uses: the options, the server, the clients' HTTP stack, the report. */
final class BenchContext {

    final BenchOptions options;
    final ServerUnderTest server;
    final Report report;
    final WsClient client;
    /** Unique per run, so that clientOffsets never collide with those of an earlier run on the same database. */
    final String runTag = UUID.randomUUID().toString().substring(0, 8);

    BenchContext(BenchOptions options, ServerUnderTest server, Report report, WsClient client) {
        this.options = options;
        this.server = server;
        this.report = report;
        this.client = client;
    }

    /** The end of a phase that starts now. */
    long deadline() {
        return System.nanoTime() + options.phaseTimeout.toNanos();
    }

    CpuMeter cpu() {
        return CpuMeter.start(server.pid());
    }

    Optional<JvmProbe> probe() {
        return server.pid().isPresent() ? Optional.of(new JvmProbe(server.pid().getAsLong())) : Optional.empty();
    }
}
