package chat.delivery;

import chat.metrics.ChatMetrics;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** One connection's frames go out one at a time, in order, from any number of threads, without recursion when sends
 * complete inline; a queue over its cap closes the connection, a failed send stops sending. */
class OutboxTest {

    /** Completes every send inside the call, as Tomcat does when the socket takes the frame at once. */
    private static final class InlineSink implements FrameSink {
        final List<String> sent = new ArrayList<>();
        final AtomicInteger depth = new AtomicInteger();
        int deepest;
        Integer closeCode;
        boolean failNext;

        @Override
        public void send(String frame, SendCallback done) {
            deepest = Math.max(deepest, depth.incrementAndGet());
            sent.add(frame);
            boolean fail = failNext;
            failNext = false;
            done.sent(fail ? new java.io.IOException("connection reset") : null);
            depth.decrementAndGet();
        }

        @Override
        public void close(int code, String reason) {
            closeCode = code;
        }
    }

    @Test
    void framesCompletedInsideTheSendCallAreSentInOrderWithoutRecursion() {
        InlineSink sink = new InlineSink();
        Outbox outbox = new Outbox(sink, Runnable::run, ChatMetrics.unregistered(), 1_000_000, Long.MAX_VALUE);
        for (int i = 0; i < 50_000; i++) {
            outbox.enqueue("f" + i);
        }
        outbox.flush();
        assertEquals(50_000, sink.sent.size());
        assertEquals("f0", sink.sent.get(0));
        assertEquals("f49999", sink.sent.get(49_999));
        assertEquals(1, sink.deepest, "each send returned before the next one started");
        assertEquals(0, outbox.queuedFrames());
    }

    @Test
    void framesFromManyThreadsAreSentOneAtATimeAndNoneIsLost() throws Exception {
        try (RecordingSink sink = new RecordingSink()) {
            Outbox outbox = new Outbox(sink, Runnable::run, ChatMetrics.unregistered(), 1_000_000, Long.MAX_VALUE);
            int threads = 4;
            int perThread = 2_000;
            CountDownLatch start = new CountDownLatch(1);
            List<Thread> producers = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int producer = t;
                Thread thread = new Thread(() -> {
                    try {
                        start.await();
                    } catch (InterruptedException e) {
                        return;
                    }
                    for (int i = 0; i < perThread; i++) {
                        outbox.offer("{\"type\":\"chat message\",\"text\":\"" + producer + "\",\"offset\":" + i + "}");
                    }
                });
                thread.start();
                producers.add(thread);
            }
            start.countDown();
            for (Thread thread : producers) {
                thread.join(TimeUnit.SECONDS.toMillis(20));
            }
            outbox.offer("{\"type\":\"synced\",\"offset\":0}");
            var frames = sink.awaitSynced();
            assertEquals(threads * perThread + 1, frames.size());
            for (int t = 0; t < threads; t++) {
                String producer = String.valueOf(t);
                List<Long> order = frames.stream().filter(f -> f.path("text").asText().equals(producer))
                        .map(f -> f.path("offset").asLong()).toList();
                assertEquals(perThread, order.size());
                for (int i = 0; i < perThread; i++) {
                    assertEquals(i, order.get(i), "each producer's frames keep their order");
                }
            }
        }
    }

    @Test
    void aQueueOverItsFrameCapClosesTheConnectionWith1008() {
        List<FrameSink.SendCallback> stalled = new ArrayList<>();
        List<Integer> closes = new ArrayList<>();
        FrameSink neverDrains = new FrameSink() {
            @Override
            public void send(String frame, SendCallback done) {
                stalled.add(done);
            }

            @Override
            public void close(int code, String reason) {
                closes.add(code);
            }
        };
        Outbox outbox = new Outbox(neverDrains, Runnable::run, ChatMetrics.unregistered(), 16, Long.MAX_VALUE);
        for (int i = 0; i < 17; i++) {
            assertTrue(outbox.offer("frame " + i), "frame " + i + " fits: one in flight, the rest queued");
        }
        assertFalse(outbox.offer("one too many"));
        assertTrue(outbox.isClosed());
        assertEquals(List.of(Closing.TOO_SLOW.code()), closes);
        assertFalse(outbox.offer("after closing"));
        assertEquals(1, stalled.size());
    }

    @Test
    void aQueueOverItsCharacterCapClosesTheConnection() {
        InlineSink sink = new InlineSink();
        Outbox outbox = new Outbox(sink, Runnable::run, ChatMetrics.unregistered(), 1_000, 100);
        assertTrue(outbox.enqueue("x".repeat(60)));
        assertFalse(outbox.enqueue("y".repeat(60)));
        assertEquals(Closing.TOO_SLOW.code(), sink.closeCode);
    }

    @Test
    void framesQueuedBeyondTheCapDoNotCloseTheConnection() {
        InlineSink sink = new InlineSink();
        Outbox outbox = new Outbox(sink, Runnable::run, ChatMetrics.unregistered(), 16, Long.MAX_VALUE);
        for (int i = 0; i < 100; i++) {
            outbox.enqueueBeyondCap("held frame " + i);
        }
        outbox.flush();
        assertEquals(100, sink.sent.size());
        assertFalse(outbox.isClosed());
    }

    @Test
    void aFailedSendStopsSendingAndLeavesTheCloseToTheTransport() {
        InlineSink sink = new InlineSink();
        Outbox outbox = new Outbox(sink, Runnable::run, ChatMetrics.unregistered(), 1_000, Long.MAX_VALUE);
        sink.failNext = true;
        outbox.enqueue("a");
        outbox.enqueue("b");
        outbox.flush();
        assertEquals(List.of("a"), sink.sent);
        assertNull(sink.closeCode, "not closed by the outbox");
        assertTrue(outbox.isClosed());
        assertFalse(outbox.offer("c"));
        assertEquals(List.of("a"), sink.sent);
    }

    @Test
    void theDrainedActionRunsOnceEverythingQueuedWasSent() {
        List<FrameSink.SendCallback> pending = new ArrayList<>();
        FrameSink manual = new FrameSink() {
            @Override
            public void send(String frame, SendCallback done) {
                pending.add(done);
            }

            @Override
            public void close(int code, String reason) {
            }
        };
        Outbox outbox = new Outbox(manual, Runnable::run, ChatMetrics.unregistered(), 100, Long.MAX_VALUE);
        AtomicInteger drained = new AtomicInteger();
        outbox.offer("a");
        outbox.offer("b");
        outbox.whenDrained(drained::incrementAndGet);
        assertEquals(0, drained.get());
        pending.remove(0).sent(null);
        assertEquals(0, drained.get(), "b is still in flight");
        pending.remove(0).sent(null);
        assertEquals(1, drained.get());

        outbox.whenDrained(drained::incrementAndGet);
        assertEquals(2, drained.get(), "runs at once when nothing is queued");
    }

    @Test
    void framesQueuedBehindASendGoOutTogetherAsLinesForAClientThatTakesThem() {
        List<String> sent = new ArrayList<>();
        List<FrameSink.SendCallback> pending = new ArrayList<>();
        Outbox outbox = new Outbox(manualSink(sent, pending), Runnable::run, ChatMetrics.unregistered(), 100,
                Long.MAX_VALUE, 1_000);
        outbox.offer("a");
        assertEquals(List.of("a"), sent, "a frame that finds the queue empty goes out alone, at once");
        outbox.offer("b");
        outbox.offer("c");
        outbox.offer("d");
        assertEquals(3, outbox.queuedFrames());
        pending.remove(0).sent(null);
        assertEquals(List.of("a", "b\nc\nd"), sent);
        assertEquals(0, outbox.queuedFrames());
        assertEquals(4, outbox.framesSent());
        pending.remove(0).sent(null);
        assertTrue(outbox.isIdle());
    }

    @Test
    void aRunOfLinesEndsBeforeTheFrameThatWouldTakeItOverItsLength() {
        List<String> sent = new ArrayList<>();
        List<FrameSink.SendCallback> pending = new ArrayList<>();
        Outbox outbox = new Outbox(manualSink(sent, pending), Runnable::run, ChatMetrics.unregistered(), 100,
                Long.MAX_VALUE, 9);
        outbox.offer("first");
        for (String frame : List.of("aaaa", "bbbb", "cccc", "dddddddddddd")) {
            outbox.offer(frame);
        }
        pending.remove(0).sent(null);
        assertEquals(List.of("first", "aaaa\nbbbb"), sent, "9 characters at most: two lines and their separator");
        assertEquals(2, outbox.queuedFrames(), "the frame taken but left for the next run still counts as queued");
        pending.remove(0).sent(null);
        assertEquals("cccc", sent.get(2));
        pending.remove(0).sent(null);
        assertEquals("dddddddddddd", sent.get(3), "a frame longer than a run goes out alone");
        pending.remove(0).sent(null);
        assertEquals(5, outbox.framesSent());
        assertTrue(outbox.isIdle());
    }

    @Test
    void withoutLinesEveryFrameIsASendOfItsOwn() {
        List<String> sent = new ArrayList<>();
        List<FrameSink.SendCallback> pending = new ArrayList<>();
        Outbox outbox = new Outbox(manualSink(sent, pending), Runnable::run, ChatMetrics.unregistered(), 100,
                Long.MAX_VALUE);
        outbox.offer("a");
        outbox.offer("b");
        outbox.offer("c");
        pending.remove(0).sent(null);
        pending.remove(0).sent(null);
        assertEquals(List.of("a", "b", "c"), sent);
    }

    /** A transport that records each send and completes it only when the test calls its callback. */
    private static FrameSink manualSink(List<String> sent, List<FrameSink.SendCallback> pending) {
        return new FrameSink() {
            @Override
            public void send(String frame, SendCallback done) {
                sent.add(frame);
                pending.add(done);
            }

            @Override
            public void close(int code, String reason) {
            }
        };
    }
}
