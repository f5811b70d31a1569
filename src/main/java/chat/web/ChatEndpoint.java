package chat.web;

import chat.config.Verdict;
import chat.delivery.ChatHub;
import chat.delivery.ClientConnection;
import chat.delivery.Handshake;
import chat.protocol.Author;
import chat.protocol.ErrorCode;
import chat.protocol.FrameCodec;
import chat.protocol.Rooms;
import jakarta.servlet.ServletException;
import jakarta.websocket.CloseReason;
import jakarta.websocket.EndpointConfig;
import jakarta.websocket.Extension;
import jakarta.websocket.HandshakeResponse;
import jakarta.websocket.OnClose;
import jakarta.websocket.OnError;
import jakarta.websocket.OnMessage;
import jakarta.websocket.OnOpen;
import jakarta.websocket.Session;
import jakarta.websocket.server.HandshakeRequest;
import jakarta.websocket.server.ServerEndpoint;
import jakarta.websocket.server.ServerEndpointConfig;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.security.Principal;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicReference;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * {@code /chat}: one client's WebSocket, a thin adapter between the session and the {@link ChatHub}. Text frames
 * only: a binary frame closes the session with 1003, a text frame over {@code chat.maxFrameBytes} with 1009.
 *
 * <p>How a connection comes to be, and how its endpoint finds the running chat:
 * <ol>
 * <li>When the webapp starts, Tomcat deploys this class for its annotation (it looks for {@code @ServerEndpoint}
 * even with a complete web.xml), and {@link ChatLifecycle} starts the chat and publishes it as the
 * {@link RunningChat}, an attribute of the servlet context.
 * <li>A handshake is an HTTP request first. {@link HandshakeFilter}, mapped to {@code /chat} in web.xml, runs
 * before Tomcat's own WebSocket filter, where Tomcat (through RemoteIpValve behind a proxy) knows the browser's
 * address, scheme and host. It answers what it refuses (503, 426, 403) and hands the rest on to Tomcat with an
 * {@link Admission}: the running chat and the client's address.
 * <li>Tomcat upgrades the request on the same thread, inside that call, and asks {@link Admissions} to
 * {@link Admissions#modifyHandshake modify the handshake}; it moves the admission into the new session's user
 * properties. The WebSocket API has no other way from the HTTP request to the session: its handshake request
 * carries neither the request's attributes nor, before WebSocket 2.2, the client's address.
 * <li>Tomcat makes one instance of this class per connection and calls {@link #open}, which binds it to the
 * running chat and to its client's address, and counts it against the connection limits.
 * </ol>
 */
@ServerEndpoint(value = "/chat", configurator = ChatEndpoint.Admissions.class)
public final class ChatEndpoint {

    private static final Logger LOG = Logger.getLogger(ChatEndpoint.class.getName());

    private RunningChat chat;
    private String clientAddress;
    private TextMessageAssembler assembler;
    private boolean admitted;
    /** Taken by whoever disconnects it: onClose, or onOpen when the session closed while it was opening. */
    private final AtomicReference<ClientConnection> connection = new AtomicReference<>();
    private volatile boolean closed;

    /** What {@link HandshakeFilter} found out about a handshake, for the endpoint it becomes. */
    /** @param trustedUser the user a trusted proxy named (chat.trustedUserHeader), or null */
    record Admission(RunningChat chat, String clientAddress, String trustedUser) {
    }

    @OnOpen
    public void open(Session session, EndpointConfig config) {
        // Taken out of both maps that hold it (the handshake's copy of the endpoint's configuration, and the
        // session's properties, copied from it): no idle session keeps what it needed only to open.
        Admission admission = (Admission) config.getUserProperties().remove(Admissions.KEY);
        session.getUserProperties().remove(Admissions.KEY);
        chat = admission.chat();
        clientAddress = admission.clientAddress();
        chat.heartbeat().bound(session);
        if (chat.limits().admit(clientAddress) instanceof Verdict.Refused full) {
            close(session, CloseReason.CloseCodes.VIOLATED_POLICY, full.reason());
            return;
        }
        admitted = true;
        Map<String, List<String>> query = session.getRequestParameterMap();
        String rawOffset = firstValue(query, "serverOffset");
        OptionalLong serverOffset = FrameCodec.parseServerOffset(rawOffset);
        if (serverOffset.isEmpty() || query.getOrDefault("serverOffset", List.of()).size() > 1) {
            refuse(session, ErrorCode.BAD_OFFSET, "serverOffset must be one non-negative integer that fits a signed"
                    + " 64-bit long, but is '" + shortened(rawOffset) + "'", "Bad serverOffset");
            return;
        }
        List<String> rooms = query.get("room");
        String room = rooms == null ? Rooms.GENERAL : rooms.get(0);
        if (rooms != null && (rooms.size() > 1 || !(room.isEmpty() || Rooms.isValidName(room)))) {
            refuse(session, ErrorCode.BAD_ROOM, "room must be one room name (a-z, 0-9, - and _, starting with a"
                    + " letter or digit, at most " + Rooms.MAX_NAME_LENGTH + " characters), or empty for none", "Bad room");
            return;
        }
        List<String> frames = query.get("frames");
        if (frames != null && (frames.size() > 1 || !FrameCodec.FRAMES_AS_LINES.equals(frames.get(0)))) {
            refuse(session, ErrorCode.BAD_FRAMES, "frames must be '" + FrameCodec.FRAMES_AS_LINES + "' (several"
                    + " frames in one message, a line each) or absent (one frame per message), but is '"
                    + shortened(String.join(",", frames)) + "'", "Bad frames");
            return;
        }
        Author author = author(session, admission.trustedUser(), query.get("name"));
        if (author == null) {
            return;
        }
        ChatHub hub = chat.hub();
        Handshake handshake = new Handshake(room.isEmpty() ? null : room, rooms != null, serverOffset.getAsLong(),
                firstValue(query, "epoch"), author, frames != null);
        ClientConnection opened = hub.connect(clientAddress, new SessionSink(session), handshake);
        connection.set(opened);
        chat.heartbeat().watch(session, opened);
        int maxFrameBytes = chat.maxFrameBytes();
        assembler = new TextMessageAssembler(maxFrameBytes, frame -> hub.receive(opened, frame),
                () -> close(session, CloseReason.CloseCodes.TOO_BIG, "Frame over " + maxFrameBytes + " bytes"));
        if (closed) {
            // The replay started above may close the session from another thread (its client is gone), and
            // onClose may then have run before the connection was set.
            chat.heartbeat().forget(session);
            disconnect();
        }
    }

    /**
     * The login's principal when the container authenticated the handshake, else the user a trusted proxy named
     * (both verified, any {@code name} ignored), else the name the client chose, else a guest's; null once a bad
     * name has been refused and the session is closing.
     */
    private static Author author(Session session, String trustedUser, List<String> chosen) {
        Principal principal = session.getUserPrincipal();
        if (principal != null) {
            return new Author(principal.getName(), true);
        }
        if (trustedUser != null) {
            return new Author(trustedUser, true);
        }
        if (chosen == null) {
            return Author.guest(ThreadLocalRandom.current());
        }
        String name = Author.normalized(chosen.get(0));
        String problem = chosen.size() > 1 ? "name must be given once" : Author.problemWith(name);
        if (problem != null) {
            refuse(session, ErrorCode.BAD_NAME, problem + " (1 to " + Author.MAX_NAME_CODE_POINTS + " code points,"
                    + " no control or format characters)", "Bad name");
            return null;
        }
        return new Author(name, false);
    }

    @OnMessage
    public void text(String part, boolean last) {
        if (assembler != null) {
            assembler.onMessage(part, last);
        }
    }

    @OnMessage
    public void binary(Session session, ByteBuffer part, boolean last) {
        close(session, CloseReason.CloseCodes.CANNOT_ACCEPT, "Binary frames are not accepted");
    }

    @OnClose
    public void close(Session session, CloseReason reason) {
        closed = true;
        if (chat == null) {
            return;
        }
        chat.heartbeat().forget(session);
        disconnect();
        if (admitted) {
            admitted = false;
            chat.limits().release(clientAddress);
        }
    }

    @OnError
    public void failed(Session session, Throwable failure) {
        LOG.log(Level.FINE, "WebSocket session " + session.getId() + " failed", failure);
    }

    private void disconnect() {
        ClientConnection opened = connection.getAndSet(null);
        if (opened != null) {
            chat.hub().disconnect(opened);
        }
    }

    private static String firstValue(Map<String, List<String>> query, String name) {
        List<String> values = query.get(name);
        return values == null || values.isEmpty() ? null : values.get(0);
    }

    private static void close(Session session, CloseReason.CloseCode code, String reason) {
        try {
            session.close(new CloseReason(code, reason));
        } catch (IOException e) {
            LOG.log(Level.FINE, "Closing session " + session.getId() + " failed; the peer is gone", e);
        }
    }

    /** A handshake whose query the chat cannot take: the error frame, then close 1008. */
    private static void refuse(Session session, ErrorCode code, String message, String closeReason) {
        try {
            session.getBasicRemote().sendText(FrameCodec.error(code, message, null));
            session.close(new CloseReason(CloseReason.CloseCodes.VIOLATED_POLICY, closeReason));
        } catch (IOException e) {
            LOG.log(Level.FINE, "Refusing session " + session.getId() + " failed; the peer is gone", e);
        }
    }

    private static String shortened(String raw) {
        if (raw == null) {
            return "";
        }
        return raw.length() <= 40 ? raw : raw.substring(0, 40) + "...";
    }

    /** Hands each handshake's {@link Admission} from {@link HandshakeFilter} to the session it becomes. */
    public static final class Admissions extends ServerEndpointConfig.Configurator {

        static final String KEY = Admission.class.getName();
        /** The admission of the handshake this thread is upgrading, between the filter and Tomcat's upgrade. */
        private static final ThreadLocal<Admission> UPGRADING = new ThreadLocal<>();

        /** What the filter chain does with the request: Tomcat's WebSocket filter upgrades it. */
        @FunctionalInterface
        interface Upgrade {
            void run() throws IOException, ServletException;
        }

        static void during(Admission admission, Upgrade upgrade) throws IOException, ServletException {
            UPGRADING.set(admission);
            try {
                upgrade.run();
            } finally {
                UPGRADING.remove();
            }
        }

        @Override
        public void modifyHandshake(ServerEndpointConfig session, HandshakeRequest request,
                                    HandshakeResponse response) {
            Admission admission = UPGRADING.get();
            if (admission == null) {
                throw new IllegalStateException("A handshake reached " + ChatEndpoint.class.getName() + " without"
                        + " passing " + HandshakeFilter.class.getName() + ": map that filter to /chat in web.xml");
            }
            session.getUserProperties().put(KEY, admission);
        }

        /**
         * No permessage-deflate, which browsers offer: chat frames are small, and each connection would deflate
         * every frame again with a compressor of its own (CPU per recipient, and hundreds of KiB of native memory
         * per connection).
         */
        @Override
        public List<Extension> getNegotiatedExtensions(List<Extension> installed, List<Extension> requested) {
            return List.of();
        }
    }
}
