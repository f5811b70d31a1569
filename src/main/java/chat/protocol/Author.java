package chat.protocol;

import java.text.Normalizer;
import java.util.random.RandomGenerator;

/**
 * Who wrote a message: the name shown, and whether the container vouched for it ({@code verified}: the login's
 * principal) or the client chose it.
 */
public record Author(String name, boolean verified) {

    /** The author of the messages stored before messages had one. */
    public static final Author ANONYMOUS = new Author("anonymous", false);
    public static final int MAX_NAME_CODE_POINTS = 64;
    private static final String GUEST_CHARACTERS = "abcdefghijklmnopqrstuvwxyz0123456789";

    /** A name for a client that chose none: {@code guest-} and four random letters or digits. */
    public static Author guest(RandomGenerator random) {
        StringBuilder name = new StringBuilder("guest-");
        for (int i = 0; i < 4; i++) {
            name.append(GUEST_CHARACTERS.charAt(random.nextInt(GUEST_CHARACTERS.length())));
        }
        return new Author(name.toString(), false);
    }

    /** A name as the chat keeps one a client chose: Unicode NFC, trimmed. */
    public static String normalized(String chosen) {
        return Normalizer.normalize(chosen, Normalizer.Form.NFC).strip();
    }

    /**
     * Why a {@link #normalized} name cannot be shown, in words the client can act on, or null if it can: it must
     * have 1 to {@value #MAX_NAME_CODE_POINTS} code points and no control or format character nor unpaired
     * surrogate.
     */
    public static String problemWith(String name) {
        int codePoints = 0;
        for (int i = 0; i < name.length(); i += Character.charCount(name.codePointAt(i))) {
            int codePoint = name.codePointAt(i);
            if (codePoint >= Character.MIN_SURROGATE && codePoint <= Character.MAX_SURROGATE) {
                return "name holds an unpaired UTF-16 surrogate";
            }
            int type = Character.getType(codePoint);
            if (type == Character.CONTROL || type == Character.FORMAT) {
                return String.format("name holds the control or format character U+%04X", codePoint);
            }
            codePoints++;
        }
        if (codePoints == 0) {
            return "name is empty once trimmed";
        }
        if (codePoints > MAX_NAME_CODE_POINTS) {
            return "name has " + codePoints + " code points, more than " + MAX_NAME_CODE_POINTS;
        }
        return null;
    }
}
