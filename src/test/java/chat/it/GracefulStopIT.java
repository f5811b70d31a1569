package chat.it;

import chat.testsupport.ChatWar;
import chat.testsupport.Health;
import chat.testsupport.PipeliningSender;
import chat.testsupport.StockTomcat;

import jakarta.websocket.CloseReason;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

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
        List<PipeliningSender> senders = pipelineUntilClosed("stop", base -> {
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
        List<PipeliningSender> senders = pipelineUntilClosed("redeploy", base ->
                // A newer WAR over the old one: autoDeploy stops the running chat and deploys this one.
                Files.setLastModifiedTime(war, FileTime.from(Instant.now())));
        Health.await(tomcat.uri(), 200, PHASE_TIMEOUT, tomcat::output);
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
    private static List<PipeliningSender> pipelineUntilClosed(String name, Disruption disruption) throws Exception {
        URI base = tomcat.uri();
        long from = ChatWar.latestOffset(base);
        List<PipeliningSender> senders = new ArrayList<>();
        for (int s = 0; s < SENDERS; s++) {
            senders.add(new PipeliningSender(s, "gs-" + RUN + "-" + name + "-s" + s + "-", WINDOW, PHASE_TIMEOUT,
                    "store-unavailable"));
        }
        ExecutorService threads = Executors.newFixedThreadPool(SENDERS);
        try {
            List<Future<?>> sending = PipeliningSender.pipelineAll(senders, threads, base, from, "the stop",
                    tomcat::output);
            Thread.sleep(ThreadLocalRandom.current().nextInt(MIN_STOP_DELAY_MILLIS, MAX_STOP_DELAY_MILLIS + 1));
            PipeliningSender.failIfAnyEnded(sending, "the stop");
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
        for (PipeliningSender sender : senders) {
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
    private static void checkAndResend(List<PipeliningSender> senders, URI base) throws Exception {
        Map<String, Long> stored = storedByText(base);
        for (PipeliningSender sender : senders) {
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
        for (PipeliningSender sender : senders) {
            sender.resendUnacknowledged(base, ChatWar.latestOffset(base), 0);
        }
        Map<String, List<Long>> offsetsByText = PipeliningSender.offsetsByText(PipeliningSender.history(base));
        for (PipeliningSender sender : senders) {
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
        PipeliningSender.offsetsByText(PipeliningSender.history(base)).forEach((text, offsets) -> {
            assertEquals(1, offsets.size(), () -> text + " is stored more than once: " + offsets);
            stored.put(text, offsets.get(0));
        });
        return stored;
    }
}
