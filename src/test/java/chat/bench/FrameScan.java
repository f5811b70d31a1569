package chat.bench;

/**
 * Reads the few fields the benchmark needs out of the server's frames without parsing them as JSON. It relies on
 * how the server writes them: {@code type} first, the benchmark's own texts and clientOffsets without quotes or
 * backslashes, and a quote inside a text escaped, so that {@code "offset":} can only be the field itself.
 */
final class FrameScan {

    enum Type { CHAT, ACK, SYNCED, ERROR, PRESENCE, OTHER }

    private static final String TYPE_PREFIX = "{\"type\":\"";
    private static final String OFFSET = "\"offset\":";
    private static final String CLIENT_OFFSET = "\"clientOffset\":\"";
    private static final String TEXT = "\"text\":\"";

    private FrameScan() {
    }

    static Type type(CharSequence frame) {
        if (!startsWith(frame, TYPE_PREFIX, 0) || frame.length() < TYPE_PREFIX.length() + 2) {
            return Type.OTHER;
        }
        return switch (frame.charAt(TYPE_PREFIX.length())) {
            case 'c' -> Type.CHAT;
            case 'a' -> Type.ACK;
            case 's' -> Type.SYNCED;
            case 'e' -> Type.ERROR;
            case 'p', 't' -> Type.PRESENCE; // presence and typing
            default -> Type.OTHER;
        };
    }

    /** The {@code offset} field, or -1. */
    static long offset(CharSequence frame) {
        int at = lastIndexOf(frame, OFFSET);
        return at < 0 ? -1 : digits(frame, at + OFFSET.length());
    }

    /** The {@code clientOffset} field, or null. */
    static String clientOffset(CharSequence frame) {
        int at = indexOf(frame, CLIENT_OFFSET, 0);
        if (at < 0) {
            return null;
        }
        int start = at + CLIENT_OFFSET.length();
        int end = start;
        while (end < frame.length() && frame.charAt(end) != '"') {
            end++;
        }
        return frame.subSequence(start, end).toString();
    }

    /** The number the text starts with (the benchmark's texts start with their send time), or -1. */
    static long leadingNumberOfText(CharSequence frame) {
        int at = indexOf(frame, TEXT, 0);
        return at < 0 ? -1 : digits(frame, at + TEXT.length());
    }

    /** The digits at {@code from} as a number, or -1 if there are none. */
    static long digits(CharSequence s, int from) {
        long value = 0;
        int i = from;
        while (i < s.length()) {
            char c = s.charAt(i);
            if (c < '0' || c > '9') {
                break;
            }
            value = value * 10 + (c - '0');
            i++;
        }
        return i == from ? -1 : value;
    }

    private static boolean startsWith(CharSequence s, String prefix, int at) {
        if (s.length() - at < prefix.length()) {
            return false;
        }
        for (int i = 0; i < prefix.length(); i++) {
            if (s.charAt(at + i) != prefix.charAt(i)) {
                return false;
            }
        }
        return true;
    }

    static int indexOf(CharSequence s, String needle, int from) {
        for (int i = from; i <= s.length() - needle.length(); i++) {
            if (startsWith(s, needle, i)) {
                return i;
            }
        }
        return -1;
    }

    private static int lastIndexOf(CharSequence s, String needle) {
        for (int i = s.length() - needle.length(); i >= 0; i--) {
            if (startsWith(s, needle, i)) {
                return i;
            }
        }
        return -1;
    }
}
