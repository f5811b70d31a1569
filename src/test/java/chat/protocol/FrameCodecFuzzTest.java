package chat.protocol;

import chat.protocol.Author;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.RandomDistribution;
import net.jqwik.api.Tuple;
import net.jqwik.api.arbitraries.ListArbitrary;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.statistics.Statistics;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link FrameCodec} against random input: random strings, random JSON-like structures with wrong types, huge
 * numbers, deep nesting and lone surrogates, valid frames cut short, with junk appended or with a few characters
 * changed. Parsing never throws; a frame is accepted exactly when README's protocol section says it is a chat
 * message, and otherwise rejected with the error code the README's table gives and a message. The expected outcome
 * is decided here independently, on jackson-databind's tree of the same frame. The server frames, written for any
 * well-formed strings, parse back to the same values.
 */
class FrameCodecFuzzTest {

    /** Small, so that random texts often fall on both sides of the limit. */
    private static final int MAX_TEXT = 12;
    private static final int MAX_CLIENT_OFFSET_LENGTH = 128;

    /** One JSON object and nothing after it, no duplicate key anywhere: the frames README calls JSON. */
    private static final ObjectMapper STRICT = JsonMapper.builder()
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .build();

    private final FrameCodec codec = new FrameCodec(MAX_TEXT, MAX_CLIENT_OFFSET_LENGTH);

    // ---------------------------------------------------------------------------------------------------- parsing

    @Property
    void randomStringsAreAcceptedOrRejectedAsTheProtocolSays(@ForAll("noise") String frame) {
        check(frame);
    }

    @Property
    void randomJsonLikeStructuresAreAcceptedOrRejectedAsTheProtocolSays(@ForAll("jsonish") String frame) {
        check(frame);
    }

    @Property
    void objectsThatLookLikeChatMessagesAreAcceptedOrRejectedAsTheProtocolSays(@ForAll("chatLike") String frame) {
        String outcome = check(frame);
        Statistics.label("outcome").collect(outcome);
        Statistics.label("outcome").coverage(coverage -> {
            // The generator must reach every branch, or the property says little.
            // About 110 in 1000 tries are accepted and 25 have a bad clientOffset; these bounds leave room for chance.
            coverage.check("accepted").count(n -> n >= 30);
            for (ErrorCode code : List.of(ErrorCode.BAD_JSON, ErrorCode.BAD_TYPE, ErrorCode.BAD_TEXT,
                    ErrorCode.BAD_CLIENT_OFFSET)) {
                coverage.check(code.wireName()).count(n -> n > 5);
            }
        });
    }

    @Property
    void validFramesParseToExactlyTheirTextAndClientOffset(@ForAll("valid") ValidFrame frame) {
        assertEquals(new SentMessage(null, frame.text(), frame.clientOffset()), codec.parse(frame.json()),
                () -> "for " + shown(frame.json()));
        assertEquals("accepted", check(frame.json()));
    }

    @Property
    void truncatedValidFramesAreBadJson(@ForAll("valid") ValidFrame frame, @ForAll @IntRange(max = 100_000) int at) {
        String json = frame.json();
        String truncated = json.substring(0, at % json.lastIndexOf('}'));
        assertRejected(ErrorCode.BAD_JSON, truncated);
        check(truncated);
    }

    @Property
    void validFramesWithJunkAppendedAreBadJson(@ForAll("valid") ValidFrame frame, @ForAll("whitespace") String gap,
                                               @ForAll("junk") String junk) {
        String appended = frame.json() + gap + junk;
        assertRejected(ErrorCode.BAD_JSON, appended);
        check(appended);
    }

    @Property
    void validFramesWithAFewCharactersChangedAreAcceptedOrRejectedAsTheProtocolSays(
            @ForAll("valid") ValidFrame frame, @ForAll("edits") List<Edit> edits) {
        StringBuilder json = new StringBuilder(frame.json());
        for (Edit edit : edits) {
            edit.apply(json);
        }
        check(json.toString());
    }

    /**
     * The server sends a rejection's message in a text frame, so it must be well-formed UTF-16. It is not when
     * Jackson's message names an unexpected character outside the BMP: it quotes the high surrogate alone (for
     * the frame {@code "\uD83D\uDE00"}, an emoji, it says {@code Unexpected character ('\uD83D' (code 55357 /
     * 0xd83d))}). Tomcat then cannot encode the error frame and the connection is closed with 1011 (FuzzIT).
     */
    @Property
    void rejectionMessagesAreWellFormedSoThatTheyCanBeSent(@ForAll("wellFormedNoise") String frame) {
        if (codec.parse(frame) instanceof ClientFrame.Rejected rejected) {
            assertTrue(isWellFormed(rejected.message()), () -> shown(rejected.message()) + " for " + shown(frame));
        }
    }

    @Property(tries = 100)
    void deeplyNestedValuesNeitherThrowNorOverflowTheStack(@ForAll @IntRange(min = 1, max = 3_000) int depth,
                                                           @ForAll boolean objects) {
        String open = objects ? "{\"a\":" : "[";
        String close = objects ? "}" : "]";
        String frame = "{\"type\":\"chat message\",\"text\":\"deep\",\"nested\":"
                + open.repeat(depth) + "0" + close.repeat(depth) + "}";
        check(frame);
    }

    // ------------------------------------------------------------------------------------------------- formatting

    @Property
    void chatMessageFramesParseBackToTheirValues(@ForAll long offset, @ForAll("wellFormed") String text)
            throws Exception {
        String frame = FrameCodec.chatMessage(offset, text);
        JsonNode json = serverFrame(frame, Set.of("type", "text", "offset"));
        assertEquals("chat message", json.get("type").textValue());
        assertEquals(text, json.get("text").textValue(), () -> shown(frame));
        assertLong(offset, json.get("offset"));

        // What the server broadcasts is itself a frame a client could send back.
        int length = text.codePointCount(0, text.length());
        if (length >= 1 && length <= MAX_TEXT) {
            assertEquals(new SentMessage(null, text, null), codec.parse(frame));
        } else {
            assertRejected(ErrorCode.BAD_TEXT, frame);
        }
    }

    @Property
    void ackFramesParseBackToTheirValues(@ForAll("wellFormed") String clientOffset, @ForAll long offset)
            throws Exception {
        String frame = FrameCodec.ack(clientOffset, offset);
        JsonNode json = serverFrame(frame, Set.of("type", "clientOffset", "offset"));
        assertEquals("ack", json.get("type").textValue());
        assertEquals(clientOffset, json.get("clientOffset").textValue(), () -> shown(frame));
        assertLong(offset, json.get("offset"));
    }

    @Property
    void errorFramesParseBackToTheirValues(@ForAll ErrorCode code, @ForAll("wellFormed") String message,
                                           @ForAll("wellFormedOrNull") String clientOffset) throws Exception {
        String frame = FrameCodec.error(code, message, clientOffset);
        JsonNode json = serverFrame(frame, clientOffset == null
                ? Set.of("type", "code", "message") : Set.of("type", "code", "message", "clientOffset"));
        assertEquals("error", json.get("type").textValue());
        assertEquals(code.wireName(), json.get("code").textValue());
        assertEquals(message, json.get("message").textValue(), () -> shown(frame));
        if (clientOffset != null) {
            assertEquals(clientOffset, json.get("clientOffset").textValue(), () -> shown(frame));
        }
    }

    @Property(tries = 200)
    void syncedFramesParseBackToTheirValues(@ForAll long offset, @ForAll boolean reset) throws Exception {
        String epoch = java.util.UUID.randomUUID().toString();
        String frame = FrameCodec.synced(offset, epoch, reset);
        JsonNode json = serverFrame(frame,
                reset ? Set.of("type", "offset", "epoch", "reset") : Set.of("type", "offset", "epoch"));
        assertEquals("synced", json.get("type").textValue());
        assertEquals(epoch, json.get("epoch").textValue());
        assertLong(offset, json.get("offset"));
        if (reset) {
            assertTrue(json.get("reset").booleanValue());
        }
    }

    // ------------------------------------------------------------------------------------------------ the oracle

    /**
     * Parses {@code frame}, compares the outcome with what README says about it, and checks the invariants of an
     * accepted frame directly. @return "accepted" or the wire name of the rejection's code
     */
    private String check(String frame) {
        ClientFrame actual = codec.parse(frame);
        assertNotNull(actual, () -> "parse returned null for " + shown(frame));
        ClientFrame expected = expected(frame);
        if (actual instanceof SentMessage message) {
            assertEquals(expected, message, () -> "accepted " + shown(frame));
            assertWellFormedWithLength(message.text(), 1, MAX_TEXT, frame);
            if (message.clientOffset() != null) {
                assertWellFormedWithLength(message.clientOffset(), 1, MAX_CLIENT_OFFSET_LENGTH, frame);
            }
            return "accepted";
        }
        ClientFrame.Rejected rejected = assertInstanceOf(ClientFrame.Rejected.class, actual);
        assertNotNull(rejected.code(), () -> "a rejection has a code: " + shown(frame));
        assertTrue(rejected.message() != null && !rejected.message().isBlank(),
                () -> "a rejection explains itself: " + shown(frame));
        ClientFrame.Rejected wanted = assertInstanceOf(ClientFrame.Rejected.class, expected,
                () -> "rejected (" + rejected + ") although it is " + expected + ": " + shown(frame));
        assertEquals(wanted.code(), rejected.code(), () -> rejected.message() + " for " + shown(frame));
        return rejected.code().wireName();
    }

    /** README's protocol section, decided on databind's tree: a ChatMessage, or a Rejected with its code. */
    private static ClientFrame expected(String frame) {
        JsonNode root;
        try {
            root = STRICT.readTree(frame);
        } catch (JsonProcessingException notJson) {
            return rejected(ErrorCode.BAD_JSON);
        }
        if (root == null || !root.isObject()) {
            return rejected(ErrorCode.BAD_JSON);
        }
        JsonNode type = root.get("type");
        if (type == null || !type.isTextual() || !type.textValue().equals("chat message")) {
            return rejected(ErrorCode.BAD_TYPE);
        }
        JsonNode text = root.get("text");
        if (text == null || !text.isTextual() || !wellFormedWithLength(text.textValue(), 1, MAX_TEXT)) {
            return rejected(ErrorCode.BAD_TEXT);
        }
        JsonNode clientOffset = root.get("clientOffset");
        if (clientOffset == null || clientOffset.isNull()) {
            return new SentMessage(null, text.textValue(), null);
        }
        if (!clientOffset.isTextual()
                || !wellFormedWithLength(clientOffset.textValue(), 1, MAX_CLIENT_OFFSET_LENGTH)) {
            return rejected(ErrorCode.BAD_CLIENT_OFFSET);
        }
        return new SentMessage(null, text.textValue(), clientOffset.textValue());
    }

    private static ClientFrame.Rejected rejected(ErrorCode code) {
        return new ClientFrame.Rejected(code, "expected");
    }

    /** Well-formed UTF-16 survives a round trip through UTF-8; an unpaired surrogate does not. */
    private static boolean isWellFormed(String s) {
        return new String(s.getBytes(StandardCharsets.UTF_8), StandardCharsets.UTF_8).equals(s);
    }

    private static boolean wellFormedWithLength(String s, int min, int max) {
        int length = s.codePointCount(0, s.length());
        return isWellFormed(s) && length >= min && length <= max;
    }

    private static void assertWellFormedWithLength(String s, int min, int max, String frame) {
        assertTrue(wellFormedWithLength(s, min, max),
                () -> shown(s) + " is not " + min + " to " + max + " well-formed characters, in " + shown(frame));
    }

    private void assertRejected(ErrorCode code, String frame) {
        ClientFrame.Rejected rejected = assertInstanceOf(ClientFrame.Rejected.class, codec.parse(frame),
                () -> "accepted " + shown(frame));
        assertEquals(code, rejected.code(), () -> rejected.message() + " for " + shown(frame));
        assertFalse(rejected.message().isBlank());
    }

    /** A server frame: one JSON object with exactly these fields, well-formed, so it can go out as UTF-8. */
    private static JsonNode serverFrame(String frame, Set<String> fields) throws Exception {
        assertTrue(isWellFormed(frame), () -> shown(frame));
        JsonNode json = STRICT.readTree(frame);
        assertTrue(json.isObject(), () -> shown(frame));
        Set<String> names = new HashSet<>();
        json.fieldNames().forEachRemaining(names::add);
        assertEquals(fields, names, () -> shown(frame));
        return json;
    }

    private static void assertLong(long expected, JsonNode number) {
        assertTrue(number.isIntegralNumber() && number.canConvertToLong(), number::toString);
        assertEquals(expected, number.longValue());
    }

    /** The frame with everything outside printable ASCII escaped, for assertion messages. */
    private static String shown(String s) {
        StringBuilder out = new StringBuilder(s.length() + 16).append('\'');
        int limit = Math.min(s.length(), 2_000);
        for (int i = 0; i < limit; i++) {
            char c = s.charAt(i);
            if (c >= 0x20 && c < 0x7F) {
                out.append(c);
            } else {
                out.append(String.format("\\u%04x", (int) c));
            }
        }
        if (limit < s.length()) {
            out.append("... (").append(s.length()).append(" chars)");
        }
        return out.append('\'').toString();
    }

    // ------------------------------------------------------------------------------------------------ generators

    @Provide
    Arbitrary<String> noise() {
        Arbitrary<String> piece = Arbitraries.frequencyOf(
                Tuple.of(6, Arbitraries.of("{", "}", "[", "]", ":", ",", "\"", "\\", " ", "\n", "\t", "0", "-", "e",
                        ".", "1e999", "true", "false", "null", "\"type\"", "\"text\"", "\"clientOffset\"",
                        "\"chat message\"", "\\u", "\\ud800", "\\udc00", "/*", "//", "\uFEFF", "'")),
                Tuple.of(3, Arbitraries.chars().all().map(String::valueOf)),
                Tuple.of(1, surrogate()),
                Tuple.of(1, supplementary()));
        return Arbitraries.oneOf(
                Arbitraries.strings().all().ofMaxLength(60),
                piece.list().ofMaxSize(40).map(pieces -> String.join("", pieces)));
    }

    /** Noise as it can arrive in a WebSocket text frame, which is UTF-8: no lone surrogate. */
    @Provide
    Arbitrary<String> wellFormedNoise() {
        return noise().filter(FrameCodecFuzzTest::isWellFormed);
    }

    @Provide
    Arbitrary<String> jsonish() {
        Arbitrary<String> value = value(4, false);
        return Arbitraries.frequencyOf(
                Tuple.of(6, object(value(3, false), false)),
                Tuple.of(2, value),
                Tuple.of(1, Combinators.combine(whitespace(), value, whitespace()).as((a, v, b) -> a + v + b)));
    }

    /** Objects with type, text and clientOffset present or not, of the right type or not, among other fields. */
    @Provide
    Arbitrary<String> chatLike() {
        Arbitrary<String> type = Arbitraries.frequencyOf(
                Tuple.of(10, Arbitraries.just("\"chat message\"")),
                Tuple.of(1, Arbitraries.just("\"chat\\u0020message\"")),
                Tuple.of(2, Arbitraries.of("\"chat\"", "\"Chat message\"", "\"chat message \"", "\"\"", "5", "null",
                        "true", "[\"chat message\"]", "{\"type\":\"chat message\"}")),
                Tuple.of(1, value(1, false)));
        Arbitrary<String> text = Arbitraries.frequencyOf(
                Tuple.of(10, textLiteral(0, MAX_TEXT + 2)),
                Tuple.of(2, Arbitraries.of("5", "null", "false", "[]", "{}", "[\"hi\"]", "{\"text\":\"hi\"}",
                        "12345678901234567890123456789012345678901234567890", "-0.0e-99999")),
                Tuple.of(1, value(1, false)));
        Arbitrary<String> clientOffset = Arbitraries.frequencyOf(
                Tuple.of(6, Arbitraries.frequencyOf(
                                Tuple.of(5, Arbitraries.integers().between(1, 16)),
                                Tuple.of(2, Arbitraries.integers().between(125, 131)),
                                Tuple.of(1, Arbitraries.just(0)))
                        .flatMap(length -> textLiteral(length, length))),
                Tuple.of(2, Arbitraries.just("null")),
                Tuple.of(2, Arbitraries.of("7", "true", "{}", "[]", "[\"c-1\"]", "1e400")),
                Tuple.of(1, value(1, false)));
        Arbitrary<List<String>> known = Combinators.combine(
                        member("\"type\"", type).injectNull(0.1),
                        member("\"text\"", text).injectNull(0.1),
                        member("\"clientOffset\"", clientOffset).injectNull(0.4))
                .as((a, b, c) -> {
                    List<String> members = new ArrayList<>(3);
                    for (String m : new String[] {a, b, c}) {
                        if (m != null) {
                            members.add(m);
                        }
                    }
                    return members;
                });
        Arbitrary<List<String>> extra = Arbitraries.frequencyOf(
                Tuple.of(2, Arbitraries.just(List.of())),
                Tuple.of(1, Combinators.combine(key(false), whitespace(), value(2, false))
                        .as((k, w, v) -> k + w + ":" + v)
                        .list().ofMinSize(1).ofMaxSize(3)));
        return Combinators.combine(known, extra, Arbitraries.integers().between(0, 40), Arbitraries.longs())
                .as((members, others, duplicate, layout) -> {
                    List<String> all = new ArrayList<>(members);
                    all.addAll(others);
                    if (duplicate == 0 && !all.isEmpty()) {
                        all.add(all.get(0));
                    }
                    Random random = new Random(layout);
                    Collections.shuffle(all, random);
                    return joined("{", all, "}", random);
                });
    }

    /** Chat messages whose text and clientOffset are known, encoded in many ways, with other fields around them. */
    @Provide
    Arbitrary<ValidFrame> valid() {
        Arbitrary<List<Integer>> text = codePoint().list().ofMinSize(1).ofMaxSize(MAX_TEXT);
        Arbitrary<List<Integer>> clientOffset = Arbitraries.frequencyOf(
                Tuple.of(4, codePoint().list().ofMinSize(1).ofMaxSize(20)),
                Tuple.of(1, codePoint().list().ofMinSize(120).ofMaxSize(MAX_CLIENT_OFFSET_LENGTH)));
        Arbitrary<Integer> clientOffsetForm = Arbitraries.of(0, 1, 2); // absent, null, a string
        Arbitrary<List<String>> extras = Combinators.combine(key(true), whitespace(), value(2, true))
                .as((k, w, v) -> k + w + ":" + v)
                .list().ofMaxSize(3).uniqueElements(member -> member.substring(0, member.indexOf(':')).strip());
        return Combinators.combine(text, clientOffset, clientOffsetForm, extras, Arbitraries.longs())
                .as((textPoints, offsetPoints, form, others, layout) -> {
                    Random random = new Random(layout);
                    String textValue = string(textPoints);
                    String offsetValue = form == 2 ? string(offsetPoints) : null;
                    List<String> members = new ArrayList<>(others);
                    members.add("\"type\":" + encode("chat message", random));
                    members.add("\"text\":" + encode(textValue, random));
                    if (form == 1) {
                        members.add("\"clientOffset\":null");
                    } else if (form == 2) {
                        members.add("\"clientOffset\":" + encode(offsetValue, random));
                    }
                    Collections.shuffle(members, random);
                    return new ValidFrame(joined("{", members, "}", random), textValue, offsetValue);
                });
    }

    @Provide
    Arbitrary<String> junk() {
        return noise().filter(s -> !s.isEmpty() && " \t\r\n".indexOf(s.charAt(0)) < 0);
    }

    @Provide
    Arbitrary<String> whitespace() {
        return Arbitraries.strings().withChars(" \t\r\n").ofMaxLength(3);
    }

    @Provide
    Arbitrary<List<Edit>> edits() {
        Arbitrary<Edit> edit = Combinators.combine(Arbitraries.of(EditKind.class),
                        Arbitraries.integers().between(0, 100_000), noise().filter(s -> !s.isEmpty()))
                .as(Edit::new);
        return edit.list().ofMinSize(1).ofMaxSize(3);
    }

    /** Any well-formed string: every code point but the surrogates, weighted towards what JSON must escape. */
    @Provide
    Arbitrary<String> wellFormed() {
        Arbitrary<List<Integer>> codePoints = codePoint().list().withSizeDistribution(
                RandomDistribution.biased()).ofMaxSize(300);
        return codePoints.map(FrameCodecFuzzTest::string);
    }

    @Provide
    Arbitrary<String> wellFormedOrNull() {
        return wellFormed().injectNull(0.3);
    }

    private static Arbitrary<Integer> codePoint() {
        return Arbitraries.frequencyOf(
                Tuple.of(6, Arbitraries.integers().between(0x20, 0x7E)),
                Tuple.of(3, Arbitraries.of((int) '"', (int) '\\', (int) '/', 0, 0x1F, 0x7F, (int) '\n', (int) '\r',
                        (int) '\t', 0x2028, 0x2029, 0xFEFF, 0xFFFE, 0xFFFF)),
                Tuple.of(1, Arbitraries.integers().between(0, 0x1F)),
                Tuple.of(2, Arbitraries.integers().between(0x80, 0xFFFF)
                        .filter(c -> c < Character.MIN_SURROGATE || c > Character.MAX_SURROGATE)),
                Tuple.of(2, Arbitraries.integers().between(Character.MIN_SUPPLEMENTARY_CODE_POINT,
                        Character.MAX_CODE_POINT)));
    }

    private static Arbitrary<String> surrogate() {
        return Arbitraries.chars().range(Character.MIN_SURROGATE, Character.MAX_SURROGATE).map(String::valueOf);
    }

    private static Arbitrary<String> supplementary() {
        return Arbitraries.integers().between(Character.MIN_SUPPLEMENTARY_CODE_POINT, Character.MAX_CODE_POINT)
                .map(cp -> new String(Character.toChars(cp)));
    }

    /** A JSON value as text; {@code validOnly} leaves out what is not JSON (bad literals, bad escapes, ...). */
    private static Arbitrary<String> value(int depth, boolean validOnly) {
        Arbitrary<String> scalar = scalar(validOnly);
        if (depth == 0) {
            return scalar;
        }
        Arbitrary<String> inner = value(depth - 1, validOnly);
        return Arbitraries.frequencyOf(
                Tuple.of(5, scalar),
                Tuple.of(1, Combinators.combine(inner.list().ofMaxSize(4), Arbitraries.longs())
                        .as((items, layout) -> joined("[", items, "]", new Random(layout)))),
                Tuple.of(2, object(inner, validOnly)));
    }

    private static Arbitrary<String> object(Arbitrary<String> values, boolean validOnly) {
        Arbitrary<String> member = Combinators.combine(key(validOnly), whitespace0(), values)
                .as((k, w, v) -> k + w + ":" + v);
        ListArbitrary<String> members = member.list().ofMaxSize(5);
        if (validOnly) {
            // Valid JSON has no duplicate key; random keys may still repeat one where validity does not matter.
            members = members.uniqueElements(m -> m.substring(0, m.indexOf(':')).strip());
        }
        return Combinators.combine(members, Arbitraries.longs())
                .as((list, layout) -> joined("{", list, "}", new Random(layout)));
    }

    private static Arbitrary<String> key(boolean validOnly) {
        if (validOnly) {
            // Plain keys, none of the protocol's, so that uniqueness on the raw text is uniqueness of the key.
            return Arbitraries.strings().alpha().ofMinLength(1).ofMaxLength(6)
                    .filter(k -> !Set.of("type", "text", "clientOffset").contains(k))
                    .map(k -> '"' + k + '"');
        }
        return Arbitraries.frequencyOf(
                Tuple.of(4, Arbitraries.of("\"type\"", "\"text\"", "\"clientOffset\"", "\"t\\u0065xt\"",
                        "\"typ\\u0065\"", "\"clientOffset \"", "\"Type\"", "\"\"")),
                Tuple.of(3, stringLiteral(false)),
                Tuple.of(1, Arbitraries.of("type", "'text'", "1", "null")));
    }

    private static Arbitrary<String> scalar(boolean validOnly) {
        Arbitrary<String> literal = Arbitraries.of("true", "false", "null");
        if (validOnly) {
            return Arbitraries.frequencyOf(
                    Tuple.of(3, stringLiteral(true)),
                    Tuple.of(2, number(30)),
                    Tuple.of(1, literal));
        }
        return Arbitraries.frequencyOf(
                Tuple.of(3, stringLiteral(false)),
                Tuple.of(2, number(1_200)),
                Tuple.of(1, literal),
                Tuple.of(1, Arbitraries.of("tru", "nul", "NaN", "Infinity", "-Infinity", "'single'", "undefined",
                        "01", "1.", ".5", "+1", "0x1F", "1e", "--1", "1e+", "\"unterminated", "")));
    }

    /** Integers and decimals, sometimes with many digits or a huge exponent. */
    private static Arbitrary<String> number(int maxDigits) {
        Arbitrary<String> digits = Arbitraries.frequencyOf(
                Tuple.of(6, Arbitraries.strings().numeric().ofMinLength(1).ofMaxLength(6)),
                Tuple.of(1, Arbitraries.strings().numeric().ofMinLength(18).ofMaxLength(maxDigits)));
        return Combinators.combine(Arbitraries.of("", "-"), digits, Arbitraries.of("", ".5", ".0000001"),
                        Arbitraries.of("", "e10", "E-7", "e999999999", "e+400", "e-400"))
                .as((sign, integer, fraction, exponent) -> {
                    String noLeadingZeros = integer.length() > 1 ? integer.replaceFirst("^0+(?=.)", "") : integer;
                    return sign + noLeadingZeros + fraction + exponent;
                });
    }

    /** A JSON string literal of arbitrary content and escapes; {@code validOnly} leaves out bad escapes. */
    private static Arbitrary<String> stringLiteral(boolean validOnly) {
        List<Tuple.Tuple2<Integer, Arbitrary<String>>> pieces = new ArrayList<>(List.of(
                Tuple.of(8, Arbitraries.strings().alpha().numeric().withChars(" -_.").ofMinLength(1).ofMaxLength(4)),
                Tuple.of(2, Arbitraries.of("\\n", "\\t", "\\\"", "\\\\", "\\/", "\\b", "\\f", "\\r")),
                Tuple.of(2, Arbitraries.chars().all().map(c -> String.format("\\u%04X", (int) c))),
                Tuple.of(1, Arbitraries.just("chat message")),
                Tuple.of(2, Arbitraries.chars().range('\u00A0', '\uFFFF')
                        .filter(c -> !Character.isSurrogate(c)).map(String::valueOf)),
                Tuple.of(1, supplementary()),
                Tuple.of(1, surrogate())));
        if (!validOnly) {
            pieces.add(Tuple.of(1, Arbitraries.of("\\x", "\\u12", "\\u00g0", "\u0000", "\u001f", "\n", "\\", "\\U0041")));
        }
        return Arbitraries.frequencyOf(pieces).list().ofMaxSize(8).map(list -> '"' + String.join("", list) + '"');
    }

    /** A string literal of {@code min..max} code points, each written raw or escaped, rarely a lone surrogate. */
    private static Arbitrary<String> textLiteral(int min, int max) {
        Arbitrary<String> piece = Arbitraries.frequencyOf(
                Tuple.of(60, Combinators.combine(codePoint(), Arbitraries.longs())
                        .as((cp, seed) -> encodeCodePoint(cp, new Random(seed)))),
                Tuple.of(1, Arbitraries.chars().range(Character.MIN_SURROGATE, Character.MAX_SURROGATE)
                        .map(c -> String.format("\\u%04x", (int) c))),
                Tuple.of(1, surrogate()));
        return piece.list().ofMinSize(min).ofMaxSize(max).map(list -> '"' + String.join("", list) + '"');
    }

    private static Arbitrary<String> member(String key, Arbitrary<String> value) {
        return Combinators.combine(whitespace0(), value).as((w, v) -> key + w + ":" + w + v);
    }

    private static Arbitrary<String> whitespace0() {
        return Arbitraries.strings().withChars(" \t\r\n").ofMaxLength(2);
    }

    /** The items between the brackets, separated by commas, with random JSON whitespace here and there. */
    private static String joined(String open, List<String> items, String close, Random random) {
        StringBuilder out = new StringBuilder(open).append(gap(random));
        for (int i = 0; i < items.size(); i++) {
            out.append(i == 0 ? "" : ",").append(items.get(i)).append(gap(random));
        }
        return out.append(close).toString();
    }

    private static String gap(Random random) {
        return random.nextInt(4) > 0 ? "" : List.of(" ", "\n", "\t", "\r\n", "  ").get(random.nextInt(5));
    }

    private static String string(List<Integer> codePoints) {
        StringBuilder out = new StringBuilder(codePoints.size() * 2);
        codePoints.forEach(out::appendCodePoint);
        return out.toString();
    }

    /** {@code value} as a JSON string literal, each code point written raw or escaped at random. */
    private static String encode(String value, Random random) {
        StringBuilder out = new StringBuilder(value.length() + 8).append('"');
        value.codePoints().forEach(cp -> out.append(encodeCodePoint(cp, random)));
        return out.append('"').toString();
    }

    private static String encodeCodePoint(int cp, Random random) {
        boolean mustEscape = cp < 0x20 || cp == '"' || cp == '\\';
        int style = random.nextInt(4);
        if (!mustEscape && style < 2) {
            return new String(Character.toChars(cp));
        }
        if (style == 2) {
            switch (cp) {
                case '"': return "\\\"";
                case '\\': return "\\\\";
                case '/': return "\\/";
                case '\n': return "\\n";
                case '\r': return "\\r";
                case '\t': return "\\t";
                case '\b': return "\\b";
                case '\f': return "\\f";
                default: break;
            }
        }
        StringBuilder escaped = new StringBuilder(12);
        for (char c : Character.toChars(cp)) {
            escaped.append(String.format(random.nextBoolean() ? "\\u%04x" : "\\u%04X", (int) c));
        }
        return escaped.toString();
    }

    record ValidFrame(String json, String text, String clientOffset) {
        @Override
        public String toString() {
            return shown(json);
        }
    }

    enum EditKind { DELETE, INSERT, REPLACE }

    /** One change at a position (taken modulo the length) of a frame. */
    record Edit(EditKind kind, int position, String piece) {
        void apply(StringBuilder frame) {
            int at = frame.length() == 0 ? 0 : position % frame.length();
            switch (kind) {
                case DELETE -> {
                    if (frame.length() > 0) {
                        frame.deleteCharAt(at);
                    }
                }
                case INSERT -> frame.insert(at, piece);
                case REPLACE -> {
                    if (frame.length() > 0) {
                        frame.replace(at, at + 1, piece);
                    } else {
                        frame.append(piece);
                    }
                }
            }
        }

        @Override
        public String toString() {
            return kind + "@" + position + ":" + shown(piece);
        }
    }
}
