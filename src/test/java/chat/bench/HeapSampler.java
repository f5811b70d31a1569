package chat.bench;

import chat.testsupport.JvmProbe;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;

/**
 * The peak heap use of the server's JVM over a phase, from {@code jstat -gc <pid> 100}: it reads the JVM's
 * performance counters from shared memory, so sampling ten times a second costs the server nothing. Heap in use is
 * S0U + S1U + EU + OU, garbage not yet collected included, so it mostly shows how large the collector lets eden
 * grow; heap held is S0U + S1U + OU, what survived young collections: what the phase kept alive.
 */
final class HeapSampler implements AutoCloseable {

    private final Process jstat;
    private final Thread reader;
    private final java.util.concurrent.CountDownLatch firstSample = new java.util.concurrent.CountDownLatch(1);
    private volatile long peakBytes;
    private volatile long peakHeldBytes;

    private HeapSampler(Process jstat) {
        this.jstat = jstat;
        this.reader = new Thread(this::read, "heap-sampler");
        reader.setDaemon(true);
        reader.start();
    }

    /** Returns once jstat printed its first sample (it takes a JVM start), or after ten seconds. */
    static HeapSampler start(long pid) throws IOException, InterruptedException {
        HeapSampler sampler = new HeapSampler(new ProcessBuilder(JvmProbe.jdkTool("jstat"), "-gc",
                Long.toString(pid), "100").redirectErrorStream(true).start());
        sampler.firstSample.await(10, TimeUnit.SECONDS);
        return sampler;
    }

    private void read() {
        try (BufferedReader lines = new BufferedReader(new InputStreamReader(jstat.getInputStream(),
                StandardCharsets.UTF_8))) {
            int[] columns = null;
            for (String line = lines.readLine(); line != null; line = lines.readLine()) {
                String[] fields = line.trim().split("\\s+");
                if (fields.length > 0 && fields[0].equals("S0C")) {
                    columns = new int[] {indexOf(fields, "S0U"), indexOf(fields, "S1U"), indexOf(fields, "EU"),
                            indexOf(fields, "OU")};
                } else if (columns != null && fields.length > columns[3]) {
                    double edenKb = Double.parseDouble(fields[columns[2]]);
                    double heldKb = Double.parseDouble(fields[columns[0]]) + Double.parseDouble(fields[columns[1]])
                            + Double.parseDouble(fields[columns[3]]);
                    peakBytes = Math.max(peakBytes, (long) ((heldKb + edenKb) * 1024));
                    peakHeldBytes = Math.max(peakHeldBytes, (long) (heldKb * 1024));
                    firstSample.countDown();
                }
            }
        } catch (IOException | NumberFormatException e) {
            // jstat ended or printed something else; the peak so far stands
        }
    }

    private static int indexOf(String[] fields, String name) {
        for (int i = 0; i < fields.length; i++) {
            if (fields[i].equals(name)) {
                return i;
            }
        }
        throw new IllegalStateException("jstat -gc printed no " + name + " column");
    }

    long peakBytes() {
        return peakBytes;
    }

    /** The peak of survivor plus old generation use. */
    long peakHeldBytes() {
        return peakHeldBytes;
    }

    @Override
    public void close() throws InterruptedException {
        jstat.destroy();
        if (!jstat.waitFor(10, TimeUnit.SECONDS)) {
            jstat.destroyForcibly();
        }
        reader.join(TimeUnit.SECONDS.toMillis(10));
    }
}
