package chat.it;

import com.fasterxml.jackson.databind.JsonNode;
import jakarta.websocket.CloseReason;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Graceful stop while senders pipeline (README, Operations: "undeploy, redeploy, Tomcat stop"). Senders keep
 * {@link #WINDOW} messages unacknowledged on a Tomcat of the test's own ({@link StockTomcat}) when Tomcat is stopped
 * normally (SIGTERM, its shutdown hook) or the WAR is redeployed (a newer {@code ROOT.war}, Tomcat's autoDeploy).
 * Every session must be closed with 1001, and every message a sender sent must have been acknowledged or refused
 * with an error frame before that close, or not be stored at all: nothing is committed without its sender hearing of
 * it. Sent again with the same clientOffset to the chat that runs afterwards, every message is stored exactly once,
 * each acknowledged one under the offset of its ack.
 *
 * <p>The text of every message is its clientOffset, so the replay (text and offset) says which message each row is.
 */
class GracefulStopIT {

    private static final int SENDERS = 4;
    private static final int WINDOW = 32;
    private static final int MIN_STOP_DELAY_MILLIS = 200;
    private static final int MAX_STOP_DELAY_MILLIS = 800;
    private static final Duration PHASE_TIMEOUT = Duration.ofSeconds(90);
    private static final Duration POLL = Duration.ofMillis(50);
    private static final String RUN = UUID.randomUUID().toString().substring(0, 8);

    private static StockTomcat tomcat;

    @BeforeAll
    static void startTomcat() throws IOException, InterruptedException {
        tomcat = StockTomcat.create("graceful-stop");
        tomcat.start();
    }

    @AfterAll
    static void stopTomcat() {
        if (tomcat != null) {
            tomcat.close();
        }
    }

    @Test
    void tomcatStopAnswersEveryQueuedMessageBeforeClosingWith1001() throws Exception {
        ensureRunning();
        List<Sender> senders = pipelineUntilClosed("stop", base -> {
            int exit = tomcat.stop();
            assertEquals(143, exit, "Tomcat's exit code after SIGTERM\n" + tomcat.output());
        });
        tomcat.start();
        checkAndResend(senders, tomcat.uri());
    }

    @Test
    void redeployAnswersEveryQueuedMessageBeforeClosingWith1001() throws Exception {
        ensureRunning();
        Path war = tomcat.base().resolve("webapps/ROOT.war");
        List<Sender> senders = pipelineUntilClosed("redeploy", base ->
                // A newer WAR over the old one: autoDeploy stops the running chat and deploys this one.
                Files.setLastModifiedTime(war, FileTime.from(Instant.now())));
        awaitHealthy(tomcat.uri());
        checkAndResend(senders, tomcat.uri());
    }

    private static void ensureRunning() throws IOException, InterruptedException {
        if (!tomcat.isRunning()) {
            tomcat.start();
        }
    }

    @FunctionalInterface
    private interface Disruption {
        void apply(URI base) throws Exception;
    }

    /**
     * Starts the senders, applies the disruption once each has an ack and a random delay passed, and returns the
     * senders once every connection closed; checks the close codes.
     */
    private static List<Sender> pipelineUntilClosed(String name, Disruption disruption) throws Exception {
        URI base = tomcat.uri();
        long from = ChatWar.latestOffset(base);
        List<Sender> senders = new ArrayList<>();
        for (int s = 0; s < SENDERS; s++) {
            senders.add(new Sender(s, "gs-" + RUN + "-" + name + "-s" + s + "-"));
        }
        ExecutorService threads = Executors.newFixedThreadPool(SENDERS);
        try {
            CountDownLatch firstAcks = new CountDownLatch(SENDERS);
            List<Future<?>> sending = new ArrayList<>();
            for (Sender sender : senders) {
                sending.add(threads.submit(() -> {
                    sender.pipelineUntilClosed(base, from, firstAcks);
                    return null;
                }));
            }
            if (!firstAcks.await(PHASE_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
                failFast(sending);
                fail("not every sender got an ack within " + PHASE_TIMEOUT + "\n" + tomcat.output());
            }
            Thread.sleep(ThreadLocalRandom.current().nextInt(MIN_STOP_DELAY_MILLIS, MAX_STOP_DELAY_MILLIS + 1));
            failFast(sending);
            disruption.apply(base);
            for (Future<?> sender : sending) {
                try {
                    sender.get(PHASE_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
                } catch (ExecutionException e) {
                    throw new AssertionError("a sender failed", e.getCause());
                }
            }
        } finally {
            threads.shutdownNow();
        }
        for (Sender sender : senders) {
            assertEquals(CloseReason.CloseCodes.GOING_AWAY.getCode(), sender.closeCode, () -> "sender " + sender.id
                    + " was closed with " + sender.closeCode + " (" + sender.closeReason + "), not 1001\n"
                    + tomcat.output());
        }
        return senders;
    }

    /**
     * Against the chat that runs after the stop: nothing unanswered is stored, every ack names the row of its
     * message, and every message sent again is stored once.
     */
    private static void checkAndResend(List<Sender> senders, URI base) throws Exception {
        Map<String, Long> stored = storedByText(base);
        for (Sender sender : senders) {
            for (String clientOffset : sender.sent) {
                Long offset = stored.get(clientOffset);
                Long acked = sender.acked.get(clientOffset);
                if (acked != null) {
                    assertEquals(acked, offset, () -> clientOffset + " was acknowledged as " + acked
                            + " before the close; stored as " + offset);
                } else if (sender.refused.containsKey(clientOffset)) {
                    assertNull(offset, () -> clientOffset + " was refused (" + sender.refused.get(clientOffset)
                            + ") but is stored as " + offset);
                } else {
                    assertNull(offset, () -> clientOffset + " got neither an ack nor an error before the close, but"
                            + " is stored as " + offset + ": committed without its sender hearing of it");
                }
            }
        }
        for (Sender sender : senders) {
            sender.resendUnacknowledged(base);
        }
        Map<String, List<Long>> offsetsByText = storedOffsetsByText(base);
        for (Sender sender : senders) {
            for (String clientOffset : sender.sent) {
                List<Long> offsets = offsetsByText.get(clientOffset);
                Long expected = sender.acked.containsKey(clientOffset) ? sender.acked.get(clientOffset)
                        : sender.resendAcks.get(clientOffset);
                assertEquals(List.of(expected), offsets, () -> clientOffset + " must be stored once, under "
                        + expected);
            }
        }
        int sent = senders.stream().mapToInt(s -> s.sent.size()).sum();
        int acked = senders.stream().mapToInt(s -> s.acked.size()).sum();
        int refused = senders.stream().mapToInt(s -> s.refused.size()).sum();
        System.out.printf("%s (%s): %d sent, %d acknowledged and %d refused before the close (1001 for all),"
                        + " %d unanswered and not stored; all stored once after the resend%n",
                GracefulStopIT.class.getSimpleName(),
                tomcat.usesContextDataSource() ? "jdbc/chat of tomcat-conf's ROOT.xml" : "embedded pool",
                sent, acked, refused, sent - acked - refused);
    }

    private static Map<String, Long> storedByText(URI base) throws Exception {
        Map<String, Long> stored = new LinkedHashMap<>();
        storedOffsetsByText(base).forEach((text, offsets) -> {
            assertEquals(1, offsets.size(), () -> text + " is stored more than once: " + offsets);
            stored.put(text, offsets.get(0));
        });
        return stored;
    }

    /** Text to the offsets it is stored under, from a replay from offset 0, which must be strictly increasing. */
    private static Map<String, List<Long>> storedOffsetsByText(URI base) throws Exception {
        TreeMap<Long, String> history = new TreeMap<>();
        try (ChatClient reader = ChatClient.connect(base, 0L)) {
            long previous = 0;
            while (true) {
                JsonNode frame = reader.next();
                String type = frame.path("type").asText();
                if (type.equals("synced")) {
                    assertFalse(frame.path("reset").asBoolean(false), () -> "a replay from 0 was flagged reset: "
                            + frame);
                    break;
                }
                assertEquals("chat message", type, () -> "unexpected frame before synced: " + frame);
                long offset = frame.path("offset").asLong();
                long last = previous;
                assertTrue(offset > last, () -> "replay not strictly increasing: " + last + " then " + frame);
                history.put(offset, frame.path("text").asText());
                previous = offset;
            }
        }
        return history.entrySet().stream().collect(Collectors.groupingBy(Map.Entry::getValue, LinkedHashMap::new,
                Collectors.mapping(Map.Entry::getKey, Collectors.toList())));
    }

    /** Waits until a redeployed chat answers {@code /health} with 200. */
    private static void awaitHealthy(URI base) throws Exception {
        long deadline = System.nanoTime() + PHASE_TIMEOUT.toNanos();
        String last = "no answer";
        while (System.nanoTime() < deadline) {
            try {
                HttpResponse<String> health = ChatWar.get(base.resolve("health"));
                if (health.statusCode() == 200) {
                    return;
                }
                last = health.statusCode() + " " + health.body();
            } catch (IOException e) {
                last = e.toString();
            }
            Thread.sleep(200);
        }
        fail("the redeployed chat did not answer /health with 200 within " + PHASE_TIMEOUT + " (last: " + last
                + ")\n" + tomcat.output());
    }

    private static void failFast(List<Future<?>> senders) throws InterruptedException {
        for (Future<?> sender : senders) {
            if (sender.isDone()) {
                try {
                    sender.get();
                } catch (ExecutionException e) {
                    throw new AssertionError("a sender failed before the stop", e.getCause());
                }
                fail("a sender stopped before the stop");
            }
        }
    }

    /** A client that pipelines messages until the server closes its connection, then sends the unacknowledged again. */
    private static final class Sender {
        final int id;
        final String prefix;
        /** Every clientOffset sent, in order; the text of each message is its clientOffset. */
        final List<String> sent = new ArrayList<>();
        /** clientOffset to offset, for the acks received before the close. */
        final Map<String, Long> acked = new LinkedHashMap<>();
        /** clientOffset to the error code it was refused with before the close. */
        final Map<String, String> refused = new LinkedHashMap<>();
        /** clientOffset to offset, for the messages sent again afterwards. */
        final Map<String, Long> resendAcks = new LinkedHashMap<>();
        int closeCode;
        String closeReason;

        Sender(int id, String prefix) {
            this.id = id;
            this.prefix = prefix;
        }

        void pipelineUntilClosed(URI base, long from, CountDownLatch firstAcks) throws Exception {
            long deadline = System.nanoTime() + PHASE_TIMEOUT.toNanos();
            try (ChatClient client = ChatClient.connect(base, from)) {
                client.awaitSyncedFrame();
                boolean writable = true;
                boolean counted = false;
                while (true) {
                    while (writable && sent.size() - acked.size() - refused.size() < WINDOW) {
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
                        if (System.nanoTime() > deadline) {
                            fail("sender " + id + " was still connected " + PHASE_TIMEOUT + " after it started");
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
                    assertTrue(sent.contains(clientOffset), () -> "sender " + id + " got an ack for a message it did"
                            + " not send: " + frame);
                    assertNull(acked.put(clientOffset, frame.path("offset").asLong()), () -> "a second ack: " + frame);
                }
                case "chat message" -> {
                    // Broadcasts of everyone's messages; the replay afterwards checks what is stored.
                }
                case "error" -> {
                    String clientOffset = frame.path("clientOffset").asText(null);
                    assertTrue(clientOffset != null && sent.contains(clientOffset),
                            () -> "sender " + id + " got an error not about one of its messages: " + frame);
                    assertEquals("store-unavailable", frame.path("code").asText(), () -> "sender " + id + ": " + frame);
                    refused.put(clientOffset, frame.path("code").asText());
                }
                default -> fail("sender " + id + " got an unexpected frame: " + frame);
            }
        }

        /** Sends every message without an ack again, with the same clientOffset, and waits for an ack for each. */
        void resendUnacknowledged(URI base) throws Exception {
            Set<String> unacked = new LinkedHashSet<>(sent);
            unacked.removeAll(acked.keySet());
            try (ChatClient client = ChatClient.connect(base, ChatWar.latestOffset(base))) {
                client.awaitSyncedFrame();
                for (String clientOffset : unacked) {
                    client.sendChat(clientOffset, clientOffset);
                }
                long deadline = System.nanoTime() + PHASE_TIMEOUT.toNanos();
                while (resendAcks.size() < unacked.size()) {
                    if (System.nanoTime() > deadline) {
                        fail("sender " + id + " got " + resendAcks.size() + " of " + unacked.size() + " acks for"
                                + " its resent messages");
                    }
                    JsonNode frame = client.next();
                    String type = frame.path("type").asText();
                    if (type.equals("ack")) {
                        String clientOffset = frame.path("clientOffset").asText();
                        assertTrue(unacked.contains(clientOffset), () -> "an ack for a message not sent again: "
                                + frame);
                        assertNull(resendAcks.put(clientOffset, frame.path("offset").asLong()),
                                () -> "a second ack: " + frame);
                    } else {
                        assertEquals("chat message", type, () -> "sender " + id + " resending: " + frame);
                    }
                }
            }
        }
    }
}
