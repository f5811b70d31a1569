package chat.protocol;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.core.util.JsonRecyclerPools;

import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.util.OptionalLong;

/** Parses client frames and writes server frames: the whole wire format in one place. */
public final class FrameCodec {

    public static final String TYPE_CHAT_MESSAGE = "chat message";
    /** {"type":"chat message","text":"","offset":9223372036854775807} */
    private static final int CHAT_MESSAGE_FIELDS_CHARS = 62;

    /**
     * Buffers are recycled through a bounded pool of this class's own, not Jackson's default thread-locals: those
     * would stay in Tomcat's pooled threads after an undeploy and keep the webapp's class loader alive.
     */
    private static final JsonFactory JSON = JsonFactory.builder()
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .recyclerPool(JsonRecyclerPools.newBoundedPool(64))
            .build();

    private final int maxTextLength;
    private final int maxClientOffsetLength;

    /** Both limits count characters (code points). */
    public FrameCodec(int maxTextLength, int maxClientOffsetLength) {
        if (maxTextLength < 1) {
            throw new IllegalArgumentException("maxTextLength must be at least 1, got " + maxTextLength);
        }
        if (maxClientOffsetLength < 1) {
            throw new IllegalArgumentException("maxClientOffsetLength must be at least 1, got " + maxClientOffsetLength);
        }
        this.maxTextLength = maxTextLength;
        this.maxClientOffsetLength = maxClientOffsetLength;
    }

    public ClientFrame parse(String frame) {
        String type = null;
        String text = null;
        String clientOffset = null;
        boolean typeIsString = true;
        boolean textIsString = true;
        boolean clientOffsetIsString = true;
        try (JsonParser parser = JSON.createParser(frame)) {
            if (parser.nextToken() != JsonToken.START_OBJECT) {
                return new ClientFrame.Rejected(ErrorCode.BAD_JSON, "A frame must be one JSON object.");
            }
            while (parser.nextToken() == JsonToken.FIELD_NAME) {
                String field = parser.currentName();
                JsonToken value = parser.nextToken();
                switch (field) {
                    case "type" -> {
                        typeIsString = value == JsonToken.VALUE_STRING;
                        type = typeIsString ? parser.getText() : null;
                    }
                    case "text" -> {
                        textIsString = value == JsonToken.VALUE_STRING;
                        text = textIsString ? parser.getText() : null;
                    }
                    case "clientOffset" -> {
                        clientOffsetIsString = value == JsonToken.VALUE_STRING || value == JsonToken.VALUE_NULL;
                        clientOffset = value == JsonToken.VALUE_STRING ? parser.getText() : null;
                    }
                    default -> {
                        // ignored: unknown fields leave room for later protocol versions
                    }
                }
                parser.skipChildren();
            }
            if (parser.nextToken() != null) {
                return new ClientFrame.Rejected(ErrorCode.BAD_JSON, "A frame must hold exactly one JSON object.");
            }
        } catch (JsonProcessingException malformed) {
            return new ClientFrame.Rejected(ErrorCode.BAD_JSON, "Not valid JSON: " + wellFormed(malformed.getOriginalMessage()));
        } catch (IOException impossible) {
            throw new UncheckedIOException(impossible);
        }

        String validClientOffset = clientOffset != null && validClientOffset(clientOffset) ? clientOffset : null;
        if (!typeIsString || !TYPE_CHAT_MESSAGE.equals(type)) {
            return new ClientFrame.Rejected(ErrorCode.BAD_TYPE,
                    "\"type\" must be \"" + TYPE_CHAT_MESSAGE + "\".", validClientOffset);
        }
        if (!textIsString || text == null) {
            return new ClientFrame.Rejected(ErrorCode.BAD_TEXT, "\"text\" must be a string.", validClientOffset);
        }
        int textLength = codePointsIfWellFormed(text);
        if (textLength < 1 || textLength > maxTextLength) {
            return new ClientFrame.Rejected(ErrorCode.BAD_TEXT, textLength < 0
                    ? "\"text\" holds an unpaired UTF-16 surrogate."
                    : "\"text\" must be 1 to " + maxTextLength + " characters long, but has " + textLength + ".",
                    validClientOffset);
        }
        if (!clientOffsetIsString) {
            return new ClientFrame.Rejected(ErrorCode.BAD_CLIENT_OFFSET, "\"clientOffset\" must be a string.");
        }
        if (clientOffset != null && validClientOffset == null) {
            return new ClientFrame.Rejected(ErrorCode.BAD_CLIENT_OFFSET,
                    "\"clientOffset\" must be 1 to " + maxClientOffsetLength + " well-formed characters long.");
        }
        return new SentMessage(null, text, clientOffset);
    }

    private boolean validClientOffset(String clientOffset) {
        int length = codePointsIfWellFormed(clientOffset);
        return length >= 1 && length <= maxClientOffsetLength;
    }

    /**
     * The {@code serverOffset} of a handshake: absent means 0; otherwise a non-negative decimal that fits a long.
     *
     * @return the offset, or empty when the value is not acceptable
     */
    public static OptionalLong parseServerOffset(String value) {
        if (value == null) {
            return OptionalLong.of(0);
        }
        if (value.isEmpty() || value.length() > 19) {
            return OptionalLong.empty();
        }
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (c < '0' || c > '9') {
                return OptionalLong.empty();
            }
        }
        try {
            return OptionalLong.of(Long.parseLong(value));
        } catch (NumberFormatException tooLarge) {
            return OptionalLong.empty();
        }
    }

    /**
     * The most characters a chat message frame with {@code textChars} characters of text takes: its fields with the
     * longest offset, and six characters a character of text, as a control character or an unpaired surrogate
     * is escaped ({@code \\u0001}).
     */
    public static long maxChatMessageChars(long textChars) {
        return CHAT_MESSAGE_FIELDS_CHARS + 6 * textChars;
    }

    public static String chatMessage(long offset, String text) {
        return render(text.length() + 48, json -> {
            json.writeStringField("type", TYPE_CHAT_MESSAGE);
            json.writeStringField("text", text);
            json.writeNumberField("offset", offset);
        });
    }

    public static String ack(String clientOffset, long offset) {
        return render(clientOffset.length() + 48, json -> {
            json.writeStringField("type", "ack");
            json.writeStringField("clientOffset", clientOffset);
            json.writeNumberField("offset", offset);
        });
    }

    /**
     * @param epoch the store's identity, for the client to send back as {@code epoch} when it reconnects
     * @param reset true when the client's offset was not from this store and everything was replayed
     */
    public static String synced(long offset, String epoch, boolean reset) {
        return synced(offset, epoch, reset, false);
    }

    /** @param truncated the replay started above the offset asked for: retention had deleted what lay between */
    public static String synced(long offset, String epoch, boolean reset, boolean truncated) {
        return render(80, json -> {
            json.writeStringField("type", "synced");
            json.writeNumberField("offset", offset);
            json.writeStringField("epoch", epoch);
            if (reset) {
                json.writeBooleanField("reset", true);
            }
            if (truncated) {
                json.writeBooleanField("truncated", true);
            }
        });
    }

    /** The size of {@code text} encoded as UTF-8, as it travelled in a WebSocket text frame. */
    public static long utf8Length(CharSequence text) {
        long bytes = 0;
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c < 0x80) {
                bytes++;
            } else if (c < 0x800) {
                bytes += 2;
            } else if (Character.isHighSurrogate(c) && i + 1 < text.length()
                    && Character.isLowSurrogate(text.charAt(i + 1))) {
                bytes += 4;
                i++;
            } else {
                bytes += 3;
            }
        }
        return bytes;
    }

    /**
     * An error frame; {@code clientOffset} names the message it is about, or is null. The message may quote what
     * the client sent (a parser's message does), so unpaired surrogates in it are written as \\u escapes:
     * a frame that cannot be encoded as UTF-8 would fail to send and end the connection.
     */
    public static String error(ErrorCode code, String message, String clientOffset) {
        String sendable = wellFormed(message);
        return render(sendable.length() + 64, json -> {
            json.writeStringField("type", "error");
            json.writeStringField("code", code.wireName());
            json.writeStringField("message", sendable);
            if (clientOffset != null) {
                json.writeStringField("clientOffset", clientOffset);
            }
        });
    }

    private interface Fields {
        void write(JsonGenerator json) throws IOException;
    }

    private static String render(int sizeHint, Fields fields) {
        StringWriter out = new StringWriter(sizeHint);
        try (JsonGenerator json = JSON.createGenerator(out)) {
            json.writeStartObject();
            fields.write(json);
            json.writeEndObject();
        } catch (IOException impossible) {
            throw new UncheckedIOException("writing JSON to memory failed", impossible);
        }
        return out.toString();
    }

    private static String wellFormed(String text) {
        if (codePointsIfWellFormed(text) >= 0) {
            return text;
        }
        StringBuilder escaped = new StringBuilder(text.length() + 16);
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            boolean paired = Character.isHighSurrogate(c) && i + 1 < text.length()
                    && Character.isLowSurrogate(text.charAt(i + 1));
            if (paired) {
                escaped.append(c).append(text.charAt(++i));
            } else if (Character.isSurrogate(c)) {
                escaped.append(String.format("\\u%04X", (int) c));
            } else {
                escaped.append(c);
            }
        }
        return escaped.toString();
    }

    /** @return the number of code points, or -1 if the string holds an unpaired surrogate */
    private static int codePointsIfWellFormed(String s) {
        int count = 0;
        for (int i = 0; i < s.length(); i++, count++) {
            char c = s.charAt(i);
            if (Character.isHighSurrogate(c)) {
                if (i + 1 == s.length() || !Character.isLowSurrogate(s.charAt(i + 1))) {
                    return -1;
                }
                i++;
            } else if (Character.isLowSurrogate(c)) {
                return -1;
            }
        }
        return count;
    }
}
