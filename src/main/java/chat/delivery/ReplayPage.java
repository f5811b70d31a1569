package chat.delivery;

import java.util.List;

/**
 * The next messages of a replay, in offset order.
 *
 * @param end   true if they reach the newest offset that was committed when the page was read: whatever was
 *              committed since has been held for the replay, and it can go live
 * @param chars the characters of their frames
 */
record ReplayPage(List<EncodedMessage> messages, boolean end, long chars) {
}
