package chat.web;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Text messages put together from the parts Tomcat hands over, counted in UTF-8 bytes, and one over the limit
 * refused once with its rest dropped. */
class TextMessageAssemblerTest {

    private final List<String> received = new ArrayList<>();
    private int refused;
    private final TextMessageAssembler assembler = new TextMessageAssembler(10, received::add, () -> refused++);

    @Test
    void aMessageInOnePartIsPassedOnAsItIs() {
        String whole = "0123456789";
        assembler.onMessage(whole, true);
        assertEquals(List.of(whole), received);
        assertEquals(0, refused);
    }

    @Test
    void partsArePutTogether() {
        assembler.onMessage("abc", false);
        assembler.onMessage("def", false);
        assembler.onMessage("g", true);
        assembler.onMessage("next", true);
        assertEquals(List.of("abcdefg", "next"), received);
    }

    @Test
    void theLimitCountsUtf8BytesNotCharacters() {
        assembler.onMessage("ééééé", true); // 10 bytes
        assembler.onMessage("éééé", false);
        assembler.onMessage("éé", true); // 6 characters, 12 bytes
        assertEquals(List.of("ééééé"), received);
        assertEquals(1, refused);
    }

    @Test
    void aSurrogatePairSplitBetweenPartsCountsFourBytes() {
        String smiley = "\uD83D\uDE00";
        assembler.onMessage("123456" + smiley.charAt(0), false);
        assembler.onMessage(smiley.substring(1), true);
        assertEquals(List.of("123456" + smiley), received);
    }

    @Test
    void aMessageGrowingOverTheLimitIsRefusedOnceAndItsRestDropped() {
        assembler.onMessage("0123456", false);
        assembler.onMessage("789ab", false);
        assembler.onMessage("more of the same message", false);
        assembler.onMessage("its end", true);
        assertEquals(1, refused);
        assertEquals(List.of(), received);

        assembler.onMessage("fits", true);
        assertEquals(List.of("fits"), received);
    }
}
