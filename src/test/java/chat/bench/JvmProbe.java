package chat.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Looks at the server's JVM from outside: heap after a full GC ({@code jcmd}) and resident memory (/proc). */
final class JvmProbe {

    private static final Pattern HEAP_USED = Pattern.compile("total \\d+K, used (\\d+)K");
    private static final long JCMD_TIMEOUT_SECONDS = 60;

    private final long pid;

    JvmProbe(long pid) {
        this.pid = pid;
    }

    /** Bytes of heap in use right after a full GC. */
    long heapAfterGc() throws IOException, InterruptedException {
        jcmd("GC.run");
        Matcher used = HEAP_USED.matcher(jcmd("GC.heap_info"));
        if (!used.find()) {
            throw new IOException("jcmd GC.heap_info of " + pid + " named no heap use");
        }
        return Long.parseLong(used.group(1)) * 1024;
    }

    /** VmRSS of /proc/pid/status, in bytes. */
    long residentBytes() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("\\D", "")) * 1024;
            }
        }
        throw new IOException("/proc/" + pid + "/status has no VmRSS");
    }

    String jcmd(String... command) throws IOException, InterruptedException {
        List<String> line = new ArrayList<>(List.of(jdkTool("jcmd"), Long.toString(pid)));
        line.addAll(List.of(command));
        // Output to a file rather than a pipe, so that a jcmd that hangs cannot block the read past the timeout.
        Path output = Files.createTempFile("jcmd", ".out");
        try {
            Process process = new ProcessBuilder(line).redirectErrorStream(true).redirectOutput(output.toFile()).start();
            if (!process.waitFor(JCMD_TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                throw new IOException("jcmd " + String.join(" ", command) + " did not finish within "
                        + JCMD_TIMEOUT_SECONDS + " s");
            }
            String text = Files.readString(output, StandardCharsets.UTF_8);
            if (process.exitValue() != 0) {
                throw new IOException("jcmd " + String.join(" ", command) + " failed: " + text);
            }
            return text;
        } finally {
            Files.deleteIfExists(output);
        }
    }

    static String jdkTool(String name) {
        Path tool = Path.of(System.getProperty("java.home"), "bin", name);
        return Files.isExecutable(tool) ? tool.toString() : name;
    }
}
