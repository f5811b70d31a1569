package chat.store;

/** Where a sent message landed: its offset, and what the append found. */
public record Appended(long offset, Outcome outcome) {

    public enum Outcome {
        /** This append stored it. */
        INSERTED,
        /** Stored before with the same clientOffset and the same text: a resend. */
        ALREADY_STORED,
        /** Another text is stored with this clientOffset: nothing was stored, {@code offset} is the other one's. */
        CONFLICT
    }

    public boolean inserted() {
        return outcome == Outcome.INSERTED;
    }
}
