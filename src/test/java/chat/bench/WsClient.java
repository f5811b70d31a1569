package chat.bench;

import java.net.URI;
import java.util.concurrent.CompletableFuture;

/** Opens {@link BenchSocket}s over one WebSocket client implementation ({@code -Dbench.client=nio|tomcat|jdk}). */
interface WsClient extends AutoCloseable {

    /** Opens {@code chatUri?serverOffset=fromOffset}: a v1 client, in general. */
    default CompletableFuture<BenchSocket> connect(URI chatUri, long fromOffset) {
        return connect(chatUri, null, fromOffset);
    }

    /** Opens {@code chatUri?room=room&serverOffset=fromOffset}, or the v1 handshake when {@code room} is null. */
    CompletableFuture<BenchSocket> connect(URI chatUri, String room, long fromOffset);

    /** The handshake's query, {@code ?} included. */
    static String query(String room, long fromOffset) {
        return (room == null ? "?" : "?room=" + room + "&") + "serverOffset=" + fromOffset;
    }

    String description();

    @Override
    void close();

    static WsClient named(String name) {
        return switch (name) {
            case "nio" -> new NioWsClient();
            case "jdk" -> new JdkWsClient();
            case "tomcat" -> new TomcatWsClient();
            default -> throw new IllegalArgumentException("bench.client must be nio, tomcat or jdk, got " + name);
        };
    }
}
