package chat.config;

/** Whether a check let something through, and if not, why: the reason is the one the client is told. */
public sealed interface Verdict {

    Verdict ADMITTED = new Admitted();

    static Verdict refused(String reason) {
        return new Refused(reason);
    }

    record Admitted() implements Verdict {
    }

    record Refused(String reason) implements Verdict {
    }
}
