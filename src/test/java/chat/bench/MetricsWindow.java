package chat.bench;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * How the server's counters moved over a phase, summed over the nodes on a cluster, or NaN for every figure when
 * a server has no /metrics.
 */
final class MetricsWindow {

    static final String COMMITTED = "chat_messages_committed_total";
    static final String BATCH_SUM = "chat_commit_batch_size_sum";
    static final String BATCH_COUNT = "chat_commit_batch_size_count";
    static final String COMMIT_SECONDS_SUM = "chat_commit_seconds_sum";
    static final String COMMIT_SECONDS_COUNT = "chat_commit_seconds_count";
    static final String COMMITS_WITHIN_10_MS = "chat_commit_seconds_bucket{le=\"0.01\"}";
    static final String REPLAYED_MEMORY = "chat_replayed_messages_total{source=\"memory\"}";
    static final String REPLAYED_STORE = "chat_replayed_messages_total{source=\"store\"}";
    static final String REPLAYED_SHARED = "chat_replayed_messages_total{source=\"shared\"}";

    private final List<ServerUnderTest> servers;
    private final List<Optional<PrometheusText>> before = new ArrayList<>();
    private final List<Optional<PrometheusText>> after = new ArrayList<>();

    private MetricsWindow(List<ServerUnderTest> servers) {
        this.servers = List.copyOf(servers);
        for (ServerUnderTest server : this.servers) {
            before.add(server.metrics());
        }
    }

    static MetricsWindow open(ServerUnderTest server) {
        return new MetricsWindow(List.of(server));
    }

    /** Every node's counters, summed. */
    static MetricsWindow open(List<ServerUnderTest> servers) {
        return new MetricsWindow(servers);
    }

    MetricsWindow close() {
        after.clear();
        for (ServerUnderTest server : servers) {
            after.add(server.metrics());
        }
        return this;
    }

    boolean available() {
        return !servers.isEmpty() && after.size() == servers.size()
                && before.stream().allMatch(Optional::isPresent) && after.stream().allMatch(Optional::isPresent);
    }

    /** The change of one sample over the phase, summed over the nodes; NaN if either side lacks it. */
    double delta(String key) {
        if (!available()) {
            return Double.NaN;
        }
        double sum = 0;
        for (int i = 0; i < servers.size(); i++) {
            sum += after.get(i).get().value(key) - before.get(i).get().value(key);
        }
        return sum;
    }

    /** Messages per commit over the phase, from the batch-size histogram. */
    double meanBatchSize() {
        return delta(BATCH_SUM) / delta(BATCH_COUNT);
    }

    /** Mean time per commit over the phase, in milliseconds. */
    double meanCommitMillis() {
        return 1000 * delta(COMMIT_SECONDS_SUM) / delta(COMMIT_SECONDS_COUNT);
    }

    /** Commits over the phase that took more than 10 ms, in percent. */
    double commitsOver10MillisPercent() {
        double count = delta(COMMIT_SECONDS_COUNT);
        return 100 * (count - delta(COMMITS_WITHIN_10_MS)) / count;
    }

    static String absentNote() {
        return "the server has no /metrics";
    }
}
