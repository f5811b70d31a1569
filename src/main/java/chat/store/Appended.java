package chat.store;

import chat.protocol.Author;
import chat.protocol.SentMessage;

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

    /**
     * A message sent with a clientOffset that names one stored already, in whichever room: with the same text it is
     * a resend, with another text a conflict (another client's, or a client reusing its own for something else). A
     * verified author's clientOffsets are theirs alone: anyone else sending one again is in conflict too. Names
     * clients chose are not compared, since a client without one is named anew on each connection.
     */
    static Appended sentAgain(String room, long offset, String storedText, Author storedAuthor, SentMessage sent) {
        boolean sameText = sent.text().equals(storedText);
        boolean verifiedByAnother = storedAuthor.verified() && !storedAuthor.equals(sent.author());
        return new Appended(room, offset, sameText && !verifiedByAnother ? Outcome.ALREADY_STORED : Outcome.CONFLICT);
    }

    public boolean inserted() {
        return outcome == Outcome.INSERTED;
    }
}
