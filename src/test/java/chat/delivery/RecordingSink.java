package chat.delivery;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;

import static org.junit.jupiter.api.Assertions.fail;

/**
 * A transport that records what it is sent. Sends complete on its own thread, like a socket that drains later,
 * and it fails the test if a second send starts while one is outstanding (Tomcat would throw).
 */
final class RecordingSink implements FrameSink, AutoCloseable {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final long TIMEOUT_MILLIS = 20_000;

    private final ExecutorService wire = Executors.newSingleThreadExecutor();
    private final AtomicInteger outstanding = new AtomicInteger();
    private final List<JsonNode> frames = new ArrayList<>();
    private final CompletableFuture<Integer> closeCode = new CompletableFuture<>();
    private volatile ClientConnection observed;
    private volatile int deepestQueue;
    private volatile String violation;

    /** Records the connection's queue depth at every send. */
    void observe(ClientConnection connection) {
        observed = connection;
    }

    @Override
    public void send(String frame, SendCallback done) {
        if (outstanding.incrementAndGet() != 1) {
            violation = "two sends outstanding at once";
        }
        ClientConnection connection = observed;
        if (connection != null) {
            deepestQueue = Math.max(deepestQueue, connection.queuedFrames());
        }
        JsonNode parsed;
        try {
            parsed = JSON.readTree(frame);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
        synchronized (this) {
            frames.add(parsed);
            notifyAll();
        }
        wire.execute(() -> {
            outstanding.decrementAndGet();
            done.sent(null);
        });
    }

    @Override
    public void close(int code, String reason) {
        closeCode.complete(code);
    }

    /** Frames sent to it so far. */
    synchronized int frameCount() {
        return frames.size();
    }

    /** Every frame sent to it so far. */
    synchronized List<JsonNode> frames() {
        return List.copyOf(frames);
    }

    int deepestQueue() {
        return deepestQueue;
    }

    CompletableFuture<Integer> closeCode() {
        return closeCode;
    }

    /** Waits until a frame matches, then returns every frame received so far. */
    synchronized List<JsonNode> awaitFrame(Predicate<JsonNode> last) throws InterruptedException {
        long deadline = System.currentTimeMillis() + TIMEOUT_MILLIS;
        int scanned = 0;
        while (true) {
            if (violation != null) {
                fail(violation);
            }
            for (; scanned < frames.size(); scanned++) {
                if (last.test(frames.get(scanned))) {
                    return List.copyOf(frames);
                }
            }
            long left = deadline - System.currentTimeMillis();
            if (left <= 0) {
                fail("the expected frame did not arrive within " + TIMEOUT_MILLIS + " ms; got " + frames.size() + " frames");
            }
            wait(left);
        }
    }

    List<JsonNode> awaitSynced() throws InterruptedException {
        return awaitFrame(frame -> frame.path("type").asText().equals("synced"));
    }

    static List<Long> chatOffsets(List<JsonNode> frames) {
        return frames.stream().filter(f -> f.path("type").asText().equals("chat message"))
                .map(f -> f.path("offset").asLong()).toList();
    }

    @Override
    public void close() throws InterruptedException {
        wire.shutdown();
        if (!wire.awaitTermination(5, TimeUnit.SECONDS)) {
            fail("the recording sink did not drain");
        }
    }
}
