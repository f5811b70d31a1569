package chat.delivery;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Replays wait for room, in the order they asked, and one always gets through. */
class ReplayMemoryTest {

    private final ReplayMemory memory = new ReplayMemory(100);
    private final List<String> started = new ArrayList<>();

    @Test
    void replaysThatDoNotFitWaitAndStartInOrderAsRoomIsGivenBack() {
        memory.reserve(60, () -> started.add("a"));
        memory.reserve(60, () -> started.add("b"));
        memory.reserve(10, () -> started.add("c"));
        assertEquals(List.of("a"), started, "c fits, but b asked first");
        assertEquals(2, memory.waiting());

        memory.release(60);
        assertEquals(List.of("a", "b", "c"), started);
        assertEquals(70, memory.reserved());
        assertEquals(0, memory.waiting());
    }

    @Test
    void aPageLargerThanTheWholeBudgetStillReplaysAlone() {
        memory.reserve(500, () -> started.add("huge"));
        memory.reserve(1, () -> started.add("small"));
        assertEquals(List.of("huge"), started);
        memory.release(500);
        assertEquals(List.of("huge", "small"), started);
    }

    @Test
    void aPageSmallerOrLargerThanItsReservationIsCountedAsItIs() {
        memory.reserve(50, () -> started.add("a"));
        memory.resize(50, 20);
        assertEquals(20, memory.reserved());
        memory.resize(20, 90);
        assertEquals(90, memory.reserved());
        memory.reserve(20, () -> started.add("b"));
        assertEquals(List.of("a"), started);
        memory.release(90);
        assertEquals(List.of("a", "b"), started);
        assertEquals(20, memory.reserved());
    }
}
