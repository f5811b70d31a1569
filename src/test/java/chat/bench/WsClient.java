package chat.bench;

import java.net.URI;
import java.util.concurrent.CompletableFuture;

/** Opens {@link BenchSocket}s over one WebSocket client implementation ({@code -Dbench.client=nio|tomcat|jdk}). */
interface WsClient extends AutoCloseable {

    /** Opens {@code chatUri?serverOffset=fromOffset}. */
    CompletableFuture<BenchSocket> connect(URI chatUri, long fromOffset);

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
