package chat.protocol;

/** The {@code code} of an error frame. */
public enum ErrorCode {
    BAD_JSON("bad-json"),
    BAD_TYPE("bad-type"),
    BAD_TEXT("bad-text"),
    BAD_CLIENT_OFFSET("bad-client-offset"),
    BAD_OFFSET("bad-offset"),
    STORE_UNAVAILABLE("store-unavailable"),
    OVERLOADED("overloaded"),
    RATE_LIMITED("rate-limited"),
    QUOTA_EXCEEDED("quota-exceeded"),
    CLIENT_OFFSET_CONFLICT("client-offset-conflict"),
    BAD_ROOM("bad-room"),
    BAD_NAME("bad-name"),
    ALREADY_JOINED("already-joined"),
    NOT_JOINED("not-joined"),
    NO_SUCH_ROOM("no-such-room"),
    TOO_MANY_ROOMS("too-many-rooms"),
    BAD_LIMIT("bad-limit"),
    BAD_FRAMES("bad-frames");

    private final String wireName;

    ErrorCode(String wireName) {
        this.wireName = wireName;
    }

    public String wireName() {
        return wireName;
    }
}
