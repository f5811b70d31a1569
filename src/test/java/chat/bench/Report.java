package chat.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** The benchmark's results: a plain table for people (report.txt) and the same rows in report.json. */
final class Report {

    /** A bound a value must keep: at least ({@code atLeast}) or at most the threshold. */
    record Target(boolean atLeast, double threshold) {
        static Target atLeast(double threshold) {
            return new Target(true, threshold);
        }

        static Target atMost(double threshold) {
            return new Target(false, threshold);
        }

        boolean met(double value) {
            return atLeast ? value >= threshold : value <= threshold;
        }

        String text(String unit) {
            return (atLeast ? ">= " : "<= ") + number(threshold) + unitSuffix(unit);
        }
    }

    /** One measured figure; a null value is "n/a" (not measurable against this server), with the reason in note. */
    record Row(String scenario, String metric, Double value, String unit, Target target, String reference,
            String note) {
        String verdict() {
            if (value == null || value.isNaN()) {
                return "n/a";
            }
            return target == null ? "-" : target.met(value) ? "PASS" : "MISS";
        }
    }

    private final Map<String, Object> facts = new LinkedHashMap<>();
    private final List<Row> rows = new ArrayList<>();
    private final List<String> notes = new ArrayList<>();

    void fact(String name, Object value) {
        facts.put(name, value);
    }

    void add(String scenario, String metric, Double value, String unit, Target target, String reference, String note) {
        rows.add(new Row(scenario, metric, value, unit, target, reference, note));
        Bench.log(scenario + ": " + metric + " = " + (value == null || value.isNaN() ? "n/a" : number(value))
                + unitSuffix(unit) + (note == null ? "" : " (" + note + ")"));
    }

    /** The value of a row added before, or null if there is none (its scenario did not run, or failed). */
    Double value(String scenario, String metric) {
        for (Row row : rows) {
            if (row.scenario().equals(scenario) && row.metric().equals(metric)) {
                return row.value();
            }
        }
        return null;
    }

    void add(String scenario, String metric, Double value, String unit) {
        add(scenario, metric, value, unit, null, null, null);
    }

    void note(String text) {
        notes.add(text);
        Bench.log("note: " + text);
    }

    String table() {
        String[] header = {"scenario", "metric", "value", "target", "socket.io", "verdict"};
        List<String[]> cells = new ArrayList<>();
        cells.add(header);
        for (Row row : rows) {
            String value = row.value() == null || row.value().isNaN() ? "n/a" : number(row.value()) + unitSuffix(row.unit());
            cells.add(new String[] {row.scenario(), row.metric(), value,
                    row.target() == null ? "" : row.target().text(row.unit()),
                    row.reference() == null ? "" : row.reference(), row.verdict()});
        }
        int[] widths = new int[header.length];
        for (String[] line : cells) {
            for (int i = 0; i < line.length; i++) {
                widths[i] = Math.max(widths[i], line[i].length());
            }
        }
        StringBuilder text = new StringBuilder();
        facts.forEach((name, value) -> text.append(name).append(": ").append(value).append('\n'));
        text.append('\n');
        for (int l = 0; l < cells.size(); l++) {
            String[] line = cells.get(l);
            for (int i = 0; i < line.length; i++) {
                boolean numeric = i == 2;
                String cell = line[i];
                String pad = " ".repeat(widths[i] - cell.length());
                text.append(numeric && l > 0 ? pad + cell : cell + pad).append(i < line.length - 1 ? "  " : "");
            }
            text.append('\n');
            if (l == 0) {
                for (int i = 0; i < widths.length; i++) {
                    text.append("-".repeat(widths[i])).append(i < widths.length - 1 ? "  " : "");
                }
                text.append('\n');
            }
        }
        // A note shared by several rows (e.g. "the server has no /metrics") is printed once, naming them all.
        Map<String, List<String>> rowsByNote = new LinkedHashMap<>();
        for (Row row : rows) {
            if (row.note() != null) {
                rowsByNote.computeIfAbsent(row.note(), n -> new ArrayList<>()).add(row.scenario() + " / " + row.metric());
            }
        }
        List<String> rowNotes = new ArrayList<>();
        rowsByNote.forEach((note, named) -> rowNotes.add(String.join(", ", named) + ": " + note));
        if (!rowNotes.isEmpty() || !notes.isEmpty()) {
            text.append('\n');
            rowNotes.forEach(n -> text.append("* ").append(n).append('\n'));
            notes.forEach(n -> text.append("* ").append(n).append('\n'));
        }
        long misses = rows.stream().filter(r -> r.verdict().equals("MISS")).count();
        long passes = rows.stream().filter(r -> r.verdict().equals("PASS")).count();
        text.append('\n').append(passes).append(" target(s) met, ").append(misses).append(" missed.\n");
        return text.toString();
    }

    void write(Path directory) throws IOException {
        Files.createDirectories(directory);
        Files.writeString(directory.resolve("report.txt"), table());
        List<Map<String, Object>> jsonRows = new ArrayList<>();
        for (Row row : rows) {
            Map<String, Object> json = new LinkedHashMap<>();
            json.put("scenario", row.scenario());
            json.put("metric", row.metric());
            json.put("value", row.value() == null || row.value().isNaN() ? null : row.value());
            json.put("unit", row.unit());
            if (row.target() != null) {
                json.put("target", Map.of("op", row.target().atLeast() ? ">=" : "<=",
                        "value", row.target().threshold()));
            }
            json.put("reference", row.reference());
            json.put("verdict", row.verdict());
            json.put("note", row.note());
            jsonRows.add(json);
        }
        Map<String, Object> document = new LinkedHashMap<>();
        document.put("facts", facts);
        document.put("rows", jsonRows);
        document.put("notes", notes);
        new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT)
                .writeValue(directory.resolve("report.json").toFile(), document);
    }

    static String number(double value) {
        if (Math.abs(value) >= 100 || value == Math.rint(value)) {
            return String.format(Locale.ROOT, "%,.0f", value).replace(',', ' ');
        }
        return String.format(Locale.ROOT, "%.2f", value);
    }

    private static String unitSuffix(String unit) {
        return unit == null || unit.isEmpty() ? "" : " " + unit;
    }
}
