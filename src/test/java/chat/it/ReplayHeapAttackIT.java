package chat.it;

import chat.testsupport.ChatClient;
import chat.testsupport.ChatWar;
import chat.testsupport.RawWebSocket;
import chat.testsupport.StockTomcat;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * One client address cannot exhaust the heap through replays. On a Tomcat of its own with the heap and flags of
 * tomcat-conf/bin/setenv.sh (1 GiB, exit on OutOfMemoryError), a history of 700 messages of 10 000 {@code \u0001}
 * characters (a 60 KB frame each) is replayed from offset 0 to 40 connections that never read and send an
 * unsolicited pong every two seconds, so that they are never closed for being idle (a ping would be: its pong
 * waits behind the replay frame in flight, for {@code chat.controlFrameTimeoutMillis}). Without bounds each would hold its own history
 * page of 30 MB. The JVM must stay up, the replay memory must stay within {@code chat.replayMemoryMax}, other
 * clients must get {@code synced} and their acks within a second, and the stalled replays must be closed after
 * {@code chat.stalledReplaySeconds}: those that found room at once, then those that waited for it.
 */
class ReplayHeapAttackIT {

    private static final int HISTORY = 700;
    private static final String HUGE_TEXT = "\u0001".repeat(10_000);
    private static final int ATTACKERS = 40;
    private static final long REPLAY_MEMORY_MAX = 64L << 20;
    private static final int STALLED_SECONDS = 8;
    private static final Duration PROBE_LIMIT = Duration.ofSeconds(1);

    private StockTomcat tomcat;
    private final List<RawWebSocket> attackers = new ArrayList<>();

    @AfterEach
    void stop() {
        attackers.forEach(RawWebSocket::abort);
        if (tomcat != null) {
            tomcat.close();
        }
    }

    @Test
    void fortyClientsThatNeverReadTheirReplayOfLargeMessagesLeaveTheJvmUpAndOthersServed() throws Exception {
        tomcat = StockTomcat.create("replay-heap-attack");
        tomcat.jvmOptions(List.of("-Xms1g", "-Xmx1g", "-XX:+UseG1GC", "-XX:+ExitOnOutOfMemoryError",
                "-Dchat.pingIntervalSeconds=25", "-Dchat.replayMemoryMax=" + REPLAY_MEMORY_MAX,
                "-Dchat.stalledReplaySeconds=" + STALLED_SECONDS));
        tomcat.start();
        URI base = tomcat.uri();
        ChatClient.storeAll(base, HUGE_TEXT, HISTORY, UUID.randomUUID().toString().substring(0, 8));
        probe(base, -1); // the client side's first connection, before the attack: not a figure of the server's

        for (int i = 0; i < ATTACKERS; i++) {
            attackers.add(RawWebSocket.open(base, "?serverOffset=0", 4096));
        }
        long attackStarted = System.nanoTime();
        List<Long> probeMillis = new ArrayList<>();
        double peakReplayMemory = 0;
        int round = 0;
        Set<RawWebSocket> closed = new HashSet<>();
        long firstClosedAfterMillis = Long.MAX_VALUE;
        // Two waves: the replays that found room stall and are closed; those that waited (holding nothing) then
        // get room, stall and are closed in their turn. On a busy machine a replay of the second wave can find room
        // only after another's close was noticed, a wave later: the loop ends as soon as every one is closed.
        while (System.nanoTime() - attackStarted < Duration.ofSeconds(3 * STALLED_SECONDS + 8).toNanos()
                && closed.size() < ATTACKERS) {
            for (RawWebSocket attacker : attackers) {
                try {
                    attacker.pong(); // writes, never reads: the server sees a live peer
                } catch (IOException closedByTheServer) {
                    closed.add(attacker);
                    firstClosedAfterMillis = Math.min(firstClosedAfterMillis,
                            Duration.ofNanos(System.nanoTime() - attackStarted).toMillis());
                }
            }
            probeMillis.add(probe(base, round++));
            peakReplayMemory = Math.max(peakReplayMemory, ChatWar.metric(base, "chat_replay_memory_bytes"));
            Thread.sleep(2_000);
        }

        assertTrue(tomcat.isRunning(), "the JVM is up\n" + tomcat.output());
        assertEquals(ATTACKERS, closed.size(), "every stalled replay was closed");
        // A pong every 2 s notices a close up to 2 s late, and a closed socket may take one more write.
        assertTrue(firstClosedAfterMillis >= (STALLED_SECONDS - 2) * 1_000L,
                "the first stalled replay was closed " + firstClosedAfterMillis + " ms into the attack");
        assertEquals(200, ChatWar.get(base.resolve("health")).statusCode());
        assertTrue(peakReplayMemory <= REPLAY_MEMORY_MAX + (2L << 20),
                "replays held " + peakReplayMemory + " bytes, over chat.replayMemoryMax " + REPLAY_MEMORY_MAX);
        assertTrue(probeMillis.stream().allMatch(millis -> millis < PROBE_LIMIT.toMillis()),
                "other clients waited " + probeMillis + " ms for synced and their ack, one every 2 s");
        assertEquals(0.0, ChatWar.metric(base, "chat_replays_waiting"),
                "the stalled replays were closed and gave their room back");
        assertEquals(0.0, ChatWar.metric(base, "chat_replay_memory_bytes"));
    }

    /** A client from the newest offset: milliseconds until it is synced and has the ack of a message it sent. */
    private static long probe(URI base, int round) throws Exception {
        long start = System.nanoTime();
        try (ChatClient client = ChatClient.connect(base, ChatWar.latestOffset(base))) {
            client.awaitSyncedFrame();
            client.sendChat("probe " + round, "probe-" + UUID.randomUUID());
            client.nextAck();
        }
        return Duration.ofNanos(System.nanoTime() - start).toMillis();
    }
}
