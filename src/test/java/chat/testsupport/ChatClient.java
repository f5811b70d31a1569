package chat.testsupport;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import jakarta.websocket.ClientEndpointConfig;
import jakarta.websocket.CloseReason;
import jakarta.websocket.ContainerProvider;
import jakarta.websocket.Endpoint;
import jakarta.websocket.EndpointConfig;
import jakarta.websocket.MessageHandler;
import jakarta.websocket.Session;
import jakarta.websocket.WebSocketContainer;

import java.io.IOException;
import java.net.URI;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.TimeoutException;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/** A WebSocket client of {@code /chat} over a real socket (Tomcat's client), recording every frame it receives. */
public final class ChatClient implements AutoCloseable {

    public static final Duration TIMEOUT = Duration.ofSeconds(20);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final WebSocketContainer CONTAINER = ContainerProvider.getWebSocketContainer();

    private final BlockingQueue<JsonNode> frames = new LinkedBlockingQueue<>();
    /** WebSocket messages that carried more than one frame, as lines ({@code frames=lines}). */
    private final AtomicInteger messagesOfSeveralFrames = new AtomicInteger();
    private final CompletableFuture<CloseReason> closed = new CompletableFuture<>();
    private final Session session;

    private ChatClient(URI uri, String origin) throws Exception {
        Endpoint endpoint = new Endpoint() {
            @Override
            public void onOpen(Session session, EndpointConfig config) {
                session.setMaxTextMessageBufferSize(4 << 20);
                session.addMessageHandler(String.class, (MessageHandler.Whole<String>) text -> {
                    // Several frames arrive as lines only when the handshake asked for frames=lines; no frame
                    // holds a line break, so splitting leaves every other message whole.
                    String[] lines = text.split("\n", -1);
                    if (lines.length > 1) {
                        messagesOfSeveralFrames.incrementAndGet();
                    }
                    for (String line : lines) {
                        try {
                            frames.add(JSON.readTree(line));
                        } catch (IOException e) {
                            frames.add(JSON.createObjectNode().put("type", "unparseable").put("raw", line));
                        }
                    }
                });
            }

            @Override
            public void onClose(Session session, CloseReason reason) {
                closed.complete(reason);
            }
        };
        ClientEndpointConfig.Builder config = ClientEndpointConfig.Builder.create();
        if (origin != null) {
            config.configurator(new ClientEndpointConfig.Configurator() {
                @Override
                public void beforeRequest(Map<String, List<String>> headers) {
                    headers.put("Origin", List.of(origin));
                }
            });
        }
        session = CONTAINER.connectToServer(endpoint, config.build(), uri);
    }

    /**
     * Stores {@code count} messages of {@code text} as fast as the server takes them, 16 unacknowledged at a time,
     * with clientOffsets {@code tag-0}, {@code tag-1}, ...; returns once every one is acknowledged.
     */
    public static void storeAll(URI base, String text, int count, String tag) throws Exception {
        try (ChatClient sender = connect(base, ChatWar.latestOffset(base))) {
            sender.awaitSynced();
            int acked = 0;
            int sent = 0;
            while (acked < count) {
                while (sent < count && sent - acked < 16) {
                    sender.sendChat(text, tag + "-" + sent++);
                }
                JsonNode frame = sender.next();
                if (frame.path("type").asText().equals("ack")) {
                    acked++;
                } else {
                    assertEquals("chat message", frame.path("type").asText(), frame::toString);
                }
            }
        }
    }

    /** {@code base} is the webapp's URL ending in '/'; {@code serverOffset} null leaves the parameter out. */
    public static ChatClient connect(URI base, Long serverOffset) throws Exception {
        return connectRaw(base, serverOffset == null ? "" : "?serverOffset=" + serverOffset);
    }

    public static ChatClient connectRaw(URI base, String query) throws Exception {
        return connectFrom(null, base, query);
    }

    /** A handshake with an Origin header, as a browser showing a page of {@code origin} sends it. */
    public static ChatClient connectFrom(String origin, URI base, String query) throws Exception {
        String http = base.resolve("chat" + query).toString();
        return new ChatClient(URI.create(http.replaceFirst("^http", "ws")), origin);
    }

    public synchronized void sendRaw(String frame) throws IOException {
        session.getBasicRemote().sendText(frame);
    }

    public synchronized void sendBinary(byte[] data) throws IOException {
        session.getBasicRemote().sendBinary(ByteBuffer.wrap(data));
    }

    public void sendChat(String text, String clientOffset) throws IOException {
        ObjectNode frame = JSON.createObjectNode().put("type", "chat message").put("text", text);
        if (clientOffset != null) {
            frame.put("clientOffset", clientOffset);
        }
        sendRaw(frame.toString());
    }

    /** A v2 chat message to {@code room}. */
    public void sendChatIn(String room, String text, String clientOffset) throws IOException {
        sendRaw(JSON.createObjectNode().put("type", "chat message").put("room", room).put("text", text)
                .put("clientOffset", clientOffset).toString());
    }

    /** Sends {@code count} messages to {@code room}, one at a time, each once acknowledged. */
    public void storeIn(String room, String textPrefix, int count) throws InterruptedException, IOException {
        String tag = UUID.randomUUID().toString();
        for (int i = 1; i <= count; i++) {
            sendChatIn(room, textPrefix + i, tag + "-" + i);
            next("ack", room);
        }
    }

    /** Skips frames until one of {@code type} about {@code room}, failing the test after {@link #TIMEOUT} each. */
    public JsonNode next(String type, String room) throws InterruptedException {
        while (true) {
            JsonNode frame = next();
            if (frame.path("type").asText().equals(type) && frame.path("room").asText().equals(room)) {
                return frame;
            }
        }
    }

    /** The next frame, failing the test after {@link #TIMEOUT}. */
    public JsonNode next() throws InterruptedException {
        JsonNode frame = frames.poll(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        if (frame == null) {
            fail("No frame within " + TIMEOUT);
        }
        return frame;
    }

    /** The next frame if one arrives within {@code wait}, else null. */
    public JsonNode poll(Duration wait) throws InterruptedException {
        return frames.poll(wait.toMillis(), TimeUnit.MILLISECONDS);
    }

    public JsonNode next(String type) throws InterruptedException {
        JsonNode frame = next();
        assertEquals(type, frame.path("type").asText(), () -> "expected a '" + type + "' frame, got " + frame);
        return frame;
    }

    /** The next ack, skipping the chat messages (the sender's own broadcast among them) that come before it. */
    public JsonNode nextAck() throws InterruptedException {
        while (true) {
            JsonNode frame = next();
            String type = frame.path("type").asText();
            if (type.equals("ack")) {
                return frame;
            }
            assertEquals("chat message", type, () -> "expected an ack, got " + frame);
        }
    }

    /** Skips to the {@code synced} frame and returns it. */
    public JsonNode awaitSyncedFrame() throws InterruptedException {
        while (true) {
            JsonNode frame = next();
            if (frame.path("type").asText().equals("synced")) {
                return frame;
            }
        }
    }

    /** Reads up to and including {@code synced}; returns the chat messages before it, checking their order. */
    public Replay awaitSynced() throws InterruptedException {
        List<JsonNode> messages = new ArrayList<>();
        while (true) {
            JsonNode frame = next();
            String type = frame.path("type").asText();
            if (type.equals("synced")) {
                return new Replay(messages, frame.path("offset").asLong());
            }
            assertEquals("chat message", type, () -> "unexpected frame before synced: " + frame);
            if (!messages.isEmpty()) {
                long previous = messages.get(messages.size() - 1).path("offset").asLong();
                assertTrue(frame.path("offset").asLong() > previous, () -> "offsets out of order: " + previous + " then " + frame);
            }
            messages.add(frame);
        }
    }

    public CloseReason awaitClose() throws InterruptedException, ExecutionException, TimeoutException {
        return closed.get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** How many WebSocket messages so far carried several frames, a line each. */
    public int messagesOfSeveralFrames() {
        return messagesOfSeveralFrames.get();
    }

    public boolean isOpen() {
        return session.isOpen();
    }

    @Override
    public void close() throws IOException {
        if (session.isOpen()) {
            session.close();
        }
    }

    public record Replay(List<JsonNode> messages, long syncedOffset) {
    }
}
