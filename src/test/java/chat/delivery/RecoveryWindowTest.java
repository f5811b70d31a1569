package chat.delivery;

import chat.protocol.Author;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

/** The newest committed frames kept in memory: which offsets it can answer from and which it sends to the store,
 * and how it evicts by count and characters. */
class RecoveryWindowTest {

    private static EncodedMessage frame(long offset) {
        return new EncodedMessage("general", offset, "{\"offset\":" + offset + "}", Author.ANONYMOUS, 0);
    }

    private static List<Long> offsets(List<EncodedMessage> frames) {
        return frames.stream().map(EncodedMessage::offset).toList();
    }

    @Test
    void knowsNothingUntilStartedOrTheFirstCommit() {
        RecoveryWindow window = new RecoveryWindow(10, Long.MAX_VALUE);
        assertEquals(-1, window.newestOffset());
        assertNull(window.after(0, 10));

        window.add(frame(7));
        assertEquals(7, window.newestOffset());
        assertNull(window.after(5, 10), "offset 6 was committed before the window knew of it");
        assertEquals(List.of(7L), offsets(window.after(6, 10)));
        assertEquals(List.of(), window.after(7, 10));
    }

    @Test
    void startedOnAnEmptyStoreAnswersThatNothingIsNewer() {
        RecoveryWindow window = new RecoveryWindow(10, Long.MAX_VALUE);
        window.startAt(0);
        assertEquals(List.of(), window.after(0, 10));
        window.add(frame(1));
        assertEquals(List.of(1L), offsets(window.after(0, 10)));
    }

    @Test
    void keepsTheNewestMessagesAndSendsOlderOffsetsToTheStore() {
        RecoveryWindow window = new RecoveryWindow(4, Long.MAX_VALUE);
        window.startAt(0);
        for (long offset = 1; offset <= 10; offset++) {
            window.add(frame(offset));
        }
        assertNull(window.after(5, 10));
        assertEquals(List.of(7L, 8L, 9L, 10L), offsets(window.after(6, 10)));
        assertEquals(List.of(8L, 9L), offsets(window.after(7, 2)));
        assertEquals(10, window.newestOffset());
    }

    @Test
    void evictsTheOldestWhenOverItsCharacters() {
        int frameLength = (int) frame(10).chars();
        RecoveryWindow window = new RecoveryWindow(100, 3L * frameLength);
        window.startAt(9);
        for (long offset = 10; offset <= 15; offset++) {
            window.add(frame(offset));
        }
        assertNull(window.after(11, 10));
        assertEquals(List.of(13L, 14L, 15L), offsets(window.after(12, 10)));
    }

    @Test
    void startsOverAfterAGapInOffsets() {
        RecoveryWindow window = new RecoveryWindow(10, Long.MAX_VALUE);
        window.startAt(0);
        window.add(frame(1));
        window.add(frame(2));
        window.add(frame(5));
        assertNull(window.after(2, 10), "3 and 4 are not in memory");
        assertEquals(List.of(5L), offsets(window.after(4, 10)));
    }

    @Test
    void withoutSlotsItStillKnowsTheNewestOffset() {
        RecoveryWindow window = new RecoveryWindow(0, Long.MAX_VALUE);
        window.startAt(3);
        window.add(frame(4));
        assertEquals(4, window.newestOffset());
        assertNull(window.after(3, 10));
        assertEquals(List.of(), window.after(4, 10));
    }
}
