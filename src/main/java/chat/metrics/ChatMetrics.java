package chat.metrics;

import io.prometheus.metrics.core.datapoints.CounterDataPoint;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.model.registry.PrometheusRegistry;

import java.util.function.LongSupplier;

/**
 * What the chat counts, registered in a Prometheus registry of the webapp's own. Exemplars are off: they would
 * start the client library's scheduler thread, which would outlive an undeployed webapp.
 */
public final class ChatMetrics {

    private static final double NANOS_PER_SECOND = 1e9;

    private final PrometheusRegistry registry;
    private final Counter committed;
    private final Counter deduplicated;
    private final Counter failedCommits;
    private final Histogram batchSize;
    private final Histogram commitSeconds;
    private final Counter slowConsumersClosed;
    private final Counter quotaRefusals;
    private final Counter retentionDeleted;
    private final CounterDataPoint replayedFromMemory;
    private final CounterDataPoint replayedFromStore;
    private final CounterDataPoint replayedFromSharedPages;

    public ChatMetrics(PrometheusRegistry registry) {
        this.registry = registry;
        committed = Counter.builder().name("chat_messages_committed")
                .help("Messages stored (a resend of a stored clientOffset is not counted)")
                .withoutExemplars().register(registry);
        deduplicated = Counter.builder().name("chat_messages_deduplicated")
                .help("Resends of a stored clientOffset, acknowledged with the stored offset and not stored again")
                .withoutExemplars().register(registry);
        failedCommits = Counter.builder().name("chat_commits_failed")
                .help("Transactions that did not commit; their senders got store-unavailable")
                .withoutExemplars().register(registry);
        batchSize = Histogram.builder().name("chat_commit_batch_size")
                .help("Messages per transaction (group commit)")
                .classicOnly().classicUpperBounds(1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 4096, 16384)
                .withoutExemplars().register(registry);
        commitSeconds = Histogram.builder().name("chat_commit_seconds")
                .help("Time to store one batch, sync included")
                .classicOnly().classicUpperBounds(0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 5)
                .withoutExemplars().register(registry);
        slowConsumersClosed = Counter.builder().name("chat_slow_consumers_closed")
                .help("Connections closed because their outbound queue was over its cap")
                .withoutExemplars().register(registry);
        quotaRefusals = Counter.builder().name("chat_quota_refusals")
                .help("Messages refused with quota-exceeded: their address had stored its daily quota")
                .withoutExemplars().register(registry);
        retentionDeleted = Counter.builder().name("chat_retention_deleted_messages")
                .help("Oldest messages deleted for chat.retentionDays or chat.retentionMaxBytes")
                .withoutExemplars().register(registry);
        Counter replayed = Counter.builder().name("chat_replayed_messages")
                .help("Messages replayed to reconnecting clients: from the in-memory recovery window, from the store,"
                        + " or from store pages another replay had just read")
                .labelNames("source").withoutExemplars().register(registry);
        replayedFromMemory = replayed.labelValues("memory");
        replayedFromStore = replayed.labelValues("store");
        replayedFromSharedPages = replayed.labelValues("shared");
    }

    /** A metrics set of its own, for tests and tools. */
    public static ChatMetrics unregistered() {
        return new ChatMetrics(new PrometheusRegistry());
    }

    public PrometheusRegistry registry() {
        return registry;
    }

    /** Gauges read when scraped. */
    public void watch(LongSupplier connections, LongSupplier queuedFrames, LongSupplier maxQueuedFrames,
                      LongSupplier writeQueue) {
        gauge("chat_connections", "Open chat connections", connections);
        gauge("chat_outbox_frames", "Frames waiting in all connections' outbound queues", queuedFrames);
        gauge("chat_outbox_frames_max", "Frames waiting in the fullest outbound queue", maxQueuedFrames);
        gauge("chat_write_queue", "Messages waiting for the writer", writeQueue);
    }

    /** The heap that replays of store pages hold, and the replays waiting for room in it. */
    public void watchReplays(LongSupplier memoryBytes, LongSupplier waiting) {
        gauge("chat_replay_memory_bytes", "Bytes of replay pages read from the store and not yet sent", memoryBytes);
        gauge("chat_replays_waiting", "Replays waiting for room in chat.replayMemoryMax", waiting);
    }

    private void gauge(String name, String help, LongSupplier value) {
        GaugeWithCallback.builder().name(name).help(help)
                .callback(callback -> callback.call(value.getAsLong())).register(registry);
    }

    /** One transaction committed. */
    public void committed(int messages, int inserted, long nanos) {
        batchSize.observe(messages);
        commitSeconds.observe(nanos / NANOS_PER_SECOND);
        committed.inc(inserted);
        if (messages > inserted) {
            deduplicated.inc(messages - inserted);
        }
    }

    public void commitFailed() {
        failedCommits.inc();
    }

    public void retentionDeleted(int messages) {
        if (messages > 0) {
            retentionDeleted.inc(messages);
        }
    }

    /** The bytes the store's data takes; -1 when it cannot be read. */
    public void watchStore(LongSupplier storedBytes) {
        gauge("chat_db_bytes", "Bytes the database's data takes (space freed by retention and reused not counted)",
                storedBytes);
    }

    public void quotaRefused() {
        quotaRefusals.inc();
    }

    public void slowConsumerClosed() {
        slowConsumersClosed.inc();
    }

    public void replayedFromMemory(int messages) {
        replayedFromMemory.inc(messages);
    }

    public void replayedFromStore(int messages) {
        replayedFromStore.inc(messages);
    }

    public void replayedFromSharedPages(int messages) {
        replayedFromSharedPages.inc(messages);
    }
}
