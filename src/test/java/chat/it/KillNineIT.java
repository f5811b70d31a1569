package chat.it;

import chat.testsupport.ChatWar;
import chat.testsupport.PipeliningSender;
import chat.testsupport.StockTomcat;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.RepeatedTest;
import org.junit.jupiter.api.RepetitionInfo;

import java.io.IOException;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * kill -9 of the Tomcat JVM while senders are pipelining (README, guarantee 2). Each round: three senders keep
 * {@link #WINDOW} messages unacknowledged on a Tomcat of the test's own ({@link StockTomcat}); after a random
 * 300 to 1500 ms the JVM gets SIGKILL; a new JVM starts on the same database; every sender reconnects with the last
 * offset it saw and sends again, with the same clientOffset and text, every message it has no ack for. Then the
 * whole history, replayed from offset 0, must hold every message ever sent exactly once, each acknowledged one under
 * the offset its ack named, and every message a client saw broadcast before the kill under the offset it saw. The
 * new JVM serves the next round, so the database goes through every kill of the class.
 *
 * <p>The text of every message is its clientOffset, so the replay (text and offset) says which message each row is.
 */
class KillNineIT {

    private static final int SENDERS = 3;
    private static final int WINDOW = 16;
    private static final int ROUNDS = 3;
    private static final int MIN_KILL_DELAY_MILLIS = 300;
    private static final int MAX_KILL_DELAY_MILLIS = 1500;
    /** Acks already received that each sender sends again after the restart, to see the same offset come back. */
    private static final int RECHECKED_ACKS = 2;
    private static final Duration PHASE_TIMEOUT = Duration.ofSeconds(60);
    private static final String RUN = UUID.randomUUID().toString().substring(0, 8);

    private static StockTomcat tomcat;
    /** Every clientOffset sent in the rounds so far, with the offset the server acknowledged it under. */
    private static final Map<String, Long> ledger = new HashMap<>();
    /** False once a round failed: the ledger misses its messages, so the later rounds cannot be checked. */
    private static boolean ledgerComplete = true;

    @BeforeAll
    static void createTomcat() throws IOException {
        tomcat = StockTomcat.create("kill9");
    }

    @AfterAll
    static void stopTomcat() {
        if (tomcat != null) {
            tomcat.close();
        }
    }

    @RepeatedTest(ROUNDS)
    void everyAcknowledgedMessageSurvivesKillNineAndResentMessagesAreStoredOnce(RepetitionInfo repetition)
            throws Exception {
        int round = repetition.getCurrentRepetition();
        assumeTrue(ledgerComplete,
                "an earlier round failed, so the database holds messages this test cannot account for");
        ledgerComplete = false;
        if (!tomcat.isRunning()) {
            startAlone();
        }
        URI before = tomcat.uri();
        long from = ChatWar.latestOffset(before);
        List<PipeliningSender> senders = new ArrayList<>();
        for (int s = 0; s < SENDERS; s++) {
            senders.add(new PipeliningSender(s, "k9-" + RUN + "-r" + round + "-s" + s + "-", WINDOW, PHASE_TIMEOUT,
                    null));
        }

        ExecutorService threads = Executors.newFixedThreadPool(SENDERS);
        long killDelay = ThreadLocalRandom.current().nextInt(MIN_KILL_DELAY_MILLIS, MAX_KILL_DELAY_MILLIS + 1);
        long restartMillis;
        long latestAtRestart;
        try {
            // 1. Pipeline until the JVM is killed under the senders.
            List<Future<?>> sending = PipeliningSender.pipelineAll(senders, threads, before, from, "the kill",
                    tomcat::output);
            Thread.sleep(killDelay);
            PipeliningSender.failIfAnyEnded(sending, "the kill");
            long killedPid = tomcat.pid();
            tomcat.kill();
            for (Future<?> sender : sending) {
                sender.get(PHASE_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
            }
            int unackedAtKill = senders.stream().mapToInt(s -> s.unacked().size()).sum();
            assertTrue(unackedAtKill > 0, "the kill came while messages were in flight");

            // 2. The killed JVM is gone, and with it its hold on the database; a new one opens it.
            Set<Long> holders = tomcat.processesWithDatabaseOpen();
            assertTrue(holders.isEmpty(), () -> "after the kill of pid " + killedPid + ", still open in " + holders);
            long restart = System.nanoTime();
            startAlone();
            restartMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - restart);
            URI after = tomcat.uri();
            latestAtRestart = ChatWar.latestOffset(after);
            for (PipeliningSender sender : senders) {
                long newestAcked = sender.acked.values().stream().mapToLong(Long::longValue).max().orElse(0);
                assertTrue(latestAtRestart >= newestAcked, () -> "sender " + sender.id + " had an ack for offset "
                        + newestAcked + " before the kill, but the newest stored offset after it is "
                        + latestAtRestart);
                assertTrue(latestAtRestart >= sender.lastOffset, () -> "sender " + sender.id + " was sent offset "
                        + sender.lastOffset + " before the kill, but the newest stored offset after it is "
                        + latestAtRestart);
            }

            // 3. Reconnect, send the unacknowledged messages again (and a few acknowledged ones), get their acks.
            List<Future<?>> resending = new ArrayList<>();
            for (PipeliningSender sender : senders) {
                resending.add(threads.submit(() -> {
                    sender.resendUnacknowledged(after, sender.lastOffset, RECHECKED_ACKS);
                    return null;
                }));
            }
            for (Future<?> sender : resending) {
                sender.get(PHASE_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
            }
        } finally {
            threads.shutdownNow();
            assertTrue(threads.awaitTermination(20, TimeUnit.SECONDS), "all client threads stopped");
        }

        // 4. The history from offset 0 against what every sender was told.
        for (PipeliningSender sender : senders) {
            for (String clientOffset : sender.recheckAcks.keySet()) {
                assertEquals(sender.acked.get(clientOffset), sender.recheckAcks.get(clientOffset),
                        () -> clientOffset + ", acknowledged before the kill and sent again after it, got another"
                                + " offset");
            }
            ledger.putAll(sender.acked);
            ledger.putAll(sender.resendAcks);
            for (String clientOffset : sender.sent) {
                assertTrue(ledger.containsKey(clientOffset), () -> clientOffset + " was sent but never acknowledged");
            }
        }
        TreeMap<Long, String> history = PipeliningSender.history(tomcat.uri());
        Map<String, List<Long>> offsetsByText = PipeliningSender.offsetsByText(history);
        Map<String, List<Long>> storedTwice = offsetsByText.entrySet().stream().filter(e -> e.getValue().size() > 1)
                .collect(Collectors.toMap(Map.Entry::getKey, Map.Entry::getValue));
        assertTrue(storedTwice.isEmpty(), () -> "stored more than once: " + sample(storedTwice.entrySet()));

        for (PipeliningSender sender : senders) {
            for (Map.Entry<String, Long> ack : sender.acked.entrySet()) {
                List<Long> stored = offsetsByText.get(ack.getKey());
                assertEquals(List.of(ack.getValue()), stored, () -> ack.getKey() + " was acknowledged as offset "
                        + ack.getValue() + " before the kill; stored under " + stored);
            }
            for (Map.Entry<Long, String> seen : sender.seen.entrySet()) {
                assertEquals(seen.getValue(), history.get(seen.getKey()), () -> "sender " + sender.id
                        + " was sent offset " + seen.getKey() + " before the kill with text " + seen.getValue());
            }
        }
        Map<String, Long> stored = offsetsByText.entrySet().stream()
                .collect(Collectors.toMap(Map.Entry::getKey, e -> e.getValue().get(0)));
        Set<String> unknown = new LinkedHashSet<>(stored.keySet());
        unknown.removeAll(ledger.keySet());
        assertTrue(unknown.isEmpty(), () -> "stored, but never sent: " + sample(unknown));
        List<String> misplaced = ledger.entrySet().stream()
                .filter(e -> !e.getValue().equals(stored.get(e.getKey())))
                .map(e -> e.getKey() + " acknowledged as " + e.getValue() + ", stored as " + stored.get(e.getKey()))
                .toList();
        assertTrue(misplaced.isEmpty(), () -> "not stored under the offset its ack named: " + sample(misplaced));
        assertEquals(ledger.size(), stored.size(), "every message ever sent is stored once");
        assertEquals(history.lastKey(), ChatWar.latestOffset(tomcat.uri()), "/health names the newest replayed offset");

        int sent = senders.stream().mapToInt(s -> s.sent.size()).sum();
        int acked = senders.stream().mapToInt(s -> s.acked.size()).sum();
        int resent = senders.stream().mapToInt(s -> s.resendAcks.size()).sum();
        long committedUnacked = senders.stream().flatMap(s -> s.resendAcks.values().stream())
                .filter(offset -> offset <= latestAtRestart).count();
        int refused = senders.stream().mapToInt(s -> s.refused.size()).sum();
        System.out.printf("%s round %d (%s): killed %d ms after every sender had an ack; %d sent, %d acknowledged"
                        + " before the kill, %d refused, %d sent again after the restart (%d of them committed before"
                        + " the kill without the ack reaching the client); restart took %d ms; %d messages stored%n",
                KillNineIT.class.getSimpleName(), round,
                tomcat.usesContextDataSource() ? "jdbc/chat of tomcat-conf's ROOT.xml" : "embedded pool",
                killDelay, sent, acked, refused, resent, committedUnacked, restartMillis, history.size());
        ledgerComplete = true;
    }

    /** The first few elements, and how many there are, for a failure message. */
    private static String sample(Collection<?> elements) {
        return elements.stream().limit(20).map(String::valueOf).collect(Collectors.joining(", ", "[", ""))
                + (elements.size() > 20 ? ", ...] (" + elements.size() + " in all)" : "]");
    }

    /** Starts the Tomcat, checking that nothing else has the database open before, and only it afterwards. */
    private static void startAlone() throws IOException, InterruptedException {
        Set<Long> before = tomcat.processesWithDatabaseOpen();
        assertTrue(before.isEmpty(), () -> "the database is open in " + before + " before Tomcat starts");
        tomcat.start();
        Set<Long> after = tomcat.processesWithDatabaseOpen();
        Set<Long> tomcatAndChildren = new LinkedHashSet<>();
        tomcatAndChildren.add(tomcat.pid());
        ProcessHandle.of(tomcat.pid()).ifPresent(p -> p.descendants().forEach(d -> tomcatAndChildren.add(d.pid())));
        assertTrue(after.contains(tomcat.pid()), () -> "Tomcat (pid " + tomcat.pid() + ") has not opened "
                + tomcat.database() + "; open in " + after);
        assertTrue(tomcatAndChildren.containsAll(after), () -> "the database is open in " + after
                + ", not only in Tomcat (pid " + tomcat.pid() + ")");
    }
}
