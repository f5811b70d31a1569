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
    default CompletableFuture<BenchSocket> connect(URI chatUri, String room, long fromOffset) {
        return open(chatUri, query(room, fromOffset, false), fromOffset);
    }

    /** Opens {@code chatUri} with the handshake's {@code query}, for a client that has every offset to {@code fromOffset}. */
    CompletableFuture<BenchSocket> open(URI chatUri, String query, long fromOffset);

    /**
     * The handshake's query, {@code ?} included: v1 when {@code room} is null; with {@code frames=lines} when
     * {@code framesAsLines}, for several frames in one WebSocket message, as the page takes them.
     */
    static String query(String room, long fromOffset, boolean framesAsLines) {
        return (room == null ? "?" : "?room=" + room + "&") + "serverOffset=" + fromOffset
                + (framesAsLines ? "&frames=lines" : "");
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
