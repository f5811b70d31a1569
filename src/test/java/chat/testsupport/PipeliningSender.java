package chat.testsupport;

import com.fasterxml.jackson.databind.JsonNode;
import jakarta.websocket.CloseReason;

import java.io.IOException;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * A client that keeps a window of messages unacknowledged until the server's side of its connection goes away (a
 * kill, a stop, a redeploy), recording what it was told before that, and afterwards sends every message without an
 * ack again with the same clientOffset. The text of every message is its clientOffset, so a replay (text and
 * offset) says which message each row is.
 */
public final class PipeliningSender {

    private static final Duration POLL = Duration.ofMillis(50);

    public final int id;
    public final String prefix;
    /** Every clientOffset sent, in order. */
    public final List<String> sent = new ArrayList<>();
    /** clientOffset to offset, for the acks received before the connection went. */
    public final Map<String, Long> acked = new LinkedHashMap<>();
    /** clientOffset to the error code it was refused with before the connection went. */
    public final Map<String, String> refused = new LinkedHashMap<>();
    /** Offset to text of every chat message received before the connection went, replayed or broadcast. */
    public final Map<Long, String> seen = new HashMap<>();
    /** clientOffset to offset, for the unacknowledged messages sent again afterwards. */
    public final Map<String, Long> resendAcks = new LinkedHashMap<>();
    /** clientOffset to offset, for acknowledged messages sent again afterwards. */
    public final Map<String, Long> recheckAcks = new LinkedHashMap<>();
    /** The newest offset received before the connection went. */
    public long lastOffset;
    public int closeCode;
    public String closeReason;

    private final int window;
    private final Duration phaseTimeout;
    private final String refusalCode;

    /**
     * @param window      messages kept unacknowledged
     * @param phaseTimeout how long each phase (pipelining, resending) may take
     * @param refusalCode the only error code a refusal may carry, or null for any
     */
    public PipeliningSender(int id, String prefix, int window, Duration phaseTimeout, String refusalCode) {
        this.id = id;
        this.prefix = prefix;
        this.window = window;
        this.phaseTimeout = phaseTimeout;
        this.refusalCode = refusalCode;
    }

    /** The clientOffsets sent without an ack (the refused among them), in order. */
    public List<String> unacked() {
        return sent.stream().filter(clientOffset -> !acked.containsKey(clientOffset)).toList();
    }

    /**
     * Connects with {@code from}, reads its replay, then keeps the window full, a new message for every answer,
     * until the connection is gone; then takes every frame that arrived before it went and records the close.
     * Counts {@code firstAcks} down on the first ack.
     */
    public void pipelineUntilClosed(URI base, long from, CountDownLatch firstAcks) throws Exception {
        long deadline = System.nanoTime() + phaseTimeout.toNanos();
        try (ChatClient client = ChatClient.connect(base, from)) {
            JsonNode synced = readReplay(client, from, seen);
            lastOffset = Math.max(from, synced.path("offset").asLong());
            boolean writable = true;
            boolean counted = false;
            while (true) {
                while (writable && sent.size() - acked.size() - refused.size() < window) {
                    String clientOffset = prefix + sent.size();
                    sent.add(clientOffset);
                    try {
                        client.sendChat(clientOffset, clientOffset);
                    } catch (IOException | IllegalStateException connectionGone) {
                        writable = false;
                    }
                }
                JsonNode frame = client.poll(POLL);
                if (frame == null) {
                    if (!client.isOpen()) {
                        break;
                    }
                    if (System.nanoTime() - deadline > 0) {
                        fail("sender " + id + " was still connected " + phaseTimeout + " after it started");
                    }
                    continue;
                }
                take(frame);
                if (!counted && !acked.isEmpty()) {
                    counted = true;
                    firstAcks.countDown();
                }
            }
            CloseReason reason = client.awaitClose();
            closeCode = reason.getCloseCode().getCode();
            closeReason = reason.getReasonPhrase();
            for (JsonNode frame = client.poll(Duration.ZERO); frame != null; frame = client.poll(Duration.ZERO)) {
                take(frame);
            }
        }
    }

    private void take(JsonNode frame) {
        String type = frame.path("type").asText();
        switch (type) {
            case "ack" -> {
                String clientOffset = frame.path("clientOffset").asText();
                assertTrue(clientOffset.startsWith(prefix) && sent.contains(clientOffset),
                        () -> "sender " + id + " got an ack for a message it did not send: " + frame);
                assertNull(acked.put(clientOffset, frame.path("offset").asLong()), () -> "a second ack: " + frame);
            }
            case "chat message" -> {
                long offset = frame.path("offset").asLong();
                long last = lastOffset;
                assertTrue(offset > last, () -> "sender " + id + " got offset " + offset + " after " + last);
                seen.put(offset, frame.path("text").asText());
                lastOffset = offset;
            }
            case "error" -> {
                String clientOffset = frame.path("clientOffset").asText(null);
                assertTrue(clientOffset != null && sent.contains(clientOffset),
                        () -> "sender " + id + " got an error not about one of its messages: " + frame);
                if (refusalCode != null) {
                    assertEquals(refusalCode, frame.path("code").asText(), () -> "sender " + id + ": " + frame);
                }
                refused.put(clientOffset, frame.path("code").asText());
                System.out.println("sender " + id + " before the connection went: " + frame);
            }
            default -> fail("sender " + id + " got an unexpected frame: " + frame);
        }
    }

    /**
     * Reconnects with {@code from}, checks that the server has that offset (no reset), then sends again every
     * message without an ack, plus the last {@code recheckedAcks} acknowledged ones, and waits for an ack for each:
     * into {@link #resendAcks} and {@link #recheckAcks}.
     */
    public void resendUnacknowledged(URI base, long from, int recheckedAcks) throws Exception {
        try (ChatClient client = ChatClient.connect(base, from)) {
            JsonNode synced = readReplay(client, from, new HashMap<>());
            assertFalse(synced.path("reset").asBoolean(false), () -> "sender " + id + " reconnected with offset "
                    + from + " and was told the store does not have it: " + synced);
            List<String> unacked = unacked();
            List<String> acknowledged = new ArrayList<>(acked.keySet());
            List<String> recheck = acknowledged.subList(Math.max(0, acknowledged.size() - recheckedAcks),
                    acknowledged.size());
            Set<String> expected = new LinkedHashSet<>(unacked);
            expected.addAll(recheck);
            for (String clientOffset : expected) {
                client.sendChat(clientOffset, clientOffset);
            }
            Map<String, Long> acks = new HashMap<>();
            long deadline = System.nanoTime() + phaseTimeout.toNanos();
            while (acks.size() < expected.size()) {
                if (System.nanoTime() - deadline > 0) {
                    fail("sender " + id + " got " + acks.size() + " of " + expected.size() + " acks for the messages"
                            + " it sent again");
                }
                JsonNode frame = client.next();
                String type = frame.path("type").asText();
                if (type.equals("ack")) {
                    String clientOffset = frame.path("clientOffset").asText();
                    assertTrue(expected.contains(clientOffset), () -> "an ack for a message not sent again: " + frame);
                    assertNull(acks.put(clientOffset, frame.path("offset").asLong()), () -> "a second ack: " + frame);
                } else {
                    assertEquals("chat message", type, () -> "sender " + id + " sending again: " + frame);
                }
            }
            for (String clientOffset : unacked) {
                resendAcks.put(clientOffset, acks.get(clientOffset));
            }
            for (String clientOffset : recheck) {
                recheckAcks.put(clientOffset, acks.get(clientOffset));
            }
        }
    }

    /**
     * Runs {@link #pipelineUntilClosed} of every sender on a thread of {@code threads} and returns once each has an
     * ack, failing the test (with {@code context}, a server's output, say) if one has none within the senders'
     * phase timeout.
     *
     * @param event what the senders run until, for the failure message: "the kill", "the stop"
     * @return the senders' runs, which end when their connections have closed
     */
    public static List<Future<?>> pipelineAll(List<PipeliningSender> senders, ExecutorService threads, URI base,
            long from, String event, Supplier<String> context) throws InterruptedException {
        CountDownLatch firstAcks = new CountDownLatch(senders.size());
        List<Future<?>> sending = new ArrayList<>();
        for (PipeliningSender sender : senders) {
            sending.add(threads.submit(() -> {
                sender.pipelineUntilClosed(base, from, firstAcks);
                return null;
            }));
        }
        Duration timeout = senders.get(0).phaseTimeout;
        if (!firstAcks.await(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
            failIfAnyEnded(sending, event);
            fail("not every sender got an ack within " + timeout + "\n" + context.get());
        }
        return sending;
    }

    /**
     * Fails the test if any of the senders' threads already ended: with the failure of a sender that failed, or
     * because it stopped before {@code event} (the kill, the stop) that it runs until.
     */
    public static void failIfAnyEnded(List<? extends Future<?>> senders, String event) throws InterruptedException {
        for (Future<?> sender : senders) {
            if (sender.isDone()) {
                try {
                    sender.get();
                } catch (ExecutionException e) {
                    throw new AssertionError("a sender failed before " + event, e.getCause());
                }
                fail("a sender stopped before " + event);
            }
        }
    }

    /**
     * Offset to text of every stored message, from a replay from offset 0: strictly increasing, not flagged reset,
     * and ended by a synced frame that names its last offset.
     */
    public static TreeMap<Long, String> history(URI base) throws Exception {
        TreeMap<Long, String> history = new TreeMap<>();
        try (ChatClient reader = ChatClient.connect(base, 0L)) {
            JsonNode synced = readReplay(reader, 0, history);
            assertFalse(synced.path("reset").asBoolean(false), () -> "a replay from 0 was flagged reset: " + synced);
            assertEquals(history.isEmpty() ? 0 : history.lastKey(), synced.path("offset").asLong(),
                    "synced names the last replayed offset");
        }
        return history;
    }

    /** Text to the offsets it is stored under, in the order of the texts' first offsets. */
    public static Map<String, List<Long>> offsetsByText(Map<Long, String> history) {
        return history.entrySet().stream().collect(Collectors.groupingBy(Map.Entry::getValue, LinkedHashMap::new,
                Collectors.mapping(Map.Entry::getKey, Collectors.toList())));
    }

    /**
     * Reads a replay up to {@code synced}, putting each message into {@code messages} and checking that the
     * offsets are above {@code after} and strictly increasing.
     *
     * @return the synced frame
     */
    public static JsonNode readReplay(ChatClient client, long after, Map<Long, String> messages)
            throws InterruptedException {
        long previous = after;
        while (true) {
            JsonNode frame = client.next();
            String type = frame.path("type").asText();
            if (type.equals("synced")) {
                return frame;
            }
            assertEquals("chat message", type, () -> "unexpected frame before synced: " + frame);
            long offset = frame.path("offset").asLong();
            long last = previous;
            assertTrue(offset > last, () -> "replay not strictly increasing: " + last + " then " + frame);
            messages.put(offset, frame.path("text").asText());
            previous = offset;
        }
    }
}
