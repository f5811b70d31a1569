package chat.store;

/** A committed message and its offset (its row id). */
public record StoredMessage(long offset, String text) {
}
