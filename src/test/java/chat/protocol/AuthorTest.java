package chat.protocol;

import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The names clients choose: how they are kept, which are refused and why. */
class AuthorTest {

    @Test
    void aChosenNameIsKeptInNfcAndTrimmed() {
        assertEquals("Ad\u00e9", Author.normalized("  Ade\u0301\t"));
        assertNull(Author.problemWith(Author.normalized("  Ade\u0301\t")));
    }

    @Test
    void sixtyFourCodePointsAreANameAndSixtyFiveAreNot() {
        String emoji = "\uD83D\uDE00";
        assertNull(Author.problemWith(emoji.repeat(64)), "64 code points of two UTF-16 characters each");
        assertEquals("name has 65 code points, more than 64", Author.problemWith("a".repeat(65)));
    }

    @Test
    void controlAndFormatCharactersUnpairedSurrogatesAndEmptyNamesAreRefusedSayingWhy() {
        assertEquals("name holds the control or format character U+0001", Author.problemWith("Ada\u0001"));
        assertEquals("name holds the control or format character U+000A", Author.problemWith("Ada\nLovelace"));
        assertEquals("name holds the control or format character U+200B", Author.problemWith("Ada\u200b"));
        assertEquals("name holds the control or format character U+202E", Author.problemWith("\u202eadA"));
        assertEquals("name holds an unpaired UTF-16 surrogate", Author.problemWith("Ada\uD800"));
        assertEquals("name holds an unpaired UTF-16 surrogate", Author.problemWith("\uDC00Ada"));
        assertEquals("name is empty once trimmed", Author.problemWith(Author.normalized(" \t ")));
    }

    @Test
    void aGuestIsNamedGuestAndFourLettersOrDigitsAndIsNotVerified() {
        Random random = new Random(7);
        for (int i = 0; i < 100; i++) {
            Author guest = Author.guest(random);
            assertTrue(guest.name().matches("guest-[a-z0-9]{4}"), guest.name());
            assertFalse(guest.verified());
            assertNull(Author.problemWith(guest.name()));
        }
    }
}
