package chat.delivery;

/** A committed message as it goes out: its offset and its encoded chat message frame, shared by all recipients. */
record CommittedFrame(long offset, String frame) {
}
