package chat.bench;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The benchmark's reader of {@code /metrics}: samples are found by name and labels, a trailing timestamp is
 * ignored, and a sample that is absent reads as NaN.
 */
class PrometheusTextTest {

    private static final String EXPOSITION = """
            # HELP chat_replayed_messages_total Messages replayed to reconnecting clients.
            # TYPE chat_replayed_messages_total counter
            chat_replayed_messages_total{source="memory"} 1500
            chat_replayed_messages_total{source="store"} 0
            # TYPE chat_commit_batch_size histogram
            chat_commit_batch_size_bucket{le="1.0"} 3
            chat_commit_batch_size_bucket{le="+Inf"} 10
            chat_commit_batch_size_sum 250.0
            chat_commit_batch_size_count 10
            jvm_memory_used_bytes{area="heap"} 1.2345E7 1700000000000
            process_resident_memory_bytes 9.8e7
            """;

    @Test
    void readsSamplesByNameAndLabels() {
        PrometheusText text = PrometheusText.parse(EXPOSITION);
        assertEquals(1500, text.value("chat_replayed_messages_total{source=\"memory\"}"));
        assertEquals(0, text.value("chat_replayed_messages_total{source=\"store\"}"));
        assertEquals(10, text.value("chat_commit_batch_size_bucket{le=\"+Inf\"}"));
        assertEquals(12_345_000, text.value("jvm_memory_used_bytes{area=\"heap\"}"), "timestamp ignored");
        assertEquals(98_000_000, text.value("process_resident_memory_bytes"));
    }

    @Test
    void anAbsentSampleIsNaN() {
        PrometheusText text = PrometheusText.parse(EXPOSITION);
        assertTrue(Double.isNaN(text.value("chat_connections")));
        assertTrue(text.has("chat_commit_batch_size_sum"));
        assertTrue(text.has("chat_replayed_messages_total"));
        assertFalse(text.has("chat_connections"));
    }
}
