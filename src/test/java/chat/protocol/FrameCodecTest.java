package chat.protocol;

import chat.protocol.Author;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.util.HashSet;
import java.util.OptionalLong;
import java.util.Set;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The v1 wire format: which client frames are accepted and with which error code each bad one is refused, how
 * text length is counted, the server frames as written, and the handshake's serverOffset. */
class FrameCodecTest {

    private static final ObjectMapper MAPPER = new ObjectMapper();

    private static final int MAX_CLIENT_OFFSET_LENGTH = 128;

    private final FrameCodec codec = new FrameCodec(10, MAX_CLIENT_OFFSET_LENGTH);

    private static String repeat(char c, int times) {
        return String.valueOf(c).repeat(times);
    }

    private SentMessage accepted(String frame) {
        return assertInstanceOf(SentMessage.class, codec.parse(frame), frame);
    }

    private void assertRejected(ErrorCode expected, String frame) {
        ClientFrame.Rejected rejected = assertInstanceOf(ClientFrame.Rejected.class, codec.parse(frame), frame);
        assertEquals(expected, rejected.code(), () -> frame + " -> " + rejected.message());
        assertFalse(rejected.message().isBlank(), "a rejection explains itself");
    }

    private static JsonNode json(String frame) throws Exception {
        return MAPPER.readTree(frame);
    }

    private static Set<String> fieldNames(JsonNode node) {
        Set<String> names = new HashSet<>();
        node.fieldNames().forEachRemaining(names::add);
        return names;
    }

    @Test
    void parseAcceptsMessageWithClientOffset() {
        SentMessage message = accepted(
                "{\"type\":\"chat message\",\"text\":\"hello\",\"clientOffset\":\"c-1\"}");
        assertEquals(new SentMessage(null, "hello", "c-1"), message);
    }

    @Test
    void parseAcceptsMessageWithoutClientOffset() {
        assertEquals(new SentMessage(null, "hello", null),
                accepted("{\"type\":\"chat message\",\"text\":\"hello\"}"));
    }

    @Test
    void parseTreatsNullClientOffsetAsAbsent() {
        assertEquals(new SentMessage(null, "hello", null),
                accepted("{\"type\":\"chat message\",\"text\":\"hello\",\"clientOffset\":null}"));
    }

    @Test
    void parseAcceptsFieldsInAnyOrder() {
        assertEquals(new SentMessage(null, "hello", "c-1"),
                accepted("{\"clientOffset\":\"c-1\",\"text\":\"hello\",\"type\":\"chat message\"}"));
    }

    @Test
    void parseIgnoresUnknownFields() {
        assertEquals(new SentMessage(null, "hello", "c-1"), accepted("{\"extra\":{\"type\":\"x\",\"a\":[1,2]},"
                + "\"type\":\"chat message\",\"n\":5,\"text\":\"hello\",\"list\":[{\"text\":1}],"
                + "\"clientOffset\":\"c-1\",\"flag\":true,\"nothing\":null}"));
    }

    @Test
    void parseAcceptsSurroundingWhitespace() {
        assertEquals(new SentMessage(null, "hi", null),
                accepted("  \n{\"type\":\"chat message\",\"text\":\"hi\"}\n  "));
    }

    @Test
    void parseAcceptsTextAtMaximumLength() {
        String text = repeat('x', 10);
        assertEquals(text, accepted("{\"type\":\"chat message\",\"text\":\"" + text + "\"}").text());
    }

    @Test
    void parseCountsTextLengthInCodePointsSoAnEmojiCountsOne() {
        String emojis = "\uD83D\uDE00".repeat(10);
        assertEquals(20, emojis.length());
        assertEquals(emojis, accepted("{\"type\":\"chat message\",\"text\":\"" + emojis + "\"}").text());
    }

    @Test
    void parseAcceptsEscapedSurrogatePair() {
        assertEquals("\uD83D\uDE00", accepted("{\"type\":\"chat message\",\"text\":\"\\ud83d\\ude00\"}").text());
    }

    @Test
    void parseAcceptsSingleCharacterText() {
        assertEquals("a", accepted("{\"type\":\"chat message\",\"text\":\"a\"}").text());
    }

    @Test
    void parseAcceptsClientOffsetOf128Characters() {
        String offset = repeat('o', MAX_CLIENT_OFFSET_LENGTH);
        assertEquals(offset,
                accepted("{\"type\":\"chat message\",\"text\":\"hi\",\"clientOffset\":\"" + offset + "\"}")
                        .clientOffset());
    }

    @Test
    void parseRejectsNotJson() {
        assertRejected(ErrorCode.BAD_JSON, "hello");
    }

    @Test
    void parseRejectsMalformedJson() {
        assertRejected(ErrorCode.BAD_JSON, "{\"type\":\"chat message\",\"text\":\"hi\"");
    }

    @Test
    void parseRejectsEmptyString() {
        assertRejected(ErrorCode.BAD_JSON, "");
    }

    @Test
    void parseRejectsJsonArray() {
        assertRejected(ErrorCode.BAD_JSON, "[{\"type\":\"chat message\",\"text\":\"hi\"}]");
    }

    @Test
    void parseRejectsJsonScalar() {
        assertRejected(ErrorCode.BAD_JSON, "\"chat message\"");
    }

    @Test
    void parseRejectsTwoObjects() {
        assertRejected(ErrorCode.BAD_JSON,
                "{\"type\":\"chat message\",\"text\":\"a\"} {\"type\":\"chat message\",\"text\":\"b\"}");
    }

    @Test
    void parseRejectsTrailingData() {
        assertRejected(ErrorCode.BAD_JSON, "{\"type\":\"chat message\",\"text\":\"hi\"} x");
    }

    @Test
    void parseRejectsDuplicateKeys() {
        assertRejected(ErrorCode.BAD_JSON, "{\"type\":\"chat message\",\"text\":\"a\",\"text\":\"b\"}");
    }

    @Test
    void parseRejectsMissingType() {
        assertRejected(ErrorCode.BAD_TYPE, "{\"text\":\"hi\"}");
    }

    @Test
    void parseRejectsWrongType() {
        assertRejected(ErrorCode.BAD_TYPE, "{\"type\":\"chat\",\"text\":\"hi\"}");
    }

    @ParameterizedTest
    @ValueSource(strings = {"5", "true", "null"})
    void parseRejectsTypeNotAString(String type) {
        assertRejected(ErrorCode.BAD_TYPE, "{\"type\":" + type + ",\"text\":\"hi\"}");
    }

    @ParameterizedTest
    @ValueSource(strings = {"{\"type\":\"chat message\"}", "[\"chat message\"]"})
    void parseRejectsTypeThatIsAnObjectOrArray(String type) {
        assertRejected(ErrorCode.BAD_TYPE, "{\"type\":" + type + ",\"text\":\"hi\"}");
    }

    @Test
    void parseRejectsMissingText() {
        assertRejected(ErrorCode.BAD_TEXT, "{\"type\":\"chat message\"}");
    }

    @ParameterizedTest
    @ValueSource(strings = {"5", "false", "null"})
    void parseRejectsTextNotAString(String text) {
        assertRejected(ErrorCode.BAD_TEXT, "{\"type\":\"chat message\",\"text\":" + text + "}");
    }

    @ParameterizedTest
    @ValueSource(strings = {"{\"a\":\"hi\"}", "[\"hi\"]"})
    void parseRejectsTextThatIsAnObjectOrArray(String text) {
        assertRejected(ErrorCode.BAD_TEXT, "{\"type\":\"chat message\",\"text\":" + text + "}");
    }

    @Test
    void parseRejectsEmptyText() {
        assertRejected(ErrorCode.BAD_TEXT, "{\"type\":\"chat message\",\"text\":\"\"}");
    }

    @Test
    void parseRejectsTextTooLong() {
        assertRejected(ErrorCode.BAD_TEXT, "{\"type\":\"chat message\",\"text\":\"" + repeat('x', 11) + "\"}");
    }

    @Test
    void parseRejectsTextOfElevenEmojis() {
        assertRejected(ErrorCode.BAD_TEXT,
                "{\"type\":\"chat message\",\"text\":\"" + "\uD83D\uDE00".repeat(11) + "\"}");
    }

    @ParameterizedTest
    @ValueSource(strings = {"\\ud800", "a\\ud800b", "\\udc00", "\\ude00\\ud83d"})
    void parseRejectsTextWithUnpairedSurrogate(String escaped) {
        assertRejected(ErrorCode.BAD_TEXT, "{\"type\":\"chat message\",\"text\":\"" + escaped + "\"}");
    }

    @Test
    void parseRejectsEmptyClientOffset() {
        assertRejected(ErrorCode.BAD_CLIENT_OFFSET,
                "{\"type\":\"chat message\",\"text\":\"hi\",\"clientOffset\":\"\"}");
    }

    @Test
    void parseRejectsClientOffsetOf129Characters() {
        assertRejected(ErrorCode.BAD_CLIENT_OFFSET, "{\"type\":\"chat message\",\"text\":\"hi\",\"clientOffset\":\""
                + repeat('o', MAX_CLIENT_OFFSET_LENGTH + 1) + "\"}");
    }

    @Test
    void parseRejectsClientOffsetWithUnpairedSurrogate() {
        assertRejected(ErrorCode.BAD_CLIENT_OFFSET,
                "{\"type\":\"chat message\",\"text\":\"hi\",\"clientOffset\":\"\\ud800\"}");
    }

    @ParameterizedTest
    @ValueSource(strings = {"7", "true"})
    void parseRejectsClientOffsetNotAString(String clientOffset) {
        assertRejected(ErrorCode.BAD_CLIENT_OFFSET,
                "{\"type\":\"chat message\",\"text\":\"hi\",\"clientOffset\":" + clientOffset + "}");
    }

    @ParameterizedTest
    @ValueSource(strings = {"{\"id\":\"c-1\"}", "[\"c-1\"]"})
    void parseRejectsClientOffsetThatIsAnObjectOrArray(String clientOffset) {
        assertRejected(ErrorCode.BAD_CLIENT_OFFSET,
                "{\"type\":\"chat message\",\"text\":\"hi\",\"clientOffset\":" + clientOffset + "}");
    }

    @Test
    void parseServerOffsetAbsentMeansZero() {
        assertEquals(OptionalLong.of(0), FrameCodec.parseServerOffset(null));
    }

    @Test
    void parseServerOffsetAcceptsZero() {
        assertEquals(OptionalLong.of(0), FrameCodec.parseServerOffset("0"));
    }

    @Test
    void parseServerOffsetAcceptsPlainDecimal() {
        assertEquals(OptionalLong.of(42), FrameCodec.parseServerOffset("42"));
    }

    @Test
    void parseServerOffsetAcceptsLargestLong() {
        assertEquals(OptionalLong.of(Long.MAX_VALUE), FrameCodec.parseServerOffset(String.valueOf(Long.MAX_VALUE)));
    }

    @ParameterizedTest
    @ValueSource(strings = {"-1", "", "abc", "1.5", " 1", "1 ", "+1", "0x10", "9223372036854775808",
            "12345678901234567890"})
    void parseServerOffsetGivesNothingForUnacceptableValues(String value) {
        assertEquals(OptionalLong.empty(), FrameCodec.parseServerOffset(value));
    }

    @Test
    void formatChatMessageFields() throws Exception {
        JsonNode frame = json(FrameCodec.chatMessage(42, "hello"));
        assertEquals(Set.of("type", "text", "offset"), fieldNames(frame), "v1, word for word");
        assertEquals("chat message", frame.get("type").textValue());
        assertEquals("hello", frame.get("text").textValue());
        assertTrue(frame.get("offset").isIntegralNumber());
        assertEquals(42, frame.get("offset").longValue());
    }

    @Test
    void aV2ChatMessageNamesItsRoomItsAuthorAndItsTime() throws Exception {
        JsonNode frame = json(FrameCodec.chatMessage("ops", 42, "hello", new Author("Ada \"the\" Lovelace", true),
                1_764_000_000_123L));
        assertEquals(Set.of("type", "room", "text", "offset", "author", "verified", "time"), fieldNames(frame));
        assertEquals("ops", frame.get("room").textValue());
        assertEquals("Ada \"the\" Lovelace", frame.get("author").textValue());
        assertTrue(frame.get("verified").booleanValue());
        assertEquals(1_764_000_000_123L, frame.get("time").longValue());
    }

    @Test
    void formatChatMessageWithLargestOffset() throws Exception {
        assertEquals(Long.MAX_VALUE, json(FrameCodec.chatMessage(Long.MAX_VALUE, "x")).get("offset").longValue());
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "say \"hi\"",
            "back\\slash \\u0041 \\n",
            "line one\nline two\r\n\ttabbed",
            "<script>alert('x')</script> & </p>",
            "emoji \uD83D\uDE00 and \uD834\uDD1E clef",
            "control \u0000 \u001f \u007f \u2028 \u2029",
            "\"}],{\"type\":\"ack\""
    })
    void formatChatMessageTextRoundTrips(String text) throws Exception {
        String frame = FrameCodec.chatMessage(7, text);
        JsonNode node = json(frame);
        assertEquals(text, node.get("text").textValue());
        assertEquals("chat message", node.get("type").textValue());
        assertEquals(7, node.get("offset").longValue());
    }

    @Test
    void formatChatMessageOutputParsesBackThroughTheCodec() {
        String text = "quote \" slash \\ newline \n emoji \uD83D\uDE00";
        String frame = FrameCodec.chatMessage(3, text);
        ClientFrame parsed = new FrameCodec(100, MAX_CLIENT_OFFSET_LENGTH).parse(frame);
        assertEquals(new SentMessage(null, text, null), parsed);
    }

    @Test
    void formatAckFields() throws Exception {
        JsonNode frame = json(FrameCodec.ack("c-\"1\"\\\n\uD83D\uDE00", 9));
        assertEquals(Set.of("type", "clientOffset", "offset"), fieldNames(frame));
        assertEquals("ack", frame.get("type").textValue());
        assertEquals("c-\"1\"\\\n\uD83D\uDE00", frame.get("clientOffset").textValue());
        assertTrue(frame.get("offset").isIntegralNumber());
        assertEquals(9, frame.get("offset").longValue());
    }

    @Test
    void formatSyncedFields() throws Exception {
        JsonNode frame = json(FrameCodec.synced(123, "e-1", false));
        assertEquals(Set.of("type", "offset", "epoch"), fieldNames(frame));
        assertEquals("e-1", frame.get("epoch").textValue());
        assertEquals("synced", frame.get("type").textValue());
        assertTrue(frame.get("offset").isIntegralNumber());
        assertEquals(123, frame.get("offset").longValue());
    }

    @Test
    void formatSyncedWithZeroAndLargestOffset() throws Exception {
        assertEquals(0, json(FrameCodec.synced(0, "e", false)).get("offset").longValue());
        assertEquals(Long.MAX_VALUE, json(FrameCodec.synced(Long.MAX_VALUE, "e", false)).get("offset").longValue());
    }

    @Test
    void formatSyncedAfterAResetSaysSo() throws Exception {
        JsonNode frame = json(FrameCodec.synced(7, "e", true));
        assertEquals(Set.of("type", "offset", "epoch", "reset"), fieldNames(frame));
        assertTrue(frame.get("reset").booleanValue());
        assertEquals(7, frame.get("offset").longValue());
    }

    @Test
    void utf8LengthCountsEncodedBytes() {
        assertEquals(0, FrameCodec.utf8Length(""));
        assertEquals(3, FrameCodec.utf8Length("abc"));
        assertEquals(2, FrameCodec.utf8Length("\u00e9"));
        assertEquals(3, FrameCodec.utf8Length("\u20ac"));
        assertEquals(4, FrameCodec.utf8Length("\uD83D\uDE00"));
        assertEquals(3, FrameCodec.utf8Length("\uD800"), "a lone surrogate is written as a replacement character");
        String mixed = "a\u00e9\u20ac\uD83D\uDE00";
        assertEquals(mixed.getBytes(java.nio.charset.StandardCharsets.UTF_8).length, FrameCodec.utf8Length(mixed));
    }

    @Test
    void formatErrorWithoutClientOffset() throws Exception {
        JsonNode frame = json(FrameCodec.error(ErrorCode.BAD_JSON, "Not \"valid\" <JSON>\n", null));
        assertEquals(Set.of("type", "code", "message"), fieldNames(frame));
        assertEquals("error", frame.get("type").textValue());
        assertEquals("bad-json", frame.get("code").textValue());
        assertEquals("Not \"valid\" <JSON>\n", frame.get("message").textValue());
    }

    @Test
    void formatErrorWithClientOffset() throws Exception {
        JsonNode frame = json(FrameCodec.error(ErrorCode.STORE_UNAVAILABLE, "try later", "c-\\7"));
        assertEquals(Set.of("type", "code", "message", "clientOffset"), fieldNames(frame));
        assertEquals("error", frame.get("type").textValue());
        assertEquals("store-unavailable", frame.get("code").textValue());
        assertEquals("try later", frame.get("message").textValue());
        assertEquals("c-\\7", frame.get("clientOffset").textValue());
    }

    @Test
    void formatErrorUsesTheWireNameOfEveryCode() throws Exception {
        for (ErrorCode code : ErrorCode.values()) {
            assertEquals(code.wireName(), json(FrameCodec.error(code, "m", null)).get("code").textValue());
        }
    }

    @Test
    void roomNamesAreLowercaseLettersDigitsDashesAndUnderscoresStartingWithALetterOrDigit() {
        assertTrue(Rooms.isValidName("general"));
        assertTrue(Rooms.isValidName("ops-2_b"));
        assertTrue(Rooms.isValidName("9lives"));
        assertTrue(Rooms.isValidName("a".repeat(64)));
        assertFalse(Rooms.isValidName("a".repeat(65)));
        assertFalse(Rooms.isValidName(""));
        assertFalse(Rooms.isValidName("-ops"));
        assertFalse(Rooms.isValidName("_ops"));
        assertFalse(Rooms.isValidName("Ops"));
        assertFalse(Rooms.isValidName("ops room"));
        assertFalse(Rooms.isValidName("caf\u00e9"));
        assertFalse(Rooms.isValidName(null));
    }

    @Test
    void aChatMessageMayNameItsRoomAndABadOneIsBadRoomWithTheClientOffset() {
        assertEquals(new SentMessage("ops", "hi", "k-1"),
                accepted("{\"type\":\"chat message\",\"room\":\"ops\",\"text\":\"hi\",\"clientOffset\":\"k-1\"}"));
        ClientFrame.Rejected rejected = assertInstanceOf(ClientFrame.Rejected.class, codec.parse(
                "{\"type\":\"chat message\",\"room\":\"Ops\",\"text\":\"hi\",\"clientOffset\":\"k-1\"}"));
        assertEquals(ErrorCode.BAD_ROOM, rejected.code());
        assertEquals("k-1", rejected.clientOffset());
        assertRejected(ErrorCode.BAD_ROOM, "{\"type\":\"chat message\",\"room\":null,\"text\":\"hi\"}");
        assertRejected(ErrorCode.BAD_ROOM, "{\"type\":\"chat message\",\"room\":7,\"text\":\"hi\"}");
    }

    @Test
    void joinLeaveHistoryAndRoomsAreParsedWithTheirDefaults() {
        assertEquals(new ClientFrame.Join("ops", 41, "e-1"),
                codec.parse("{\"type\":\"join\",\"room\":\"ops\",\"serverOffset\":41,\"epoch\":\"e-1\"}"));
        assertEquals(new ClientFrame.Join("ops", 0, null), codec.parse("{\"type\":\"join\",\"room\":\"ops\"}"));
        assertEquals(new ClientFrame.Leave("ops"), codec.parse("{\"type\":\"leave\",\"room\":\"ops\"}"));
        assertEquals(new ClientFrame.HistoryRequest("ops", 120, 20),
                codec.parse("{\"type\":\"history\",\"room\":\"ops\",\"before\":120,\"limit\":20}"));
        assertEquals(new ClientFrame.HistoryRequest("ops", Long.MAX_VALUE, FrameCodec.DEFAULT_HISTORY_LIMIT),
                codec.parse("{\"type\":\"history\",\"room\":\"ops\"}"));
        assertEquals(new ClientFrame.ListRooms(), codec.parse("{\"type\":\"rooms\"}"));
    }

    @Test
    void badRoomRequestsAreRefusedWithTheirCode() {
        assertRejected(ErrorCode.BAD_ROOM, "{\"type\":\"join\"}");
        assertRejected(ErrorCode.BAD_ROOM, "{\"type\":\"leave\",\"room\":\"a b\"}");
        assertRejected(ErrorCode.BAD_OFFSET, "{\"type\":\"join\",\"room\":\"ops\",\"serverOffset\":-1}");
        assertRejected(ErrorCode.BAD_OFFSET, "{\"type\":\"join\",\"room\":\"ops\",\"serverOffset\":1.5}");
        assertRejected(ErrorCode.BAD_OFFSET, "{\"type\":\"join\",\"room\":\"ops\",\"serverOffset\":\"4\"}");
        assertRejected(ErrorCode.BAD_OFFSET,
                "{\"type\":\"join\",\"room\":\"ops\",\"serverOffset\":99999999999999999999}");
        assertRejected(ErrorCode.BAD_OFFSET, "{\"type\":\"history\",\"room\":\"ops\",\"before\":0}");
        assertRejected(ErrorCode.BAD_LIMIT, "{\"type\":\"history\",\"room\":\"ops\",\"limit\":0}");
        assertRejected(ErrorCode.BAD_LIMIT, "{\"type\":\"history\",\"room\":\"ops\",\"limit\":201}");
        ClientFrame.Rejected rejected = assertInstanceOf(ClientFrame.Rejected.class,
                codec.parse("{\"type\":\"history\",\"room\":\"ops\",\"limit\":201}"));
        assertEquals("ops", rejected.room(), "an error about a room names it");
    }

    @Test
    void theV2FormOfAV1ChatMessageIsTheFrameThatNamesTheRoom() {
        Author author = new Author("Ad\u00e9 \"\\\"", false);
        for (String text : new String[] {"hi", "quote \" and \\ and \u00e9\ud83d\ude00", "{\"type\":\"x\"}",
                "\",\"author\":\"x\"}"}) {
            assertEquals(FrameCodec.chatMessage("general", 42, text, author, 1_764_000_000_123L),
                    FrameCodec.chatMessageInRoom(FrameCodec.chatMessage(42, text), "general", author, 1_764_000_000_123L));
        }
        assertThrows(IllegalArgumentException.class,
                () -> FrameCodec.chatMessageInRoom("{\"type\":\"ack\"}", "general", author, 0));
        assertThrows(IllegalArgumentException.class,
                () -> FrameCodec.chatMessageInRoom(FrameCodec.chatMessage(1, "x"), "Not a room", author, 0));
    }

    @Test
    void v2ServerFramesNameTheirRoomAndV1OnesDoNot() throws Exception {
        assertEquals("ops", json(FrameCodec.chatMessage("ops", 3, "hi", Author.ANONYMOUS, 0)).get("room").textValue());
        assertFalse(json(FrameCodec.chatMessage(3, "hi")).has("room"));
        assertEquals("ops", json(FrameCodec.ack("ops", "k", 3)).get("room").textValue());
        assertFalse(json(FrameCodec.ack("k", 3)).has("room"));
        JsonNode synced = json(FrameCodec.synced("ops", 3, "e", false, false));
        assertEquals("ops", synced.get("room").textValue());
        assertEquals(Set.of("type", "room", "offset", "epoch"), fieldNames(synced));
        assertEquals("ops", json(FrameCodec.error(ErrorCode.NOT_JOINED, "m", null, "ops")).get("room").textValue());
        assertEquals(Set.of("type", "room"), fieldNames(json(FrameCodec.left("ops"))));
        JsonNode history = json(FrameCodec.history("ops", 9, java.util.List.of(new chat.store.StoredMessage(8, "x", Author.ANONYMOUS, 0))));
        assertEquals(9, history.get("before").longValue());
        assertEquals(Set.of("type", "room", "text", "offset", "author", "verified", "time"),
                fieldNames(history.get("messages").get(0)));
        JsonNode rooms = json(FrameCodec.rooms(java.util.Map.of("ops", 3L)));
        assertEquals(3, rooms.get("rooms").get(0).get("offset").longValue());
    }

    @Test
    void noFrameHoldsALineFeedSoThatFramesAsLinesSplitWhereTheyEnd() throws Exception {
        String text = "first line\nsecond\r\nthird\u2028\u0085 and a tab\t";
        Author author = new Author("Ada \"Lines\" Lovelace", false);
        String v1 = FrameCodec.chatMessage(7, text);
        for (String frame : java.util.List.of(v1,
                FrameCodec.chatMessage("ops", 7, text, author, 1_764_000_000_123L),
                FrameCodec.chatMessageInRoom(v1, "general", author, 1_764_000_000_123L),
                FrameCodec.typing("ops", author),
                FrameCodec.error(ErrorCode.BAD_TEXT, text, "c\n1", "ops"))) {
            assertFalse(frame.indexOf(FrameCodec.FRAME_SEPARATOR) >= 0, () -> "a raw line feed in " + frame);
            assertTrue(json(frame).isObject(), frame);
        }
        assertEquals(text, json(v1).path("text").asText());
    }
}
