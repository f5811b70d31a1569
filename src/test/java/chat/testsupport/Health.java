package chat.testsupport;

import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.function.Supplier;

import static org.junit.jupiter.api.Assertions.fail;

/** The chat's {@code GET /health}, polled until it says what a test waits for. */
public final class Health {

    private static final Duration POLL = Duration.ofMillis(100);
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    private static final ObjectMapper JSON = new ObjectMapper();

    /** Checked before every request; throws to end the wait at once (a server process that has exited). */
    @FunctionalInterface
    public interface Watch {
        void check();
    }

    private Health() {
    }

    /** Waits until {@code base}'s {@code /health} answers {@code status}; fails the test after {@code timeout}. */
    public static void await(URI base, int status, Duration timeout) throws InterruptedException {
        await(base, status, timeout, () -> "", () -> { });
    }

    /** The same, with {@code context} (a server's output, say) appended to the failure message. */
    public static void await(URI base, int status, Duration timeout, Supplier<String> context)
            throws InterruptedException {
        await(base, status, timeout, context, () -> { });
    }

    /**
     * The same, calling {@code watch} before every request. A request that fails (nothing listening yet) counts as
     * a wrong answer.
     */
    public static void await(URI base, int status, Duration timeout, Supplier<String> context, Watch watch)
            throws InterruptedException {
        HttpRequest health = HttpRequest.newBuilder(base.resolve("health")).timeout(Duration.ofSeconds(5)).build();
        long deadline = System.nanoTime() + timeout.toNanos();
        String last = "no answer";
        while (true) {
            watch.check();
            try {
                HttpResponse<String> response = HTTP.send(health, HttpResponse.BodyHandlers.ofString());
                if (response.statusCode() == status) {
                    return;
                }
                last = response.statusCode() + " " + response.body();
            } catch (IOException e) {
                last = e.toString();
            }
            if (System.nanoTime() - deadline > 0) {
                String more = context.get();
                fail(base.resolve("health") + " did not answer " + status + " within " + timeout + " (last: " + last
                        + ")" + (more.isEmpty() ? "" : "\n" + more));
            }
            Thread.sleep(POLL.toMillis());
        }
    }

    /** The WebSocket connections {@code /health} counts now. */
    public static int connections(URI base) throws IOException, InterruptedException {
        return JSON.readTree(ChatWar.get(base.resolve("health")).body()).path("connections").asInt();
    }

    /** Waits until {@code /health} counts {@code expected} connections; fails the test after {@code timeout}. */
    public static void awaitConnections(URI base, int expected, Duration timeout)
            throws IOException, InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        int now;
        while ((now = connections(base)) != expected) {
            if (System.nanoTime() - deadline > 0) {
                fail("/health says " + now + " connections, expected " + expected);
            }
            Thread.sleep(50);
        }
    }
}
