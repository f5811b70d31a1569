package chat.delivery;

import chat.protocol.Author;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;

/** Store pages kept for replays reading the same stretch: full pages are shared, short ones not, and the cache stays
 * within its page count and character budget. */
class SharedPagesTest {

    private static List<EncodedMessage> page(long after, int size, int frameChars) {
        List<EncodedMessage> page = new ArrayList<>();
        for (long offset = after + 1; offset <= after + size; offset++) {
            page.add(new EncodedMessage("ops", offset, "x".repeat(frameChars), Author.ANONYMOUS, 0));
        }
        return page;
    }

    @Test
    void aFullPageIsSharedAndAShortOneIsNot() {
        SharedPages shared = new SharedPages(4, 1_000_000);
        List<EncodedMessage> full = page(0, 3, 10);
        shared.offer("ops", 0, 3, full);
        assertSame(full, shared.get("ops", 0, 3));
        assertNull(shared.get("ops", 0, 5), "a page of another size is not the one asked for");

        shared.offer("ops", 3, 3, page(3, 2, 10)); // the store ended after two: more may be committed since
        assertNull(shared.get("ops", 3, 3));
    }

    @Test
    void theLeastRecentlyUsedPageLeavesFirstPastThePageCount() {
        SharedPages shared = new SharedPages(2, 1_000_000);
        shared.offer("ops", 0, 2, page(0, 2, 10));
        shared.offer("ops", 2, 2, page(2, 2, 10));
        shared.get("ops", 0, 2);
        shared.offer("ops", 4, 2, page(4, 2, 10));
        assertNull(shared.get("ops", 2, 2));
        assertSame(shared.get("ops", 0, 2), shared.get("ops", 0, 2));
        assertSame(shared.get("ops", 4, 2), shared.get("ops", 4, 2));
    }

    @Test
    void pagesLeavePastTheCharacterBudgetAndAPageOverItIsNotKept() {
        SharedPages shared = new SharedPages(10, 100);
        shared.offer("ops", 0, 2, page(0, 2, 20));
        shared.offer("ops", 2, 2, page(2, 2, 20));
        shared.offer("ops", 4, 2, page(4, 2, 20)); // 120 characters in all: the oldest leaves
        assertNull(shared.get("ops", 0, 2));
        assertSame(shared.get("ops", 2, 2), shared.get("ops", 2, 2));
        shared.offer("ops", 6, 2, page(6, 2, 60));
        assertNull(shared.get("ops", 6, 2), "one page over the whole budget is not kept");
    }
}
