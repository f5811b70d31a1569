package chat.bench;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The samples of a Prometheus text exposition: {@code name{labels} value [timestamp]} lines, comments skipped.
 * A sample is keyed by its name and its labels as written, e.g. {@code chat_replayed_messages_total{source="store"}}.
 */
final class PrometheusText {

    private final Map<String, Double> samples;

    private PrometheusText(Map<String, Double> samples) {
        this.samples = samples;
    }

    static PrometheusText parse(String text) {
        Map<String, Double> samples = new LinkedHashMap<>();
        for (String raw : text.split("\n")) {
            String line = raw.strip();
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            int labelsEnd = line.indexOf('{') >= 0 ? line.indexOf('}') + 1 : 0;
            int space = line.indexOf(' ', labelsEnd);
            if (space < 0) {
                continue;
            }
            String key = line.substring(0, space).replace(" ", "");
            String value = line.substring(space + 1).strip().split(" ")[0];
            samples.put(key, parseValue(value));
        }
        return new PrometheusText(samples);
    }

    private static double parseValue(String value) {
        return switch (value) {
            case "+Inf" -> Double.POSITIVE_INFINITY;
            case "-Inf" -> Double.NEGATIVE_INFINITY;
            case "NaN" -> Double.NaN;
            default -> Double.parseDouble(value);
        };
    }

    /** The sample, or NaN when the exposition has none of that name and labels. */
    double value(String key) {
        return samples.getOrDefault(key, Double.NaN);
    }

    /** Whether any sample has this metric name (with or without labels). */
    boolean has(String name) {
        return samples.keySet().stream().anyMatch(k -> k.equals(name) || k.startsWith(name + "{"));
    }
}
