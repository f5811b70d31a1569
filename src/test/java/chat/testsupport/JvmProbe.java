package chat.testsupport;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A server's JVM looked at from outside with the JDK's {@code jcmd}: heap in use after a full GC, resident memory
 * (/proc), any other diagnostic command.
 */
public final class JvmProbe {

    private static final Pattern HEAP_USED = Pattern.compile("total \\d+K, used (\\d+)K");
    private static final long JCMD_TIMEOUT_SECONDS = 60;
    private static final int ATTEMPTS = 3;

    private final long pid;

    public JvmProbe(long pid) {
        this.pid = pid;
    }

    /**
     * The Tomcat JVM of this failsafe execution: the one whose command line ({@code jcmd PID VM.command_line})
     * names {@code it.tomcat.home} and {@code -Dchat.http.port=<it.http.port>}, among those {@code jcmd -l} lists.
     * One that does not answer (a Tomcat that is just ending) is skipped.
     */
    public static JvmProbe tomcatUnderTest() throws IOException, InterruptedException {
        String home = Path.of(TestFiles.required("it.tomcat.home")).toString();
        String port = "-Dchat.http.port=" + TestFiles.required("it.http.port") + " ";
        List<String> seen = new ArrayList<>();
        for (String line : run(List.of(jdkTool("jcmd"), "-l")).lines().toList()) {
            String pid = line.split(" ", 2)[0];
            if (!line.contains("org.apache.catalina.startup.Bootstrap") || !pid.matches("\\d+")) {
                continue;
            }
            // Where the OS tells, a JVM of another Tomcat is passed over without attaching to it.
            Optional<String> fromOs = ProcessHandle.of(Long.parseLong(pid))
                    .flatMap(process -> process.info().commandLine());
            if (fromOs.isPresent() && !fromOs.get().contains(home)) {
                continue;
            }
            JvmProbe probe = new JvmProbe(Long.parseLong(pid));
            String commandLine;
            try {
                commandLine = probe.jcmd("VM.command_line");
            } catch (IOException notAnswering) {
                seen.add(pid + " (not answering)");
                continue;
            }
            seen.add(pid);
            if (commandLine.contains(home) && (commandLine + " ").contains(port)) {
                return probe;
            }
        }
        throw new IllegalStateException("no Tomcat JVM with " + home + " and " + port + " among " + seen);
    }

    public long pid() {
        return pid;
    }

    /**
     * Bytes of heap in use right after a full GC ({@code GC.run}, then {@code GC.heap_info}: the "used" of every
     * heap space, Metaspace not counted). A jcmd that fails is tried again, three times in all.
     */
    public long heapAfterGc() throws IOException, InterruptedException {
        String info;
        for (int attempt = 1; ; attempt++) {
            try {
                jcmd("GC.run");
                info = jcmd("GC.heap_info");
                break;
            } catch (IOException failed) {
                if (attempt == ATTEMPTS) {
                    throw failed;
                }
                Thread.sleep(500);
            }
        }
        long usedKb = 0;
        boolean found = false;
        for (String line : info.lines().toList()) {
            Matcher matcher = HEAP_USED.matcher(line);
            String space = line.trim();
            if (matcher.find() && !space.startsWith("Metaspace") && !space.startsWith("class space")) {
                usedKb += Long.parseLong(matcher.group(1));
                found = true;
            }
        }
        if (!found) {
            throw new IOException("jcmd GC.heap_info of " + pid + " named no heap use: " + info);
        }
        return usedKb << 10;
    }

    /** VmRSS of /proc/pid/status, in bytes. */
    public long residentBytes() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("\\D", "")) * 1024;
            }
        }
        throw new IOException("/proc/" + pid + "/status has no VmRSS");
    }

    /** {@code jcmd <pid> command...}: its output, or an IOException if it fails or outlasts a minute. */
    public String jcmd(String... command) throws IOException, InterruptedException {
        List<String> line = new ArrayList<>(List.of(jdkTool("jcmd"), Long.toString(pid)));
        line.addAll(List.of(command));
        return run(line);
    }

    /** A tool of the running JDK ({@code java.home/bin}), or the bare name to look up on the PATH. */
    public static String jdkTool(String name) {
        Path tool = Path.of(System.getProperty("java.home"), "bin", name);
        return Files.isExecutable(tool) ? tool.toString() : name;
    }

    private static String run(List<String> command) throws IOException, InterruptedException {
        // Output to a file rather than a pipe, so that a jcmd that hangs cannot block the read past the timeout.
        Path output = Files.createTempFile("jcmd", ".out");
        try {
            Process process = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(output.toFile())
                    .start();
            if (!process.waitFor(JCMD_TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                throw new IOException(String.join(" ", command) + " did not finish within " + JCMD_TIMEOUT_SECONDS
                        + " s");
            }
            String text = Files.readString(output, StandardCharsets.UTF_8);
            if (process.exitValue() != 0) {
                throw new IOException(String.join(" ", command) + " failed: " + text);
            }
            return text;
        } finally {
            Files.deleteIfExists(output);
        }
    }
}
