package chat.protocol;

/** Room names: what the protocol accepts, and the room of a v1 client. */
public final class Rooms {

    /** The room a v1 client is in, and the one a handshake without {@code room} joins. */
    public static final String GENERAL = "general";
    public static final int MAX_NAME_LENGTH = 64;

    private Rooms() {
    }

    /** 1 to 64 characters of {@code a-z}, {@code 0-9}, {@code -} and {@code _}, starting with a letter or digit. */
    public static boolean isValidName(String name) {
        if (name == null || name.isEmpty() || name.length() > MAX_NAME_LENGTH) {
            return false;
        }
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            boolean letterOrDigit = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
            if (!letterOrDigit && (i == 0 || (c != '-' && c != '_'))) {
                return false;
            }
        }
        return true;
    }
}
