package chat.web;

import chat.protocol.FrameCodec;
import jakarta.websocket.MessageHandler;

import java.util.function.Consumer;

/**
 * Puts a text message together from the parts Tomcat hands over when its per-connection text buffer is full, so
 * that the buffer can stay small (every idle connection holds one) while messages up to {@code chat.maxFrameBytes}
 * of UTF-8 are still taken. A message over that is refused, without being held whole.
 */
final class TextMessageAssembler implements MessageHandler.Partial<String> {

    private final int maxBytes;
    private final Consumer<String> receiver;
    private final Runnable tooBig;
    /** The parts so far of a message that came in more than one; null otherwise. */
    private StringBuilder parts;
    /** The rest of a refused message is dropped. */
    private boolean discarding;

    /**
     * @param receiver gets each whole message of at most {@code maxBytes} bytes
     * @param tooBig   runs once for each message over {@code maxBytes}
     */
    TextMessageAssembler(int maxBytes, Consumer<String> receiver, Runnable tooBig) {
        this.maxBytes = maxBytes;
        this.receiver = receiver;
        this.tooBig = tooBig;
    }

    @Override
    public void onMessage(String part, boolean last) {
        if (discarding) {
            discarding = !last;
            return;
        }
        if (parts == null && last) {
            accept(part);
            return;
        }
        if (parts == null) {
            parts = new StringBuilder(2 * part.length());
        }
        // Every character is at least one byte: more characters than maxBytes is too big already.
        if (parts.length() + part.length() > maxBytes) {
            parts = null;
            discarding = !last;
            tooBig.run();
            return;
        }
        parts.append(part);
        if (last) {
            String message = parts.toString();
            parts = null;
            accept(message);
        }
    }

    private void accept(String message) {
        if (FrameCodec.utf8Length(message) > maxBytes) {
            tooBig.run();
        } else {
            receiver.accept(message);
        }
    }
}
