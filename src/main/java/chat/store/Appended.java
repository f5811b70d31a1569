package chat.store;

/** Where a sent message landed: its room and offset there, and what the append found. */
public record Appended(String room, long offset, Outcome outcome) {

    public enum Outcome {
        /** This append stored it. */
        INSERTED,
        /** Stored before with the same clientOffset and the same text: a resend, maybe to another room. */
        ALREADY_STORED,
        /** Another text is stored with this clientOffset: nothing was stored, {@code offset} is the other one's. */
        CONFLICT
    }

    public boolean inserted() {
        return outcome == Outcome.INSERTED;
    }
}
