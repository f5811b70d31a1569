package chat.it;

import chat.testsupport.ChatClient;
import chat.testsupport.ChatWar;
import chat.testsupport.RawWebSocket;

import org.jboss.arquillian.container.test.api.Deployment;
import org.jboss.arquillian.junit5.ArquillianExtension;
import org.jboss.arquillian.test.api.ArquillianResource;
import org.jboss.shrinkwrap.api.spec.WebArchive;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.net.SocketTimeoutException;
import java.net.URI;
import java.net.URL;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The server pings every {@code chat.pingIntervalSeconds} (1 s in these tests): a client that answers stays
 * connected while idle, a peer that never answers is closed with 1001.
 */
@ExtendWith(ArquillianExtension.class)
class HeartbeatIT {

    /** Messages of 10 000 characters: a replay far larger than what the sockets' buffers take. */
    private static final int STALLED_HISTORY = 400;
    private static final int STALLED_PEERS = 48;

    @Deployment(testable = false)
    static WebArchive war() {
        return ChatWar.packaged();
    }

    @ArquillianResource
    private URL deployed;

    @Test
    void anIdleClientThatAnswersPingsStaysConnected() throws Exception {
        URI base = deployed.toURI();
        try (ChatClient idle = ChatClient.connect(base, ChatWar.latestOffset(base))) {
            idle.awaitSynced();
            assertNull(idle.poll(Duration.ofSeconds(5)), "nothing but pings for five intervals");
            assertTrue(idle.isOpen());
            idle.sendChat("still here", "heartbeat-" + System.nanoTime());
            assertEquals("chat message", idle.next().path("type").asText());
        }
    }

    @Test
    void aPeerThatNeverAnswersIsPingedThenClosedWith1001() throws Exception {
        URI base = deployed.toURI();
        long latest = ChatWar.latestOffset(base);
        try (RawWebSocket raw = RawWebSocket.open(base, "?serverOffset=" + latest)) {
            raw.readTimeout(Duration.ofSeconds(10));
            List<Integer> opcodes = new ArrayList<>();
            long deadline = System.nanoTime() + Duration.ofSeconds(15).toNanos();
            while (System.nanoTime() < deadline) {
                RawWebSocket.Frame frame;
                try {
                    frame = raw.nextFrame();
                } catch (SocketTimeoutException e) {
                    fail("no frame for 10 s; seen opcodes " + opcodes);
                    return;
                }
                opcodes.add(frame.opcode());
                if (frame.opcode() == RawWebSocket.OPCODE_CLOSE) {
                    assertEquals(1001, frame.closeCode(), "close code; opcodes seen " + opcodes);
                    assertTrue(opcodes.contains(RawWebSocket.OPCODE_PING), "pinged before being closed: " + opcodes);
                    return;
                }
            }
            fail("not closed within 15 s; opcodes seen " + opcodes);
        }
    }


    /**
     * Peers that stopped reading mid-replay have a frame in flight that never completes, and a ping to them waits
     * behind it until the send timeout. Pinged in one queue with everyone, two dozen of them hold the ping threads
     * for many intervals, and an idle client that answers every ping is closed (1001) for want of one. Tomcat
     * checks the read idle timeout every 10 s: the idle client is watched for longer than that.
     */
    @Test
    void peersThatStoppedReadingDoNotHoldUpThePingsOfAnIdleClient() throws Exception {
        URI base = deployed.toURI();
        long before = ChatWar.latestOffset(base);
        String text = "x".repeat(10_000);
        try (ChatClient writer = ChatClient.connect(base, before)) {
            writer.awaitSynced();
            String prefix = "stalled-history-" + System.nanoTime() + "-";
            for (int i = 0; i < STALLED_HISTORY; i++) {
                writer.sendChat(text, prefix + i);
            }
            for (int i = 0; i < STALLED_HISTORY; i++) {
                writer.nextAck();
            }
        }
        List<RawWebSocket> stalled = new ArrayList<>();
        try (ChatClient idle = ChatClient.connect(base, ChatWar.latestOffset(base))) {
            idle.awaitSynced();
            for (int i = 0; i < STALLED_PEERS; i++) {
                stalled.add(RawWebSocket.open(base, "?serverOffset=" + before, 4_096));
            }
            assertNull(idle.poll(Duration.ofSeconds(14)), "nothing but pings for fourteen intervals");
            assertTrue(idle.isOpen(), "the idle client was closed: " + (idle.isOpen() ? "" : idle.awaitClose()));
        } finally {
            stalled.forEach(RawWebSocket::abort);
        }
    }
}
