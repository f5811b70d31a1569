package chat.config;

import chat.protocol.Rooms;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * Every setting of the chat server, read once at start-up.
 *
 * <p>A setting named {@code chat.maxFrameBytes} is looked up, first match wins, as a context
 * parameter of the webapp ({@code <Parameter>} in the context descriptor), as a JVM system property
 * of the same name, and as the environment variable {@code CHAT_MAX_FRAME_BYTES}.
 */
public final class ChatConfig {

    static final String POSTGRES_SCHEME = "jdbc:postgresql:";
    static final String SQLITE_SCHEME = "jdbc:sqlite:";

    /** Whose user header is believed when chat.trustedProxies is unset: a proxy on the same host. */
    static final String LOOPBACK_PROXIES = "127\\.\\d{1,3}\\.\\d{1,3}\\.\\d{1,3}|0:0:0:0:0:0:0:1|::1";

    public enum Durability { FULL, NORMAL }

    private final Path databasePath;
    /** {@code jdbc:postgresql://...} when several nodes share the chat in PostgreSQL; null: SQLite. */
    private final String postgresUrl;
    private final String databaseUser;
    private final String databasePassword;
    private final int clusterPollMillis;
    private final Durability durability;
    private final int readerPoolSize;
    private final int busyTimeoutMillis;
    private final int maxFrameBytes;
    private final int maxTextLength;
    private final int maxClientOffsetLength;
    private final int replayPageSize;
    private final int replayPageChars;
    private final int replayMemoryMax;
    private final int stalledReplaySeconds;
    private final int recoveryWindowMessages;
    private final long recoveryWindowChars;
    private final int roomWindows;
    private final int roomWindowMessages;
    private final long roomWindowChars;
    private final int writeQueueCapacity;
    private final int writeQueueSharePercent;
    private final long maxStoredBytesPerAddressPerDay;
    private final int retentionDays;
    private final long retentionMaxBytes;
    private final int writeBatchMax;
    private final int fanoutThreads;
    private final int outboxMaxFrames;
    private final long outboxMaxChars;
    private final int pingIntervalSeconds;
    private final int controlFrameTimeoutMillis;
    private final int messagesPerSecond;
    private final int messageBurst;
    private final int maxConnections;
    private final int maxConnectionsPerAddress;
    private final List<String> publicOrigins;
    private final List<String> allowedOrigins;
    private final RoomCreation roomCreation;
    private final List<String> rooms;
    private final int maxRoomsPerConnection;
    private final int presenceMax;
    private final int presenceGraceSeconds;
    private final int presenceNodeTimeoutSeconds;
    private final int maxRooms;
    private final boolean allowMissingOrigin;
    private final boolean requireLogin;
    private final List<String> loginRoles;
    private final String trustedUserHeader;
    private final Pattern trustedProxies;

    private ChatConfig(Reader reader) {
        String url = reader.databaseUrl("chat.db.url");
        this.postgresUrl = url != null && url.startsWith(POSTGRES_SCHEME) ? url : null;
        this.databasePath = url != null && url.startsWith(SQLITE_SCHEME)
                ? Path.of(url.substring(SQLITE_SCHEME.length())).toAbsolutePath()
                : reader.path("chat.db.path", defaultDatabasePath());
        this.databaseUser = reader.raw("chat.db.user");
        this.databasePassword = reader.secret("chat.db.password", "chat.db.passwordFile");
        this.clusterPollMillis = reader.integer("chat.db.pollMillis", 1_000, 50, 600_000);
        this.durability = reader.durability("chat.db.synchronous", Durability.FULL);
        this.readerPoolSize = reader.integer("chat.db.poolSize", 4, 1, 64);
        this.busyTimeoutMillis = reader.integer("chat.db.busyTimeoutMs", 5_000, 0, 600_000);
        this.maxFrameBytes = reader.integer("chat.maxFrameBytes", 65_536, 1_024, 16 << 20);
        this.maxTextLength = reader.integer("chat.maxTextLength", 10_000, 1, 1 << 20);
        // At least 36: the page's clientOffsets are UUIDs.
        this.maxClientOffsetLength = reader.integer("chat.maxClientOffsetLength", 128, 36, 1_024);
        this.replayPageSize = reader.integer("chat.replayPageSize", 500, 1, 100_000);
        this.replayPageChars = reader.integer("chat.replayPageChars", 256 << 10, 1 << 10, 64 << 20);
        this.replayMemoryMax = reader.integer("chat.replayMemoryMax",
                (int) Math.min(Integer.MAX_VALUE, Runtime.getRuntime().maxMemory() / 4), 1 << 20, Integer.MAX_VALUE);
        this.stalledReplaySeconds = reader.integer("chat.stalledReplaySeconds", 30, 1, 3_600);
        this.recoveryWindowMessages = reader.integer("chat.recoveryWindowMessages", 10_000, 0, 1 << 24);
        this.recoveryWindowChars = reader.integer("chat.recoveryWindowChars", 8 << 20, 0, Integer.MAX_VALUE);
        this.roomWindows = reader.integer("chat.roomWindows", 256, 0, 1_000_000);
        this.roomWindowMessages = reader.integer("chat.roomWindowMessages", 200, 0, 1 << 20);
        this.roomWindowChars = reader.integer("chat.roomWindowChars", 32_768, 0, Integer.MAX_VALUE);
        this.writeQueueCapacity = reader.integer("chat.writeQueueCapacity", 16_384, 1, 1 << 24);
        this.writeQueueSharePercent = reader.integer("chat.writeQueueShare", 25, 1, 100);
        this.retentionDays = reader.integer("chat.retentionDays", 0, 0, 100_000);
        this.retentionMaxBytes = reader.longInteger("chat.retentionMaxBytes", 0, 0, Long.MAX_VALUE);
        this.maxStoredBytesPerAddressPerDay = reader.longInteger("chat.maxStoredBytesPerAddressPerDay", 50 << 20, 0,
                Long.MAX_VALUE);
        this.writeBatchMax = reader.integer("chat.writeBatchMax", 1_024, 1, 1 << 16);
        this.fanoutThreads = reader.integer("chat.fanoutThreads",
                Math.min(4, Runtime.getRuntime().availableProcessors()), 1, 64);
        this.outboxMaxFrames = reader.integer("chat.outboxMaxFrames", 10_000, 16, 1 << 24);
        this.outboxMaxChars = reader.integer("chat.outboxMaxChars", 8 << 20, 64 << 10, Integer.MAX_VALUE);
        this.pingIntervalSeconds = reader.integer("chat.pingIntervalSeconds", 25, 0, 3_600);
        this.controlFrameTimeoutMillis = reader.integer("chat.controlFrameTimeoutMillis", 2_000, 100, 60_000);
        this.messagesPerSecond = reader.integer("chat.messagesPerSecond", 20, 0, 1_000_000);
        this.messageBurst = reader.integer("chat.messageBurst", 60, 1, 1_000_000);
        this.maxConnections = reader.integer("chat.maxConnections", 20_000, 1, 10_000_000);
        this.maxConnectionsPerAddress = reader.integer("chat.maxConnectionsPerAddress", 100, 1, 10_000_000);
        this.publicOrigins = reader.origins("chat.publicOrigins");
        this.allowedOrigins = reader.origins("chat.allowedOrigins");
        this.allowMissingOrigin = reader.bool("chat.allowMissingOrigin", true);
        this.loginRoles = reader.roles("chat.loginRoles");
        this.requireLogin = reader.bool("chat.requireLogin", false) || !loginRoles.isEmpty();
        this.trustedUserHeader = reader.headerName("chat.trustedUserHeader");
        this.trustedProxies = reader.pattern("chat.trustedProxies", LOOPBACK_PROXIES);
        this.roomCreation = reader.roomCreation("chat.roomCreation", RoomCreation.ANYONE);
        this.rooms = reader.rooms("chat.rooms");
        if (roomCreation == RoomCreation.LISTED && rooms.isEmpty()) {
            throw new IllegalArgumentException("Setting chat.roomCreation (environment CHAT_ROOM_CREATION) is listed,"
                    + " but chat.rooms (environment CHAT_ROOMS) lists no room: name the rooms that exist");
        }
        this.maxRoomsPerConnection = reader.integer("chat.maxRoomsPerConnection", 50, 1, 10_000);
        this.maxRooms = reader.integer("chat.maxRooms", 10_000, 1, 10_000_000);
        this.presenceMax = reader.integer("chat.presenceMax", 500, 1, 100_000);
        this.presenceGraceSeconds = reader.integer("chat.presenceGraceSeconds", 10, 0, 3_600);
        this.presenceNodeTimeoutSeconds = reader.integer("chat.presenceNodeTimeoutSeconds", 25, 3, 3_600);
    }

    /** Who makes rooms: anyone, by joining one that does not exist, or only the operator, in chat.rooms. */
    public enum RoomCreation { ANYONE, LISTED }

    public RoomCreation roomCreation() { return roomCreation; }
    /** The rooms that exist from the start; with {@link RoomCreation#LISTED}, the only ones. */
    public List<String> rooms() { return rooms; }
    public int maxRoomsPerConnection() { return maxRoomsPerConnection; }
    /** Rooms the chat holds at the most; joining a new one past that is refused. */
    public int maxRooms() { return maxRooms; }
    /** People a room's presence lists at most; a room with more is told only how many. */
    public int presenceMax() { return presenceMax; }
    /** How long a person whose last connection to a room dropped stays listed, so that a reconnect does not flap. */
    public int presenceGraceSeconds() { return presenceGraceSeconds; }
    /**
     * With several nodes, how long a node may go unheard before its people count as gone; each node says who it
     * lists every two fifths of it.
     */
    public int presenceNodeTimeoutSeconds() { return presenceNodeTimeoutSeconds; }

    /** Context parameters first, then system properties, then the environment. */
    public static ChatConfig load(Function<String, String> contextParameters) {
        return new ChatConfig(new Reader(name -> {
            String value = contextParameters.apply(name);
            if (isBlank(value)) {
                value = System.getProperty(name);
            }
            if (isBlank(value)) {
                value = System.getenv(environmentName(name));
            }
            return value;
        }));
    }

    private static boolean isBlank(String value) {
        return value == null || value.isBlank();
    }

    /** Only the given values, defaults for the rest. */
    public static ChatConfig of(Map<String, String> values) {
        return new ChatConfig(new Reader(values::get));
    }

    /** {@code chat.db.poolSize} becomes {@code CHAT_DB_POOL_SIZE}. */
    public static String environmentName(String setting) {
        StringBuilder name = new StringBuilder(setting.length() + 8);
        for (int i = 0; i < setting.length(); i++) {
            char c = setting.charAt(i);
            if (c == '.') {
                name.append('_');
            } else if (Character.isUpperCase(c)) {
                name.append('_').append(c);
            } else {
                name.append(Character.toUpperCase(c));
            }
        }
        return name.toString();
    }

    private static Path defaultDatabasePath() {
        String catalinaBase = System.getProperty("catalina.base");
        Path base = catalinaBase != null ? Path.of(catalinaBase) : Path.of(System.getProperty("user.dir"));
        return base.resolve("data").resolve("chat.db");
    }

    public Path databasePath() { return databasePath; }
    /** The PostgreSQL database several nodes share ({@code chat.db.url}), or null for the embedded SQLite file. */
    public String postgresUrl() { return postgresUrl; }
    /** The database user, or null to leave it to the URL. */
    public String databaseUser() { return databaseUser; }
    /** The database password, from {@code chat.db.password} or the file {@code chat.db.passwordFile}; or null. */
    public String databasePassword() { return databasePassword; }
    /**
     * How often a node on PostgreSQL looks at every room's newest offset besides its notifications, in case one
     * was lost; also how long it waits for its listening connection before checking it.
     */
    public int clusterPollMillis() { return clusterPollMillis; }
    public Durability durability() { return durability; }
    public int readerPoolSize() { return readerPoolSize; }
    public int busyTimeoutMillis() { return busyTimeoutMillis; }
    public int maxFrameBytes() { return maxFrameBytes; }
    public int maxTextLength() { return maxTextLength; }
    public int maxClientOffsetLength() { return maxClientOffsetLength; }
    public int replayPageSize() { return replayPageSize; }
    /** A replay page ends once its frames reach this many characters. */
    public int replayPageChars() { return replayPageChars; }
    /** Bytes of replay pages read from the store that the whole server holds at most; more replays wait. */
    public int replayMemoryMax() { return replayMemoryMax; }
    /** A replay page not sent within this many seconds closes its connection (1008). */
    public int stalledReplaySeconds() { return stalledReplaySeconds; }
    /** How many of the newest messages are kept in memory for replays; 0: every replay reads the store. */
    public int recoveryWindowMessages() { return recoveryWindowMessages; }
    /** The most characters of encoded frames the recovery window holds; the oldest leave first. */
    public long recoveryWindowChars() { return recoveryWindowChars; }
    /** How many rooms other than general keep a recovery window: those written to last. */
    public int roomWindows() { return roomWindows; }
    public int roomWindowMessages() { return roomWindowMessages; }
    public long roomWindowChars() { return roomWindowChars; }
    public int writeQueueCapacity() { return writeQueueCapacity; }
    /** Percent of the write queue one client address may hold. */
    public int writeQueueSharePercent() { return writeQueueSharePercent; }
    /** Days a message is kept; 0: for ever. */
    public int retentionDays() { return retentionDays; }
    /** Bytes the database's data may take before the oldest messages are deleted; 0: no limit. */
    public long retentionMaxBytes() { return retentionMaxBytes; }
    /** Bytes of text one client address may store a day; 0: no quota. */
    public long maxStoredBytesPerAddressPerDay() { return maxStoredBytesPerAddressPerDay; }
    public int writeBatchMax() { return writeBatchMax; }
    /** Threads that hand committed messages to the connections, each to its share of them. */
    public int fanoutThreads() { return fanoutThreads; }
    public int outboxMaxFrames() { return outboxMaxFrames; }
    public long outboxMaxChars() { return outboxMaxChars; }
    /** 0: no pings. */
    public int pingIntervalSeconds() { return pingIntervalSeconds; }
    /** How long a ping or pong may wait behind the frame in flight before the session is closed. */
    public int controlFrameTimeoutMillis() { return controlFrameTimeoutMillis; }
    /** Sustained chat messages one client address (all its connections together) may send per second; 0: no limit. */
    public int messagesPerSecond() { return messagesPerSecond; }
    /** Messages one client address may send at once before {@link #messagesPerSecond()} applies. */
    public int messageBurst() { return messageBurst; }
    public int maxConnections() { return maxConnections; }
    public int maxConnectionsPerAddress() { return maxConnectionsPerAddress; }
    /** Origins allowed to open the chat besides the page's own; normalised (scheme://host[:port], lower case). */
    /** The origins the chat is served under; empty: the request's own. */
    public List<String> publicOrigins() { return publicOrigins; }
    public List<String> allowedOrigins() { return allowedOrigins; }
    /** Whether a handshake without Origin (not from a browser) is accepted. */
    public boolean allowMissingOrigin() { return allowMissingOrigin; }
    /** Whether only handshakes the container authenticated are taken; the others get 401. */
    public boolean requireLogin() { return requireLogin; }
    /**
     * The roles whose users the container lets in (the page, the handshake); {@code **}: any user who logged in.
     * Empty: the container asks for no login (a login it has anyway still names the author).
     */
    public List<String> loginRoles() { return loginRoles; }
    /** The request header an SSO proxy names the user in, or null for none. */
    public String trustedUserHeader() { return trustedUserHeader; }
    /** The addresses (as the TCP peer) whose {@link #trustedUserHeader()} is believed, RemoteIpValve's notation. */
    public Pattern trustedProxies() { return trustedProxies; }

    private static final class Reader {
        private final Function<String, String> source;

        Reader(Function<String, String> source) {
            this.source = source;
        }

        /** A JDBC URL of PostgreSQL or SQLite, or null when unset. */
        String databaseUrl(String name) {
            String value = raw(name);
            if (value == null || value.startsWith(POSTGRES_SCHEME)
                    || value.startsWith(SQLITE_SCHEME) && value.length() > SQLITE_SCHEME.length()) {
                return value;
            }
            throw invalid(name, value, "a PostgreSQL JDBC URL (jdbc:postgresql://host:port/database) or an SQLite"
                    + " file (jdbc:sqlite:/path/chat.db)");
        }

        /**
         * A secret given either as the value of {@code name} or as the contents of the file {@code fileName} names
         * (a mounted secret; one trailing line break is not part of it); null when neither is set.
         */
        String secret(String name, String fileName) {
            String value = source.apply(name);
            String file = raw(fileName);
            if (file == null) {
                return value == null || value.isEmpty() ? null : value;
            }
            if (value != null && !value.isEmpty()) {
                throw new IllegalArgumentException("Settings " + name + " (environment " + environmentName(name)
                        + ") and " + fileName + " (environment " + environmentName(fileName) + ") are both set:"
                        + " set only one of them");
            }
            try {
                String contents = java.nio.file.Files.readString(Path.of(file));
                return contents.endsWith("\r\n") ? contents.substring(0, contents.length() - 2)
                        : contents.endsWith("\n") ? contents.substring(0, contents.length() - 1) : contents;
            } catch (java.io.IOException | RuntimeException e) {
                throw invalid(fileName, file, "a readable file holding the password (" + e + ")");
            }
        }

        private String raw(String name) {
            String value = source.apply(name);
            return isBlank(value) ? null : value.trim();
        }

        Path path(String name, Path fallback) {
            String value = raw(name);
            return value == null ? fallback : Path.of(value).toAbsolutePath();
        }

        int integer(String name, int fallback, int min, int max) {
            return (int) longInteger(name, fallback, min, max);
        }

        long longInteger(String name, long fallback, long min, long max) {
            String value = raw(name);
            if (value == null) {
                return fallback;
            }
            try {
                long parsed = Long.parseLong(value);
                if (parsed >= min && parsed <= max) {
                    return parsed;
                }
            } catch (NumberFormatException notAnInteger) {
                // reported below with the accepted range
            }
            throw invalid(name, value, "an integer from " + min + " to " + max);
        }

        boolean bool(String name, boolean fallback) {
            String value = raw(name);
            if (value == null) {
                return fallback;
            }
            return switch (value.toLowerCase(Locale.ROOT)) {
                case "true" -> true;
                case "false" -> false;
                default -> throw invalid(name, value, "true or false");
            };
        }

        /** Comma-separated origins such as {@code https://chat.example.com}; each must be scheme://host[:port]. */
        List<String> origins(String name) {
            String value = raw(name);
            if (value == null) {
                return List.of();
            }
            List<String> origins = new ArrayList<>();
            for (String origin : value.split(",")) {
                String normalised = OriginPolicy.normalise(origin.trim());
                if (normalised == null) {
                    throw invalid(name, origin.trim(), "a comma-separated list of origins like https://chat.example.com");
                }
                origins.add(normalised);
            }
            return List.copyOf(origins);
        }

        RoomCreation roomCreation(String name, RoomCreation fallback) {
            String value = raw(name);
            if (value == null) {
                return fallback;
            }
            try {
                return RoomCreation.valueOf(value.toUpperCase(Locale.ROOT));
            } catch (IllegalArgumentException unknown) {
                throw invalid(name, value, "anyone or listed");
            }
        }

        /** An HTTP header's name (a token: letters, digits and {@code !#$%&'*+-.^_`|~}), or null when unset. */
        String headerName(String name) {
            String value = raw(name);
            if (value != null && !value.matches("[A-Za-z0-9!#$%&'*+.^_`|~-]+")) {
                throw invalid(name, value, "an HTTP header name such as X-Forwarded-User");
            }
            return value;
        }

        /** A regular expression matched against a whole address, as Tomcat's RemoteIpValve's internalProxies. */
        Pattern pattern(String name, String fallback) {
            String value = raw(name);
            try {
                return Pattern.compile(value == null ? fallback : value);
            } catch (PatternSyntaxException e) {
                throw invalid(name, value, "a regular expression of addresses, as RemoteIpValve's internalProxies ("
                        + e.getDescription() + ")");
            }
        }

        /** Comma-separated role names, as a realm spells them; {@code **} for every user who logged in. */
        List<String> roles(String name) {
            String value = raw(name);
            if (value == null) {
                return List.of();
            }
            List<String> roles = new ArrayList<>();
            for (String role : value.split(",")) {
                if (role.isBlank() || role.strip().chars().anyMatch(c -> Character.isWhitespace(c) || c < 0x20)) {
                    throw invalid(name, role.strip(), "a comma-separated list of role names, or ** for any user"
                            + " who logged in");
                }
                roles.add(role.strip());
            }
            return List.copyOf(roles);
        }

        /** Comma-separated room names. */
        List<String> rooms(String name) {
            String value = raw(name);
            if (value == null) {
                return List.of();
            }
            List<String> rooms = new ArrayList<>();
            for (String room : value.split(",")) {
                if (!Rooms.isValidName(room.trim())) {
                    throw invalid(name, room.trim(), "a comma-separated list of room names (a-z, 0-9, - and _,"
                            + " starting with a letter or digit, at most " + Rooms.MAX_NAME_LENGTH + " characters)");
                }
                rooms.add(room.trim());
            }
            return List.copyOf(rooms);
        }

        Durability durability(String name, Durability fallback) {
            String value = raw(name);
            if (value == null) {
                return fallback;
            }
            try {
                return Durability.valueOf(value.toUpperCase(Locale.ROOT));
            } catch (IllegalArgumentException unknown) {
                throw invalid(name, value, "FULL or NORMAL");
            }
        }

        private static IllegalArgumentException invalid(String name, String value, String expected) {
            return new IllegalArgumentException("Setting " + name + " (environment " + environmentName(name)
                    + ") must be " + expected + ", but is '" + value + "'");
        }
    }
}
