package chat.store;

/** A message as a client sent it, not yet stored; {@code clientOffset} may be null. */
public record Draft(String text, String clientOffset) {
}
