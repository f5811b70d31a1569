package chat.bench;

import chat.testsupport.ChatWar;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Optional;
import java.util.OptionalLong;

/** The chat the benchmark talks to: its URLs, its {@code /health} and {@code /metrics}, its JVM's pid if local. */
final class ServerUnderTest {

    private final URI chat;
    private final URI http;
    private final OptionalLong pid;
    private final String description;
    private final HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    /** @param chat {@code ws://host:port/context/chat} */
    ServerUnderTest(URI chat, OptionalLong pid, String description) {
        this.chat = chat;
        this.http = URI.create(chat.toString().replaceFirst("^ws", "http")).resolve(".");
        this.pid = pid;
        this.description = description;
    }

    URI chatUri() { return chat; }
    OptionalLong pid() { return pid; }
    String description() { return description; }

    /** The newest stored offset, from {@code /health}. */
    long latestOffset() throws IOException, InterruptedException {
        return ChatWar.latestOffset(http);
    }

    /** {@code /metrics}, or empty when the server has none (404) or it does not answer. */
    Optional<PrometheusText> metrics() {
        try {
            HttpResponse<String> response = get("metrics");
            return response.statusCode() == 200 ? Optional.of(PrometheusText.parse(response.body())) : Optional.empty();
        } catch (IOException e) {
            return Optional.empty();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Optional.empty();
        }
    }

    private HttpResponse<String> get(String path) throws IOException, InterruptedException {
        HttpRequest request = HttpRequest.newBuilder(http.resolve(path)).timeout(Duration.ofSeconds(10)).build();
        return client.send(request, HttpResponse.BodyHandlers.ofString());
    }
}
