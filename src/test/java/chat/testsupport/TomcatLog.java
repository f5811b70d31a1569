package chat.testsupport;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * What the Tomcat under test wrote to its own logs ({@code logs/catalina.*.log}, {@code logs/localhost.*.log}
 * under {@code it.tomcat.home}) since a mark: a test takes a mark first and reads the lines after it at the end.
 * Tomcat's file handler writes asynchronously, so {@link #linesSinceMark()} waits a moment for it first.
 */
public final class TomcatLog {

    private final Path logs = Path.of(System.getProperty("it.tomcat.home"), "logs");
    private final Map<Path, Long> sizesAtMark = new HashMap<>();

    private TomcatLog() {
    }

    public static TomcatLog mark() throws IOException {
        TomcatLog log = new TomcatLog();
        for (Path file : log.files()) {
            log.sizesAtMark.put(file, Files.size(file));
        }
        return log;
    }

    /** Every line in the logs, from the start of the server. */
    public static List<String> allLines() throws IOException {
        List<String> lines = new ArrayList<>();
        for (Path file : new TomcatLog().files()) {
            Files.readAllLines(file, StandardCharsets.UTF_8).forEach(lines::add);
        }
        return lines;
    }

    /** The lines written since the mark, in files that existed then and in files started since (a new day). */
    public List<String> linesSinceMark() throws IOException, InterruptedException {
        Thread.sleep(1_500);
        List<String> lines = new ArrayList<>();
        for (Path file : files()) {
            byte[] all = Files.readAllBytes(file);
            int start = (int) Math.min(all.length, sizesAtMark.getOrDefault(file, 0L));
            new String(all, start, all.length - start, StandardCharsets.UTF_8).lines()
                    .map(line -> file.getFileName() + ": " + line)
                    .forEach(lines::add);
        }
        return lines;
    }

    /** The SEVERE records since the mark, each with the lines that follow it up to the next record. */
    public List<String> severeSinceMark() throws IOException, InterruptedException {
        List<String> lines = linesSinceMark();
        List<String> severe = new ArrayList<>();
        for (int i = 0; i < lines.size(); i++) {
            if (lines.get(i).contains(" SEVERE ")) {
                StringBuilder record = new StringBuilder(lines.get(i));
                for (int j = i + 1; j < lines.size() && j < i + 12 && !isRecordStart(lines.get(j)); j++) {
                    record.append('\n').append(lines.get(j));
                }
                severe.add(record.toString());
            }
        }
        return severe;
    }

    /** Tomcat's OneLineFormatter starts each record with the date: {@code 25-Nov-2026 03:30:15.151 LEVEL [thread]}. */
    private static boolean isRecordStart(String line) {
        String text = line.substring(line.indexOf(": ") + 2);
        return text.matches("^\\d{2}-\\w{3}-\\d{4} \\d{2}:\\d{2}:\\d{2}\\.\\d{3} .*");
    }

    private List<Path> files() throws IOException {
        if (!Files.isDirectory(logs)) {
            return List.of();
        }
        try (Stream<Path> files = Files.list(logs)) {
            return files.filter(file -> {
                String name = file.getFileName().toString();
                return (name.startsWith("catalina.") || name.startsWith("localhost.")) && name.endsWith(".log");
            }).sorted().toList();
        }
    }
}
