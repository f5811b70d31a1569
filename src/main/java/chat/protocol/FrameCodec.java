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
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;

/** Parses client frames and writes server frames: the whole wire format in one place. */
public final class FrameCodec {

    public static final String TYPE_CHAT_MESSAGE = "chat message";
    /** The handshake's {@code frames=lines}: the client takes several frames in one WebSocket message. */
    public static final String FRAMES_AS_LINES = "lines";
    /**
     * What separates the frames of one WebSocket message for such a client. No frame holds one: JSON escapes every
     * control character inside a string, and this codec writes no whitespace between tokens.
     */
    public static final char FRAME_SEPARATOR = '\n';
    /** How many messages one history frame holds at the most, and without a limit. */
    public static final int MAX_HISTORY_LIMIT = 200;
    public static final int DEFAULT_HISTORY_LIMIT = 50;
    /**
     * {"type":"chat message","text":"","offset":9223372036854775807,"author":"","verified":false,
     * "time":9223372036854775807} and the longest author: 64 code points of two characters each, or escaped.
     */
    private static final int CHAT_MESSAGE_FIELDS_CHARS = 62 + 56 + 2 * Author.MAX_NAME_CODE_POINTS;

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
        Fields fields = new Fields();
        try (JsonParser parser = JSON.createParser(frame)) {
            if (parser.nextToken() != JsonToken.START_OBJECT) {
                return new ClientFrame.Rejected(ErrorCode.BAD_JSON, "A frame must be one JSON object.");
            }
            while (parser.nextToken() == JsonToken.FIELD_NAME) {
                String field = parser.currentName();
                fields.read(field, parser.nextToken(), parser);
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
        String type = fields.typeIsString ? fields.type : null;
        if (type != null) {
            switch (type) {
                case TYPE_CHAT_MESSAGE -> {
                    return chatMessage(fields);
                }
                case "join", "leave", "history", "typing" -> {
                    return roomRequest(type, fields);
                }
                case "rooms" -> {
                    return new ClientFrame.ListRooms();
                }
                default -> {
                    // refused below, as any other type
                }
            }
        }
        String validClientOffset = fields.clientOffset != null && validClientOffset(fields.clientOffset)
                ? fields.clientOffset : null;
        return new ClientFrame.Rejected(ErrorCode.BAD_TYPE,
                "\"type\" must be \"" + TYPE_CHAT_MESSAGE + "\".", validClientOffset);
    }

    private ClientFrame chatMessage(Fields fields) {
        String text = fields.text;
        String clientOffset = fields.clientOffset;
        String validClientOffset = clientOffset != null && validClientOffset(clientOffset) ? clientOffset : null;
        if (!fields.textIsString || text == null) {
            return new ClientFrame.Rejected(ErrorCode.BAD_TEXT, "\"text\" must be a string.", validClientOffset);
        }
        int textLength = codePointsIfWellFormed(text);
        if (textLength < 1 || textLength > maxTextLength) {
            return new ClientFrame.Rejected(ErrorCode.BAD_TEXT, textLength < 0
                    ? "\"text\" holds an unpaired UTF-16 surrogate."
                    : "\"text\" must be 1 to " + maxTextLength + " characters long, but has " + textLength + ".",
                    validClientOffset);
        }
        if (!fields.clientOffsetIsString) {
            return new ClientFrame.Rejected(ErrorCode.BAD_CLIENT_OFFSET, "\"clientOffset\" must be a string.");
        }
        if (clientOffset != null && validClientOffset == null) {
            return new ClientFrame.Rejected(ErrorCode.BAD_CLIENT_OFFSET,
                    "\"clientOffset\" must be 1 to " + maxClientOffsetLength + " well-formed characters long.");
        }
        if (fields.roomPresent && !Rooms.isValidName(fields.room)) {
            return badRoom(validClientOffset);
        }
        return new SentMessage(fields.room, text, clientOffset);
    }

    private static ClientFrame roomRequest(String type, Fields fields) {
        if (!Rooms.isValidName(fields.room)) {
            return badRoom(null);
        }
        String room = fields.room;
        switch (type) {
            case "join" -> {
                if (fields.serverOffset == INVALID) {
                    return new ClientFrame.Rejected(ErrorCode.BAD_OFFSET, "\"serverOffset\" must be a non-negative"
                            + " integer that fits a signed 64-bit long.", null, room);
                }
                if (!fields.epochIsString) {
                    return new ClientFrame.Rejected(ErrorCode.BAD_JSON, "\"epoch\" must be a string.", null, room);
                }
                return new ClientFrame.Join(room, Math.max(0, fields.serverOffset), fields.epoch);
            }
            case "leave" -> {
                return new ClientFrame.Leave(room);
            }
            case "typing" -> {
                return new ClientFrame.Typing(room);
            }
            default -> {
                if (fields.before == INVALID || fields.before == 0) {
                    return new ClientFrame.Rejected(ErrorCode.BAD_OFFSET, "\"before\" must be a positive integer.",
                            null, room);
                }
                if (fields.limit == INVALID || fields.limit == 0 || fields.limit > MAX_HISTORY_LIMIT) {
                    return new ClientFrame.Rejected(ErrorCode.BAD_LIMIT, "\"limit\" must be 1 to "
                            + MAX_HISTORY_LIMIT + ".", null, room);
                }
                return new ClientFrame.HistoryRequest(room, fields.before == ABSENT ? Long.MAX_VALUE : fields.before,
                        fields.limit == ABSENT ? DEFAULT_HISTORY_LIMIT : (int) fields.limit);
            }
        }
    }

    private static ClientFrame.Rejected badRoom(String clientOffset) {
        return new ClientFrame.Rejected(ErrorCode.BAD_ROOM, "\"room\" must be 1 to " + Rooms.MAX_NAME_LENGTH
                + " characters of a-z, 0-9, - and _, starting with a letter or digit.", clientOffset);
    }

    /** A numeric field that is absent. */
    private static final long ABSENT = -1;
    /** A numeric field that is not a non-negative integer within a long. */
    private static final long INVALID = -2;

    /** The fields of one client frame, as far as the protocol knows them; the others are ignored. */
    private static final class Fields {
        String type;
        boolean typeIsString = true;
        String text;
        boolean textIsString = true;
        String clientOffset;
        boolean clientOffsetIsString = true;
        String room;
        boolean roomPresent;
        long serverOffset = ABSENT;
        String epoch;
        boolean epochIsString = true;
        long before = ABSENT;
        long limit = ABSENT;

        void read(String field, JsonToken value, JsonParser parser) throws IOException {
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
                case "room" -> {
                    roomPresent = true;
                    room = value == JsonToken.VALUE_STRING ? parser.getText() : null;
                }
                case "serverOffset" -> serverOffset = nonNegativeLong(value, parser);
                case "epoch" -> {
                    epochIsString = value == JsonToken.VALUE_STRING || value == JsonToken.VALUE_NULL;
                    epoch = value == JsonToken.VALUE_STRING ? parser.getText() : null;
                }
                case "before" -> before = nonNegativeLong(value, parser);
                case "limit" -> limit = nonNegativeLong(value, parser);
                default -> {
                    // ignored: unknown fields leave room for later protocol versions
                }
            }
        }

        private static long nonNegativeLong(JsonToken value, JsonParser parser) throws IOException {
            if (value == JsonToken.VALUE_NULL) {
                return ABSENT;
            }
            if (value != JsonToken.VALUE_NUMBER_INT || parser.getNumberType() == JsonParser.NumberType.BIG_INTEGER) {
                return INVALID;
            }
            long number = parser.getLongValue();
            return number < 0 ? INVALID : number;
        }
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
     * longest offset, author and time, and six characters a character of text, as a control character or an
     * unpaired surrogate is escaped ({@code \\u0001}).
     */
    public static long maxChatMessageChars(long textChars) {
        return CHAT_MESSAGE_FIELDS_CHARS + 6 * textChars;
    }

    /** The v1 frame, word for word as v1 defines it: type, text and offset. */
    public static String chatMessage(long offset, String text) {
        return render(text.length() + 48, json -> {
            json.writeStringField("type", TYPE_CHAT_MESSAGE);
            json.writeStringField("text", text);
            json.writeNumberField("offset", offset);
        });
    }

    /** The v2 frame: naming its room, with its author and the time it was committed. */
    public static String chatMessage(String room, long offset, String text, Author author, long time) {
        return render(text.length() + author.name().length() + room.length() + 106,
                json -> writeChatMessage(json, room, offset, text, author, time));
    }

    /** The start of every chat message frame this codec writes: its type comes first. */
    private static final String CHAT_MESSAGE_START = "{\"type\":\"" + TYPE_CHAT_MESSAGE + "\",";

    /**
     * The v2 form of a v1 chat message frame of this codec's: the same frame naming {@code room} and its author,
     * made without decoding it again, field for field as {@link #chatMessage(String, long, String, Author, long)}
     * writes it: the room second, the author and time last.
     */
    public static String chatMessageInRoom(String v1Frame, String room, Author author, long time) {
        if (!v1Frame.startsWith(CHAT_MESSAGE_START) || !v1Frame.endsWith("}") || !Rooms.isValidName(room)) {
            throw new IllegalArgumentException("not a chat message frame of this codec, or not a room name: " + room
                    + ", " + v1Frame);
        }
        String authorFields = render(author.name().length() + 56, json -> writeAuthor(json, author, time));
        // A room name needs no escaping: it is a-z, 0-9, - and _ only.
        return CHAT_MESSAGE_START + "\"room\":\"" + room + "\","
                + v1Frame.substring(CHAT_MESSAGE_START.length(), v1Frame.length() - 1) + "," + authorFields.substring(1);
    }

    private static void writeChatMessage(JsonGenerator json, String room, long offset, String text, Author author,
                                         long time) throws IOException {
        json.writeStringField("type", TYPE_CHAT_MESSAGE);
        json.writeStringField("room", room);
        json.writeStringField("text", text);
        json.writeNumberField("offset", offset);
        writeAuthor(json, author, time);
    }

    private static void writeAuthor(JsonGenerator json, Author author, long time) throws IOException {
        json.writeStringField("author", author.name());
        json.writeBooleanField("verified", author.verified());
        json.writeNumberField("time", time);
    }

    /** {@code {"type":"history","room":...,"before":...,"messages":[...]}}, the messages as chat message frames. */
    public static String history(String room, long before, List<? extends StoredMessageFields> messages) {
        return render(256, json -> {
            json.writeStringField("type", "history");
            json.writeStringField("room", room);
            if (before != Long.MAX_VALUE) {
                json.writeNumberField("before", before);
            }
            json.writeArrayFieldStart("messages");
            for (StoredMessageFields message : messages) {
                json.writeStartObject();
                writeChatMessage(json, room, message.offset(), message.text(), message.author(), message.time());
                json.writeEndObject();
            }
            json.writeEndArray();
        });
    }

    /** What a history frame needs of a stored message. */
    public interface StoredMessageFields {
        long offset();

        String text();

        Author author();

        long time();
    }

    /** {@code {"type":"rooms","rooms":[{"room":...,"offset":...},...]}}. */
    public static String rooms(Map<String, Long> newestByRoom) {
        return render(32 + 40 * newestByRoom.size(), json -> {
            json.writeStringField("type", "rooms");
            json.writeArrayFieldStart("rooms");
            for (Map.Entry<String, Long> room : newestByRoom.entrySet()) {
                json.writeStartObject();
                json.writeStringField("room", room.getKey());
                json.writeNumberField("offset", room.getValue());
                json.writeEndObject();
            }
            json.writeEndArray();
        });
    }

    /**
     * {@code {"type":"presence","room":...,"online":[{"author":...,"verified":...},...]}}, with
     * {@code "you":{"author":...,"verified":...}} when it is the first one a connection gets of the room.
     */
    public static String presenceOnline(String room, Collection<Author> online, Author you) {
        return render(96 + room.length() + 40 * online.size(), json -> {
            presenceOf(json, room);
            people(json, "online", online);
            you(json, you);
        });
    }

    /** {@code {"type":"presence","room":...,"joined":[...],"left":[...]}}. */
    public static String presenceChange(String room, Collection<Author> joined, Collection<Author> left) {
        return render(64 + room.length() + 40 * (joined.size() + left.size()), json -> {
            presenceOf(json, room);
            people(json, "joined", joined);
            people(json, "left", left);
        });
    }

    /** {@code {"type":"presence","room":...,"count":...}}: for a room with more people than are listed. */
    public static String presenceCount(String room, int people, Author you) {
        return render(96 + room.length(), json -> {
            presenceOf(json, room);
            json.writeNumberField("count", people);
            you(json, you);
        });
    }

    private static void you(JsonGenerator json, Author you) throws IOException {
        if (you != null) {
            json.writeObjectFieldStart("you");
            json.writeStringField("author", you.name());
            json.writeBooleanField("verified", you.verified());
            json.writeEndObject();
        }
    }

    private static void presenceOf(JsonGenerator json, String room) throws IOException {
        json.writeStringField("type", "presence");
        json.writeStringField("room", room);
    }

    private static void people(JsonGenerator json, String field, Collection<Author> people) throws IOException {
        json.writeArrayFieldStart(field);
        for (Author person : people) {
            json.writeStartObject();
            json.writeStringField("author", person.name());
            json.writeBooleanField("verified", person.verified());
            json.writeEndObject();
        }
        json.writeEndArray();
    }

    /** {@code {"type":"typing","room":...,"author":...,"verified":...}}. */
    public static String typing(String room, Author author) {
        return render(64 + room.length() + author.name().length(), json -> {
            json.writeStringField("type", "typing");
            json.writeStringField("room", room);
            json.writeStringField("author", author.name());
            json.writeBooleanField("verified", author.verified());
        });
    }

    public static String left(String room) {
        return render(32 + room.length(), json -> {
            json.writeStringField("type", "left");
            json.writeStringField("room", room);
        });
    }

    public static String ack(String clientOffset, long offset) {
        return ack(null, clientOffset, offset);
    }

    /** @param room null for the v1 frame */
    public static String ack(String room, String clientOffset, long offset) {
        return render(clientOffset.length() + 48, json -> {
            json.writeStringField("type", "ack");
            if (room != null) {
                json.writeStringField("room", room);
            }
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
        return synced(null, offset, epoch, reset, truncated);
    }

    /** @param room null for the v1 frame */
    public static String synced(String room, long offset, String epoch, boolean reset, boolean truncated) {
        return render(80, json -> {
            json.writeStringField("type", "synced");
            if (room != null) {
                json.writeStringField("room", room);
            }
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
        return error(code, message, clientOffset, null);
    }

    /** @param room the room the error is about, or null */
    public static String error(ErrorCode code, String message, String clientOffset, String room) {
        String sendable = wellFormed(message);
        return render(sendable.length() + 64, json -> {
            json.writeStringField("type", "error");
            json.writeStringField("code", code.wireName());
            json.writeStringField("message", sendable);
            if (clientOffset != null) {
                json.writeStringField("clientOffset", clientOffset);
            }
            if (room != null) {
                json.writeStringField("room", room);
            }
        });
    }

    private interface FieldWriter {
        void write(JsonGenerator json) throws IOException;
    }

    private static String render(int sizeHint, FieldWriter fields) {
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
