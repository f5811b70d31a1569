package chat.delivery;

import chat.metrics.ChatMetrics;

import io.prometheus.metrics.model.snapshots.CounterSnapshot;

/** What {@code chat_replayed_messages_total} counts so far from one source: memory, shared or store. */
final class Replayed {

    private Replayed() {
    }

    static long from(ChatMetrics metrics, String source) {
        for (var snapshot : metrics.registry().scrape(name -> name.equals("chat_replayed_messages"))) {
            for (var point : ((CounterSnapshot) snapshot).getDataPoints()) {
                if (source.equals(point.getLabels().get("source"))) {
                    return (long) point.getValue();
                }
            }
        }
        throw new AssertionError("no chat_replayed_messages{source=" + source + "}");
    }
}
