package chat.bench;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/** The JDK's {@link java.net.http.WebSocket}: all connections on one HttpClient and its one selector thread. */
final class JdkWsClient implements WsClient {

    private static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(30);

    private final HttpClient http = HttpClient.newBuilder().connectTimeout(CONNECT_TIMEOUT).build();

    @Override
    public CompletableFuture<BenchSocket> open(URI chatUri, String query, long fromOffset) {
        BenchSocket socket = new BenchSocket(fromOffset);
        URI uri = URI.create(chatUri + query);
        return http.newWebSocketBuilder().connectTimeout(CONNECT_TIMEOUT).buildAsync(uri, new Listener(socket))
                .thenApply(ws -> socket);
    }

    @Override
    public String description() {
        return "java.net.http.WebSocket (JDK " + Runtime.version() + ")";
    }

    @Override
    public void close() {
        // HttpClient has no close before JDK 21; its threads are daemons.
    }

    private static final class Listener implements WebSocket.Listener, BenchSocket.Transport {
        private final BenchSocket socket;
        private volatile WebSocket webSocket;

        Listener(BenchSocket socket) {
            this.socket = socket;
        }

        @Override
        public void onOpen(WebSocket ws) {
            webSocket = ws;
            socket.attach(this);
            ws.request(Long.MAX_VALUE);
        }

        @Override
        public CompletionStage<?> onText(WebSocket ws, CharSequence data, boolean last) {
            socket.text(data, last);
            return null;
        }

        @Override
        public CompletionStage<?> onClose(WebSocket ws, int statusCode, String reason) {
            socket.closed(statusCode, reason);
            return null;
        }

        @Override
        public void onError(WebSocket ws, Throwable error) {
            socket.failed(error);
        }

        @Override
        public CompletableFuture<?> sendText(String text) {
            return webSocket.sendText(text, true);
        }

        @Override
        public void abort() {
            webSocket.abort();
        }
    }
}
