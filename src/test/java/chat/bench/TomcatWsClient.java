package chat.bench;

import jakarta.websocket.ClientEndpointConfig;
import jakarta.websocket.CloseReason;
import jakarta.websocket.DeploymentException;
import jakarta.websocket.Endpoint;
import jakarta.websocket.EndpointConfig;
import jakarta.websocket.MessageHandler;
import jakarta.websocket.Session;
import org.apache.tomcat.websocket.WsWebSocketContainer;

import java.io.IOException;
import java.net.URI;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * Tomcat's WebSocket client (tomcat-embed-websocket). Its handshake blocks, so connections are opened on a small
 * pool of threads; frames arrive on its asynchronous channel group's threads.
 */
final class TomcatWsClient implements WsClient {

    private static final int CONNECTING_THREADS = 32;

    private final WsWebSocketContainer container = new WsWebSocketContainer();
    private final ExecutorService connecting = Executors.newFixedThreadPool(CONNECTING_THREADS, runnable -> {
        Thread thread = new Thread(runnable, "ws-connect");
        thread.setDaemon(true);
        return thread;
    });

    @Override
    public CompletableFuture<BenchSocket> open(URI chatUri, String query, long fromOffset) {
        BenchSocket socket = new BenchSocket(fromOffset);
        URI uri = URI.create(chatUri + query);
        return CompletableFuture.supplyAsync(() -> {
            try {
                container.connectToServer(new Adapter(socket), ClientEndpointConfig.Builder.create().build(), uri);
                return socket;
            } catch (DeploymentException e) {
                throw new IllegalStateException("handshake with " + uri + " failed", e);
            }
        }, connecting);
    }

    @Override
    public String description() {
        return "Tomcat's WebSocket client (tomcat-embed-websocket)";
    }

    @Override
    public void close() {
        connecting.shutdownNow();
        container.destroy();
    }

    private static final class Adapter extends Endpoint implements BenchSocket.Transport {
        private final BenchSocket socket;
        private volatile Session session;

        Adapter(BenchSocket socket) {
            this.socket = socket;
        }

        @Override
        public void onOpen(Session opened, EndpointConfig config) {
            session = opened;
            socket.attach(this);
            opened.addMessageHandler(String.class, (MessageHandler.Partial<String>) socket::text);
        }

        @Override
        public void onClose(Session closed, CloseReason reason) {
            socket.closed(reason.getCloseCode().getCode(), reason.getReasonPhrase());
        }

        @Override
        public void onError(Session failed, Throwable error) {
            socket.failed(error);
        }

        @Override
        public CompletableFuture<?> sendText(String text) {
            CompletableFuture<Void> sent = new CompletableFuture<>();
            session.getAsyncRemote().sendText(text, result -> {
                if (result.isOK()) {
                    sent.complete(null);
                } else {
                    sent.completeExceptionally(result.getException());
                }
            });
            return sent;
        }

        @Override
        public void abort() {
            try {
                session.close();
            } catch (IOException | RuntimeException gone) {
                // the connection is going away either way
            }
        }
    }
}
