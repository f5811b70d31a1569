package chat.config;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import chat.config.ChatConfig.Durability;

import java.nio.file.Path;
import java.nio.file.Files;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/** Every setting: its default, how a value is read (trimmed, blank means the default), and a value out of bounds or
 * not a number stops the start with a message naming the setting and its environment variable. */
class ChatConfigTest {

    private static void assertRejected(String setting, String environment, String value) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ChatConfig.of(Map.of(setting, value)));
        assertTrue(e.getMessage().contains(setting), e.getMessage());
        assertTrue(e.getMessage().contains(environment), e.getMessage());
    }

    @Test
    void defaults() {
        ChatConfig config = ChatConfig.of(Map.of());
        assertEquals(Durability.FULL, config.durability());
        assertEquals(4, config.readerPoolSize());
        assertEquals(5_000, config.busyTimeoutMillis());
        assertEquals(65_536, config.maxFrameBytes());
        assertEquals(10_000, config.maxTextLength());
        assertEquals(128, config.maxClientOffsetLength());
        assertEquals(500, config.replayPageSize());
        assertEquals(16_384, config.writeQueueCapacity());
        assertEquals(1_024, config.writeBatchMax());
        assertEquals(10_000, config.outboxMaxFrames());
        assertEquals(8L << 20, config.outboxMaxChars());
    }

    @Test
    void defaultDatabasePathIsDataChatDbUnderAnAbsoluteBase() {
        Path path = ChatConfig.of(Map.of()).databasePath();
        assertTrue(path.isAbsolute(), path::toString);
        assertTrue(path.endsWith(Path.of("data", "chat.db")), path::toString);
    }

    @Test
    void blankValuesMeanTheDefault() {
        ChatConfig config = ChatConfig.of(Map.of("chat.db.poolSize", "  ", "chat.db.synchronous", ""));
        assertEquals(4, config.readerPoolSize());
        assertEquals(Durability.FULL, config.durability());
    }

    @Test
    void valuesAreParsed() {
        ChatConfig config = ChatConfig.of(Map.ofEntries(
                Map.entry("chat.db.synchronous", "NORMAL"),
                Map.entry("chat.db.poolSize", "8"),
                Map.entry("chat.db.busyTimeoutMs", "250"),
                Map.entry("chat.maxFrameBytes", "2048"),
                Map.entry("chat.maxTextLength", "300"),
                Map.entry("chat.maxClientOffsetLength", "40"),
                Map.entry("chat.replayPageSize", "50"),
                Map.entry("chat.writeQueueCapacity", "100"),
                Map.entry("chat.writeBatchMax", "16"),
                Map.entry("chat.outboxMaxFrames", "32"),
                Map.entry("chat.outboxMaxChars", "100000")));
        assertEquals(Durability.NORMAL, config.durability());
        assertEquals(8, config.readerPoolSize());
        assertEquals(250, config.busyTimeoutMillis());
        assertEquals(2048, config.maxFrameBytes());
        assertEquals(300, config.maxTextLength());
        assertEquals(40, config.maxClientOffsetLength());
        assertEquals(50, config.replayPageSize());
        assertEquals(100, config.writeQueueCapacity());
        assertEquals(16, config.writeBatchMax());
        assertEquals(32, config.outboxMaxFrames());
        assertEquals(100_000L, config.outboxMaxChars());
    }

    @Test
    void valuesAreTrimmed() {
        assertEquals(12, ChatConfig.of(Map.of("chat.db.poolSize", " 12 ")).readerPoolSize());
    }

    @Test
    void databasePathIsMadeAbsolute(@TempDir Path dir) {
        Path file = dir.resolve("sub").resolve("chat.db");
        assertEquals(file, ChatConfig.of(Map.of("chat.db.path", file.toString())).databasePath());
        Path relative = ChatConfig.of(Map.of("chat.db.path", "rel/chat.db")).databasePath();
        assertEquals(Path.of("rel/chat.db").toAbsolutePath(), relative);
    }

    @Test
    void aPostgresUrlChoosesPostgresAndNoUrlTheSqliteFile() {
        ChatConfig postgres = ChatConfig.of(Map.of("chat.db.url", "jdbc:postgresql://db.example:5432/chat",
                "chat.db.user", "chat", "chat.db.password", "s3cret"));
        assertEquals("jdbc:postgresql://db.example:5432/chat", postgres.postgresUrl());
        assertEquals("chat", postgres.databaseUser());
        assertEquals("s3cret", postgres.databasePassword());
        assertNull(ChatConfig.of(Map.of()).postgresUrl());
        assertNull(ChatConfig.of(Map.of()).databasePassword());
    }

    @Test
    void anSqliteUrlNamesTheDatabaseFile(@TempDir Path dir) {
        ChatConfig config = ChatConfig.of(Map.of("chat.db.url", "jdbc:sqlite:" + dir.resolve("x.db")));
        assertNull(config.postgresUrl());
        assertEquals(dir.resolve("x.db"), config.databasePath());
    }

    @Test
    void anotherDatabaseUrlIsRefusedNamingTheSetting() {
        for (String url : List.of("jdbc:mysql://db/chat", "postgresql://db/chat", "jdbc:sqlite:")) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> ChatConfig.of(Map.of("chat.db.url", url)));
            assertTrue(e.getMessage().contains("chat.db.url") && e.getMessage().contains("CHAT_DB_URL")
                    && e.getMessage().contains(url), e.getMessage());
        }
    }

    @Test
    void thePasswordIsReadFromItsFileWithoutTheTrailingLineBreak(@TempDir Path dir) throws Exception {
        Path secret = Files.writeString(dir.resolve("password"), "p w\n");
        assertEquals("p w", ChatConfig.of(Map.of("chat.db.passwordFile", secret.toString())).databasePassword());
        IllegalArgumentException both = assertThrows(IllegalArgumentException.class, () -> ChatConfig.of(
                Map.of("chat.db.passwordFile", secret.toString(), "chat.db.password", "x")));
        assertTrue(both.getMessage().contains("chat.db.password") && both.getMessage().contains("only one"),
                both.getMessage());
        IllegalArgumentException missing = assertThrows(IllegalArgumentException.class, () -> ChatConfig.of(
                Map.of("chat.db.passwordFile", dir.resolve("absent").toString())));
        assertTrue(missing.getMessage().contains("CHAT_DB_PASSWORD_FILE"), missing.getMessage());
    }

    static Stream<Arguments> bounds() {
        return Stream.of(
                Arguments.of("chat.db.poolSize", 1, 64),
                Arguments.of("chat.db.busyTimeoutMs", 0, 600_000),
                Arguments.of("chat.maxFrameBytes", 1_024, 16 << 20),
                Arguments.of("chat.maxTextLength", 1, 1 << 20),
                Arguments.of("chat.maxClientOffsetLength", 36, 1_024),
                Arguments.of("chat.replayPageSize", 1, 100_000),
                Arguments.of("chat.writeQueueCapacity", 1, 1 << 24),
                Arguments.of("chat.writeBatchMax", 1, 1 << 16),
                Arguments.of("chat.outboxMaxFrames", 16, 1 << 24),
                Arguments.of("chat.outboxMaxChars", 64 << 10, Integer.MAX_VALUE));
    }

    @ParameterizedTest
    @MethodSource("bounds")
    void boundsAreAccepted(String setting, int min, int max) {
        assertDoesNotThrow(() -> ChatConfig.of(Map.of(setting, String.valueOf(min))));
        assertDoesNotThrow(() -> ChatConfig.of(Map.of(setting, String.valueOf(max))));
    }

    @Test
    void boundsAreStoredAsGiven() {
        assertEquals(1, ChatConfig.of(Map.of("chat.db.poolSize", "1")).readerPoolSize());
        assertEquals(64, ChatConfig.of(Map.of("chat.db.poolSize", "64")).readerPoolSize());
        assertEquals(0, ChatConfig.of(Map.of("chat.db.busyTimeoutMs", "0")).busyTimeoutMillis());
        assertEquals(Integer.MAX_VALUE,
                ChatConfig.of(Map.of("chat.outboxMaxChars", String.valueOf(Integer.MAX_VALUE))).outboxMaxChars());
    }

    @ParameterizedTest
    @MethodSource("bounds")
    void belowMinimumIsRejectedNamingSettingAndEnvironment(String setting, int min, int max) {
        assertRejected(setting, ChatConfig.environmentName(setting), String.valueOf((long) min - 1));
    }

    @ParameterizedTest
    @MethodSource("bounds")
    void aboveMaximumIsRejectedNamingSettingAndEnvironment(String setting, int min, int max) {
        assertRejected(setting, ChatConfig.environmentName(setting), String.valueOf((long) max + 1));
    }

    @ParameterizedTest
    @ValueSource(strings = {"abc", "1.5", "4x", "0x10", "1e3", "99999999999"})
    void nonIntegerIsRejectedNamingSettingAndEnvironment(String value) {
        assertRejected("chat.db.poolSize", "CHAT_DB_POOL_SIZE", value);
    }

    @Test
    void rejectionMessageNamesTheOffendingValue() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ChatConfig.of(Map.of("chat.maxFrameBytes", "12")));
        assertTrue(e.getMessage().contains("chat.maxFrameBytes"), e.getMessage());
        assertTrue(e.getMessage().contains("CHAT_MAX_FRAME_BYTES"), e.getMessage());
        assertTrue(e.getMessage().contains("'12'"), e.getMessage());
    }

    @ParameterizedTest
    @ValueSource(strings = {"FULL", "full", "Full", " fUlL "})
    void durabilityFullIsCaseInsensitive(String value) {
        assertEquals(Durability.FULL, ChatConfig.of(Map.of("chat.db.synchronous", value)).durability());
    }

    @ParameterizedTest
    @ValueSource(strings = {"NORMAL", "normal", "Normal"})
    void durabilityNormalIsCaseInsensitive(String value) {
        assertEquals(Durability.NORMAL, ChatConfig.of(Map.of("chat.db.synchronous", value)).durability());
    }

    @ParameterizedTest
    @ValueSource(strings = {"OFF", "EXTRA", "1", "fullest"})
    void otherDurabilitiesAreRejected(String value) {
        assertRejected("chat.db.synchronous", "CHAT_DB_SYNCHRONOUS", value);
    }

    @Test
    void environmentNameOfPoolSize() {
        assertEquals("CHAT_DB_POOL_SIZE", ChatConfig.environmentName("chat.db.poolSize"));
    }

    @Test
    void environmentNameOfMaxFrameBytes() {
        assertEquals("CHAT_MAX_FRAME_BYTES", ChatConfig.environmentName("chat.maxFrameBytes"));
    }

    @Test
    void environmentNameOfDottedLowerCase() {
        assertEquals("CHAT_DB_PATH", ChatConfig.environmentName("chat.db.path"));
    }

    @Test
    void loadPrefersTheContextParameterOverASystemProperty() {
        String previous = System.getProperty("chat.db.poolSize");
        System.setProperty("chat.db.poolSize", "7");
        try {
            ChatConfig config = ChatConfig.load(name -> "chat.db.poolSize".equals(name) ? "3" : null);
            assertEquals(3, config.readerPoolSize());
        } finally {
            restore("chat.db.poolSize", previous);
        }
    }

    @Test
    void loadFallsBackToTheSystemProperty() {
        String previous = System.getProperty("chat.replayPageSize");
        System.setProperty("chat.replayPageSize", "77");
        try {
            assertEquals(77, ChatConfig.load(name -> null).replayPageSize());
        } finally {
            restore("chat.replayPageSize", previous);
        }
    }

    @Test
    void loadValidatesTheContextParameter() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ChatConfig.load(name -> "chat.writeBatchMax".equals(name) ? "0" : null));
        assertTrue(e.getMessage().contains("chat.writeBatchMax"), e.getMessage());
        assertTrue(e.getMessage().contains("CHAT_WRITE_BATCH_MAX"), e.getMessage());
    }

    private static void restore(String name, String previous) {
        if (previous == null) {
            System.clearProperty(name);
        } else {
            System.setProperty(name, previous);
        }
    }

    @Test
    void roomSettingsHaveTheirDefaultsAndAreValidated() {
        ChatConfig config = ChatConfig.of(Map.of());
        assertEquals(ChatConfig.RoomCreation.ANYONE, config.roomCreation());
        assertEquals(java.util.List.of(), config.rooms());
        assertEquals(50, config.maxRoomsPerConnection());
        assertEquals(10_000, config.maxRooms());
        assertEquals(256, config.roomWindows());
        assertFalse(config.requireLogin());
        assertTrue(ChatConfig.of(Map.of("chat.requireLogin", "true")).requireLogin());
        assertEquals(java.util.List.of(), config.loginRoles());
        ChatConfig roles = ChatConfig.of(Map.of("chat.loginRoles", "chat-user, ops"));
        assertEquals(java.util.List.of("chat-user", "ops"), roles.loginRoles());
        assertTrue(roles.requireLogin(), "a login the container asks for is one the handshake needs");
        assertRejected("chat.loginRoles", "CHAT_LOGIN_ROLES", "chat-user,,ops");
        assertEquals(null, config.trustedUserHeader());
        assertTrue(config.trustedProxies().matcher("127.0.0.1").matches());
        assertFalse(config.trustedProxies().matcher("10.0.0.1").matches());
        ChatConfig sso = ChatConfig.of(Map.of("chat.trustedUserHeader", "X-Forwarded-User",
                "chat.trustedProxies", "10\\.0\\.0\\.\\d+"));
        assertEquals("X-Forwarded-User", sso.trustedUserHeader());
        assertTrue(sso.trustedProxies().matcher("10.0.0.9").matches());
        assertRejected("chat.trustedUserHeader", "CHAT_TRUSTED_USER_HEADER", "X User");
        assertRejected("chat.trustedProxies", "CHAT_TRUSTED_PROXIES", "10.(");
        assertEquals(200, config.roomWindowMessages());
        assertEquals(32_768, config.roomWindowChars());
        ChatConfig listed = ChatConfig.of(Map.of("chat.roomCreation", "LISTED", "chat.rooms", " ops , dev"));
        assertEquals(ChatConfig.RoomCreation.LISTED, listed.roomCreation());
        assertEquals(java.util.List.of("ops", "dev"), listed.rooms());
        assertRejected("chat.roomCreation", "CHAT_ROOM_CREATION", "everyone");
        assertRejected("chat.rooms", "CHAT_ROOMS", "ops,Bad Room");
        assertRejected("chat.maxRoomsPerConnection", "CHAT_MAX_ROOMS_PER_CONNECTION", "0");
        assertRejected("chat.maxRooms", "CHAT_MAX_ROOMS", "0");
        assertEquals(500, config.presenceMax());
        assertEquals(10, config.presenceGraceSeconds());
        assertRejected("chat.presenceMax", "CHAT_PRESENCE_MAX", "0");
        assertRejected("chat.presenceGraceSeconds", "CHAT_PRESENCE_GRACE_SECONDS", "-1");
        assertRejected("chat.roomWindows", "CHAT_ROOM_WINDOWS", "-1");
        assertRejected("chat.roomWindowMessages", "CHAT_ROOM_WINDOW_MESSAGES", "many");
        assertRejected("chat.roomWindowChars", "CHAT_ROOM_WINDOW_CHARS", "-5");
        assertRejected("chat.roomCreation", "CHAT_ROOMS", "listed");
    }
}
