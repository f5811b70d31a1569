package chat.delivery;

import chat.protocol.Author;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

/** The recovery windows of rooms other than general: made at a room's first commit, kept for the rooms written last. */
class RoomWindowsTest {

    private static EncodedMessage message(String room, long offset) {
        return EncodedMessage.of(room, offset, String.format("m%03d", offset), Author.ANONYMOUS, 1_764_000_000_000L);
    }

    private static List<Long> offsets(List<EncodedMessage> messages) {
        return messages.stream().map(EncodedMessage::offset).toList();
    }

    @Test
    void aRoomsWindowAnswersFromItsFirstCommitSinceTheStartAndSendsOlderOffsetsToTheStore() {
        RoomWindows windows = new RoomWindows(10, 100, Long.MAX_VALUE);
        assertNull(windows.after("ops", 0, 10), "no commit yet: the store answers");
        for (long offset = 41; offset <= 45; offset++) {
            windows.add(message("ops", offset));
        }
        assertEquals(List.of(42L, 43L, 44L, 45L), offsets(windows.after("ops", 41, 10)));
        assertEquals(List.of(41L, 42L), offsets(windows.after("ops", 40, 2)));
        assertNull(windows.after("ops", 39, 10), "40 was committed before the window was made");
        assertNull(windows.after("dev", 0, 10));
    }

    @Test
    void onlyTheRoomsWrittenToLastKeepAWindow() {
        RoomWindows windows = new RoomWindows(2, 100, Long.MAX_VALUE);
        windows.add(message("ops", 1));
        windows.add(message("dev", 1));
        windows.add(message("ops", 2));
        windows.add(message("qa", 1));

        assertEquals(2, windows.size());
        assertNull(windows.after("dev", 0, 10), "dev was written to least recently");
        assertEquals(List.of(1L, 2L), offsets(windows.after("ops", 0, 10)));
        assertEquals(List.of(1L), offsets(windows.after("qa", 0, 10)));

        windows.add(message("dev", 2));
        assertNull(windows.after("dev", 0, 10), "a window made again starts at its first commit");
        assertEquals(List.of(2L), offsets(windows.after("dev", 1, 10)));
        assertNull(windows.after("ops", 0, 10), "ops went instead");
    }

    @Test
    void eachWindowIsBoundedInMessagesAndCharacters() {
        RoomWindows byCount = new RoomWindows(10, 3, Long.MAX_VALUE);
        for (long offset = 1; offset <= 10; offset++) {
            byCount.add(message("ops", offset));
        }
        assertNull(byCount.after("ops", 6, 10));
        assertEquals(List.of(8L, 9L, 10L), offsets(byCount.after("ops", 7, 10)));

        RoomWindows byChars = new RoomWindows(10, 100, message("ops", 10).chars() * 2);
        for (long offset = 1; offset <= 10; offset++) {
            byChars.add(message("ops", offset));
        }
        assertNull(byChars.after("ops", 7, 10));
        assertEquals(List.of(9L, 10L), offsets(byChars.after("ops", 8, 10)));
    }

    @Test
    void noWindowsWhenTurnedOff() {
        for (RoomWindows off : List.of(new RoomWindows(0, 100, Long.MAX_VALUE), new RoomWindows(10, 0, 1000))) {
            off.add(message("ops", 1));
            assertNull(off.after("ops", 0, 10));
            assertEquals(0, off.size());
        }
    }
}
