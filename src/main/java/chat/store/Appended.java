package chat.store;

/** Where a draft landed: its offset, and whether this append stored it or found it stored already. */
public record Appended(long offset, boolean inserted) {
}
