package chat.it;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.jboss.arquillian.container.test.api.Deployment;
import org.jboss.arquillian.junit5.ArquillianExtension;
import org.jboss.arquillian.test.api.ArquillianResource;
import org.jboss.shrinkwrap.api.spec.WebArchive;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.URL;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.LockSupport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Every frame the chat writes arrives whole while Tomcat writes control frames of its own in between. A raw-socket
 * reader pings the server without pause, and Tomcat answers each ping with a pong from its reading thread, while
 * senders pipeline messages of a few hundred bytes: the runs of frames the chat gathers in Tomcat's output buffer
 * keep meeting pongs and the server's own pings. Then readers like it are replayed the same messages a few times,
 * four at once, in runs of whole history pages that overflow Tomcat's buffer mid-frame. Every frame must be a
 * well-formed server frame, every text frame valid UTF-8 JSON, and the chat messages must follow one another by
 * offset without a gap.
 */
@ExtendWith(ArquillianExtension.class)
class WireIntegrityIT {

    private static final int SENDERS = 3;
    private static final int MESSAGES_PER_SENDER = 1_500;
    private static final int WINDOW = 32;
    private static final long PING_EVERY_NANOS = TimeUnit.MICROSECONDS.toNanos(100);
    private static final int REPLAY_ROUNDS = 5;
    private static final int REPLAY_READERS = 4;
    private static final Duration DEADLINE = Duration.ofSeconds(90);
    private static final ObjectMapper JSON = new ObjectMapper();

    @Deployment(testable = false)
    static WebArchive war() {
        return ChatWar.packaged();
    }

    @ArquillianResource
    private URL deployed;

    @Test
    void framesArriveWholeWhilePongsAndPingsAreWrittenBetweenGatheredRuns() throws Exception {
        URI base = deployed.toURI();
        long start = ChatWar.latestOffset(base);
        long last = start + (long) SENDERS * MESSAGES_PER_SENDER;
        long deadline = System.nanoTime() + DEADLINE.toNanos();
        String run = UUID.randomUUID().toString().substring(0, 8);
        ExecutorService threads = Executors.newCachedThreadPool();
        try {
            // Live: the messages arrive as the senders' commits are fanned out, in short runs.
            Future<Integer> live = threads.submit(() -> readWhilePinging(base, start, last, deadline, threads));
            List<Future<?>> senders = new ArrayList<>();
            for (int s = 0; s < SENDERS; s++) {
                String tag = run + "-" + s;
                senders.add(threads.submit(() -> {
                    send(base, tag, deadline);
                    return null;
                }));
            }
            for (Future<?> sender : senders) {
                sender.get(DEADLINE.toSeconds(), TimeUnit.SECONDS);
            }
            int pongs = live.get(DEADLINE.toSeconds(), TimeUnit.SECONDS);
            // Replayed: the same messages again, in runs of a whole history page that overflow Tomcat's buffer.
            for (int round = 0; round < REPLAY_ROUNDS; round++) {
                List<Future<Integer>> replays = new ArrayList<>();
                for (int r = 0; r < REPLAY_READERS; r++) {
                    replays.add(threads.submit(() -> readWhilePinging(base, start, last, deadline, threads)));
                }
                for (Future<Integer> replay : replays) {
                    pongs += replay.get(DEADLINE.toSeconds(), TimeUnit.SECONDS);
                }
            }
            assertTrue(pongs > 100, "Tomcat answered " + pongs + " pings while the messages arrived: too few to"
                    + " have met the gathered runs");
        } finally {
            threads.shutdownNow();
        }
    }

    /**
     * Reads the chat from {@code after} up to offset {@code last} on a raw socket that pings all the while, checking
     * every frame.
     *
     * @return the pongs that came back meanwhile
     */
    private static int readWhilePinging(URI base, long after, long last, long deadline, ExecutorService threads)
            throws Exception {
        AtomicBoolean pinging = new AtomicBoolean(true);
        try (Socket socket = new Socket(base.getHost(), base.getPort())) {
            socket.setSoTimeout(20_000);
            DataInputStream in = new DataInputStream(socket.getInputStream());
            String head = RawWebSocket.handshake(socket, in, base, "?serverOffset=" + after);
            assertTrue(head.startsWith("HTTP/1.1 101"), head);
            OutputStream out = socket.getOutputStream();
            Future<?> pinger = threads.submit(() -> {
                byte[] ping = {(byte) 0x89, (byte) 0x80, 1, 2, 3, 4}; // FIN + ping, masked, no payload
                while (pinging.get() && System.nanoTime() - deadline < 0) {
                    out.write(ping);
                    out.flush();
                    LockSupport.parkNanos(PING_EVERY_NANOS);
                }
                return null;
            });
            Reader reader = new Reader(in);
            long expected = after + 1;
            while (expected <= last) {
                if (System.nanoTime() - deadline > 0) {
                    fail("Only offsets up to " + (expected - 1) + " of " + last + " arrived in time");
                }
                JsonNode frame = reader.nextText();
                if (frame.path("type").asText().equals("chat message")) {
                    assertEquals(expected, frame.path("offset").asLong(), frame::toString);
                    expected++;
                }
            }
            pinging.set(false);
            pinger.get(10, TimeUnit.SECONDS);
            return reader.pongs;
        } finally {
            pinging.set(false);
        }
    }

    /** Keeps {@link #WINDOW} messages of about 300 bytes unacknowledged until all are acknowledged. */
    private static void send(URI base, String tag, long deadline) throws Exception {
        String padding = "p".repeat(280);
        try (ChatClient client = ChatClient.connect(base, ChatWar.latestOffset(base))) {
            client.awaitSynced();
            Set<String> acked = new HashSet<>();
            int sent = 0;
            while (acked.size() < MESSAGES_PER_SENDER) {
                while (sent < MESSAGES_PER_SENDER && sent - acked.size() < WINDOW) {
                    client.sendChat(tag + " #" + sent + " " + padding, tag + "-" + sent);
                    sent++;
                }
                if (System.nanoTime() - deadline > 0) {
                    fail(tag + ": only " + acked.size() + " acks in time");
                }
                acked.add(client.nextAck().path("clientOffset").asText());
            }
        }
    }

    /** Server frames read off the socket by hand, each checked for what RFC 6455 allows a server to send. */
    private static final class Reader {
        private final DataInputStream in;
        private final ByteArrayOutputStream message = new ByteArrayOutputStream();
        private final List<String> recent = new ArrayList<>();
        int pongs;

        Reader(DataInputStream in) {
            this.in = in;
        }

        /** The next whole text message (fragments put together), control frames in between counted or refused. */
        JsonNode nextText() throws IOException {
            message.reset();
            boolean inMessage = false;
            while (true) {
                int first = in.readUnsignedByte();
                int second = in.readUnsignedByte();
                boolean fin = (first & 0x80) != 0;
                int opcode = first & 0x0F;
                long length = second & 0x7F;
                if (length == 126) {
                    length = in.readUnsignedShort();
                } else if (length == 127) {
                    length = in.readLong();
                }
                String header = String.format("%02x %02x length %d", first, second, length);
                if ((first & 0x70) != 0 || (second & 0x80) != 0 || length > 1 << 20) {
                    fail("Not a server frame: " + header + " after " + recent);
                }
                byte[] payload = new byte[(int) length];
                in.readFully(payload);
                remember(header + " " + HexFormat.of().formatHex(payload, 0, Math.min(payload.length, 24)));
                switch (opcode) {
                    case 0x9 -> { } // the server's own ping; the reader's pings keep the connection alive
                    case 0xA -> pongs++;
                    case 0x8 -> fail("Closed by the server: " + header + " " + new String(payload, StandardCharsets.UTF_8));
                    case 0x1, 0x0 -> {
                        if ((opcode == 0x1) == inMessage) {
                            fail("A text frame in the middle of a message, or a continuation outside one: " + recent);
                        }
                        inMessage = true;
                        message.write(payload);
                        if (fin) {
                            return parse(message.toByteArray());
                        }
                    }
                    default -> fail("Unexpected opcode " + opcode + ": " + header + " after " + recent);
                }
            }
        }

        private JsonNode parse(byte[] bytes) throws IOException {
            String text;
            try {
                text = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                        .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes)).toString();
            } catch (CharacterCodingException e) {
                throw new AssertionError("A text message that is not UTF-8, after " + recent + ": "
                        + HexFormat.of().formatHex(bytes), e);
            }
            return JSON.readTree(text);
        }

        private void remember(String frame) {
            if (recent.size() == 6) {
                recent.remove(0);
            }
            recent.add(frame);
        }
    }
}
