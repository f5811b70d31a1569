package chat.it;

import chat.protocol.Author;
import chat.protocol.FrameCodec;
import chat.testsupport.ChatClient;
import chat.testsupport.ChatWar;
import chat.testsupport.Health;
import chat.testsupport.JvmProbe;
import chat.testsupport.RawWebSocket;
import chat.testsupport.TomcatLog;

import com.fasterxml.jackson.databind.JsonNode;
import org.jboss.arquillian.container.test.api.Deployment;
import org.jboss.arquillian.junit5.ArquillianExtension;
import org.jboss.arquillian.test.api.ArquillianResource;
import org.jboss.shrinkwrap.api.ShrinkWrap;
import org.jboss.shrinkwrap.api.asset.StringAsset;
import org.jboss.shrinkwrap.api.importer.ZipImporter;
import org.jboss.shrinkwrap.api.spec.WebArchive;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.io.EOFException;
import java.io.File;
import java.io.IOException;
import java.net.SocketException;
import java.net.URI;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * README's guarantee 4: a client that stops reading neither slows the others down nor grows the server's memory
 * without bound. Its outbound queue is capped ({@code chat.outboxMaxChars}, 8 MiB by default, which this test
 * keeps); past the cap the server closes it (1008), and by reconnecting with its offset the client gets every
 * message it missed.
 *
 * <p>The stalled client is a raw socket with a small receive buffer that completes the WebSocket handshake and then
 * reads nothing, while three clients chat as fast as their acks come back, about 1 KB per message, and must get
 * each ack within {@link #MAX_ACK_ROUND_TRIP}. A close frame cannot reach a peer that reads nothing: when the
 * stalled client finally reads, it finds what the kernel's buffers held, in order, then the end of the stream. That
 * the server closed it for its queue shows in when {@code /health} stops counting it: once the messages it did not
 * read pass the cap, not before and not long after. Tomcat's heap in use after a full GC ({@code jcmd GC.run},
 * {@code GC.heap_info}) is sampled while they chat.
 *
 * <p>The chat is deployed for this test on a database of its own and without pings. With the pings of the other
 * integration tests (every second) a ping waits behind the frame the stalled peer does not take, Tomcat gives up
 * on it after one interval and closes the connection with 1001, before the queue reaches its cap (in a trial after
 * about 7 000 of the 11 000 messages the cap needs); this test is about the cap.
 */
@ExtendWith(ArquillianExtension.class)
class SlowConsumerIT {

    private static final String CONTEXT = "chat-slow";
    private static final int SENDERS = 3;
    private static final int WINDOW = 8;
    private static final int TEXT_LENGTH = 1_000;
    /** README's default {@code chat.outboxMaxChars}, which this deployment keeps. */
    private static final long OUTBOX_MAX_CHARS = 8L << 20;
    private static final int STALLED_RECEIVE_BUFFER = 4_096;
    private static final Duration MAX_ACK_ROUND_TRIP = Duration.ofSeconds(2);
    private static final long MAX_HEAP_GROWTH = 64L << 20;
    private static final int HEAP_SAMPLES = 6;
    /** How many more messages may go by while the server closes a client that passed its cap. */
    private static final int CLOSE_LATENCY_MESSAGES = 1_500;

    @Deployment(testable = false)
    static WebArchive war() throws IOException {
        Path database = Path.of(System.getProperty("chat.db.path")).resolveSibling("slow-consumer.db");
        Files.createDirectories(database.getParent());
        for (String suffix : List.of("", "-wal", "-shm")) {
            Files.deleteIfExists(Path.of(database + suffix));
        }
        String context = "<Context>"
                + "<Parameter name=\"chat.db.path\" value=\"" + database + "\" override=\"false\"/>"
                + "<Parameter name=\"chat.pingIntervalSeconds\" value=\"0\" override=\"false\"/>"
                + "</Context>";
        File war = new File(System.getProperty("it.war", "target/chat.war"));
        return ShrinkWrap.create(ZipImporter.class, CONTEXT + ".war").importFrom(war).as(WebArchive.class)
                .addAsManifestResource(new StringAsset(context), "context.xml");
    }

    @ArquillianResource
    private URL deployed;

    @Test
    void aClientThatStopsReadingIsClosedAtItsCapWhileTheOthersChatOnAndGetsEverythingBackByReconnecting()
            throws Exception {
        URI base = deployed.toURI();
        TomcatLog log = TomcatLog.mark();
        JvmProbe tomcat = JvmProbe.tomcatUnderTest();
        String run = UUID.randomUUID().toString().substring(0, 8);
        long start = ChatWar.latestOffset(base);

        // Enough messages that the stalled client's queue passes its cap even after the kernel's buffers took
        // their share of them.
        int frameChars = FrameCodec.chatMessage(start + 100_000, text(run, 0, 0)).length();
        long capFrames = OUTBOX_MAX_CHARS / frameChars;
        long buffered = maxSocketSendBuffer() + 2L * STALLED_RECEIVE_BUFFER + (1 << 20);
        int messages = (int) ((OUTBOX_MAX_CHARS + buffered) / frameChars + 1);

        List<ChatClient> senders = new ArrayList<>();
        ExecutorService threads = Executors.newFixedThreadPool(SENDERS + 1);
        RawWebSocket stalled = null;
        try {
            for (int s = 0; s < SENDERS; s++) {
                ChatClient sender = ChatClient.connect(base, start);
                sender.awaitSynced();
                senders.add(sender);
            }
            long heapBefore = tomcat.heapAfterGc();
            List<Long> heapSamples = new ArrayList<>();
            stalled = RawWebSocket.open(base, "?serverOffset=" + start, STALLED_RECEIVE_BUFFER);
            Health.awaitConnections(base, SENDERS + 1, Duration.ofSeconds(30));

            long began = System.nanoTime();
            AtomicInteger budget = new AtomicInteger(messages);
            AtomicInteger acked = new AtomicInteger();
            List<Future<Sent>> sending = new ArrayList<>();
            for (int s = 0; s < SENDERS; s++) {
                int sender = s;
                sending.add(threads.submit(() -> send(senders.get(sender), run, sender, budget, acked)));
            }
            // Watch /health while they chat: how many messages were acked when the stalled client was last seen
            // connected, and when it was first seen gone.
            AtomicInteger ackedWhileConnected = new AtomicInteger();
            AtomicInteger ackedWhenGone = new AtomicInteger(-1);
            Future<?> watching = threads.submit(() -> {
                while (ackedWhenGone.get() < 0) {
                    int before = acked.get();
                    int connections = Health.connections(base);
                    int after = acked.get();
                    if (connections == SENDERS + 1) {
                        ackedWhileConnected.set(before);
                    } else {
                        assertEquals(SENDERS, connections, "connections after " + after + " messages");
                        ackedWhenGone.set(after);
                    }
                    Thread.sleep(5);
                }
                return null;
            });
            int nextSample = messages / HEAP_SAMPLES;
            while (!allDone(sending)) {
                if (acked.get() >= nextSample) {
                    heapSamples.add(tomcat.heapAfterGc());
                    nextSample += messages / HEAP_SAMPLES;
                }
                Thread.sleep(10);
            }
            long chatted = System.nanoTime() - began;
            try {
                watching.get(30, TimeUnit.SECONDS);
            } catch (TimeoutException stillConnected) {
                fail("the stalled client is still connected after all " + messages + " messages");
            }

            Map<Long, String> texts = new TreeMap<>();
            long maxRoundTrip = 0;
            for (Future<Sent> future : sending) {
                Sent sent = future.get();
                texts.putAll(sent.texts());
                maxRoundTrip = Math.max(maxRoundTrip, sent.maxRoundTripNanos());
                System.out.printf("SlowConsumerIT: a sender sent %d, its acks came back in %d ms at most, %d ms "
                        + "median%n", sent.texts().size(), sent.maxRoundTripNanos() / 1_000_000,
                        sent.medianRoundTripNanos() / 1_000_000);
            }
            assertEquals(messages, texts.size(), "every message acked once");
            List<Long> offsets = new ArrayList<>(texts.keySet());
            assertEquals(List.of(start + 1, start + messages), List.of(offsets.get(0), offsets.get(messages - 1)),
                    "the offsets of a database of this test's own");
            long maxRoundTripMillis = maxRoundTrip / 1_000_000;
            assertTrue(maxRoundTripMillis < MAX_ACK_ROUND_TRIP.toMillis(),
                    "the others were held up: an ack took " + maxRoundTripMillis + " ms");

            // Finally the stalled client reads: what the kernel's buffers held, in order, then the end.
            Received received = readUntilClosed(stalled);
            List<JsonNode> frames = received.frames();
            assertEquals("synced", frames.get(0).path("type").asText(), frames.get(0)::toString);
            for (int i = 1; i < frames.size(); i++) {
                JsonNode frame = frames.get(i);
                assertEquals("chat message", frame.path("type").asText(), frame::toString);
                assertEquals(offsets.get(i - 1), frame.path("offset").asLong(), "message " + i + " to the stalled client");
            }
            int read = frames.size() - 1;
            System.out.printf("SlowConsumerIT: %d messages of %d chars in %d ms; the stalled client was last seen "
                            + "connected after %d acks, gone after %d; it had %d messages in its buffers, then %s; "
                            + "cap %d chars = %d frames%n", messages, frameChars, chatted / 1_000_000,
                    ackedWhileConnected.get(), ackedWhenGone.get(), read, received.end(), OUTBOX_MAX_CHARS, capFrames);
            if (received.closeCode() != null) {
                assertEquals(1008, received.closeCode(), "close code; reason: " + received.closeReason());
            }
            // What it did not read was queued for it, so the server closed it when the queue passed the cap: not
            // before (acks trail broadcasts by at most the senders' windows), and not long after.
            assertTrue(ackedWhenGone.get() >= read + capFrames - SENDERS * WINDOW, "closed too early, after "
                    + ackedWhenGone + " messages, " + read + " of them read, with a cap of " + capFrames);
            assertTrue(ackedWhileConnected.get() <= read + capFrames + CLOSE_LATENCY_MESSAGES, "still connected after "
                    + ackedWhileConnected + " messages, " + read + " of them read, with a cap of " + capFrames);
            heapSamples.add(tomcat.heapAfterGc());

            // Reconnecting with the offset it had, it gets every message it missed, in order, exactly once.
            try (ChatClient back = ChatClient.connect(base, start)) {
                ChatClient.Replay replay = back.awaitSynced();
                assertEquals(offsets, replay.messages().stream().map(m -> m.path("offset").asLong()).toList(),
                        "the replayed offsets");
                for (JsonNode message : replay.messages()) {
                    assertEquals(texts.get(message.path("offset").asLong()), message.path("text").asText());
                }
                assertEquals(start + messages, replay.syncedOffset());
            }

            long peak = heapSamples.stream().mapToLong(Long::longValue).max().orElseThrow();
            System.out.printf("SlowConsumerIT: Tomcat's heap in use after a full GC: %d KiB before, then %s KiB%n",
                    heapBefore >> 10, heapSamples.stream().map(h -> h >> 10).toList());
            assertTrue(peak - heapBefore < MAX_HEAP_GROWTH, "Tomcat's heap in use after a full GC grew from "
                    + (heapBefore >> 10) + " KiB to " + (peak >> 10) + " KiB; samples " + heapSamples);
        } finally {
            threads.shutdownNow();
            for (ChatClient sender : senders) {
                sender.close();
            }
            if (stalled != null) {
                stalled.close();
            }
        }
        assertEquals(List.of(), log.severeSinceMark(), "SEVERE in Tomcat's log");
    }

    /** What the stalled client finds when it finally reads: the messages, and how its connection ended. */
    private record Received(List<JsonNode> frames, Integer closeCode, String closeReason, String end) {
    }

    /**
     * Reads every message until the server's close frame, the end of the stream or a reset. Each frame is checked
     * by the strict reader; no ping comes, as this deployment sends none.
     */
    private static Received readUntilClosed(RawWebSocket stalled) throws IOException {
        List<JsonNode> frames = new ArrayList<>();
        try {
            for (JsonNode frame = stalled.nextText(); frame != null; frame = stalled.nextText()) {
                frames.add(frame);
            }
        } catch (EOFException e) {
            return new Received(frames, null, null, "the end of the stream");
        } catch (SocketException e) {
            return new Received(frames, null, null, "the socket failed: " + e.getMessage());
        }
        return new Received(frames, stalled.closeCode(), stalled.closeReason(),
                "close " + stalled.closeCode() + " " + stalled.closeReason());
    }

    private record Sent(Map<Long, String> texts, long maxRoundTripNanos, long medianRoundTripNanos) {
    }

    /** Sends with {@link #WINDOW} messages unacknowledged until the budget is spent; times each ack's round trip. */
    private static Sent send(ChatClient client, String run, int sender, AtomicInteger budget, AtomicInteger acked)
            throws Exception {
        Map<String, Long> sentAt = new HashMap<>();
        Map<String, String> texts = new HashMap<>();
        Map<Long, String> stored = new HashMap<>();
        List<Long> roundTrips = new ArrayList<>();
        int n = 0;
        while (true) {
            while (sentAt.size() < WINDOW && budget.getAndDecrement() > 0) {
                String clientOffset = run + "-" + sender + "-" + n;
                String text = text(run, sender, n);
                texts.put(clientOffset, text);
                sentAt.put(clientOffset, System.nanoTime());
                client.sendChat(text, clientOffset);
                n++;
            }
            if (sentAt.isEmpty()) {
                List<Long> sorted = roundTrips.stream().sorted().toList();
                return new Sent(stored, sorted.isEmpty() ? 0 : sorted.get(sorted.size() - 1),
                        sorted.isEmpty() ? 0 : sorted.get(sorted.size() / 2));
            }
            JsonNode frame = client.next();
            String type = frame.path("type").asText();
            if (type.equals("ack")) {
                String clientOffset = frame.path("clientOffset").asText();
                Long at = sentAt.remove(clientOffset);
                assertTrue(at != null, () -> "an ack for nothing in flight: " + frame);
                roundTrips.add(System.nanoTime() - at);
                assertTrue(stored.put(frame.path("offset").asLong(), texts.get(clientOffset)) == null,
                        () -> "a second ack for offset " + frame);
                acked.incrementAndGet();
            } else if (!type.equals("chat message")) {
                fail("sender " + sender + " got " + frame);
            }
        }
    }

    private static String text(String run, int sender, int n) {
        String head = "slow " + run + " sender " + sender + " message " + n + " ";
        return head + "x".repeat(TEXT_LENGTH - head.length());
    }

    private static boolean allDone(List<? extends Future<?>> futures) throws Exception {
        for (Future<?> future : futures) {
            if (future.isDone()) {
                future.get(); // a failed sender fails the test now
            } else {
                return false;
            }
        }
        return true;
    }

    /** The most a socket's send buffer grows to by itself (Linux: net.ipv4.tcp_wmem's maximum). */
    private static long maxSocketSendBuffer() {
        try {
            String[] wmem = Files.readString(Path.of("/proc/sys/net/ipv4/tcp_wmem")).trim().split("\\s+");
            return Long.parseLong(wmem[2]);
        } catch (IOException | RuntimeException notLinux) {
            return 4L << 20;
        }
    }
}
