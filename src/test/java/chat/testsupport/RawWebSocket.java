package chat.testsupport;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * A WebSocket client written by hand over a plain socket: it sees the server's frames exactly as they come off
 * the wire, with nothing in between that could reorder, merge or repair them, and it can misbehave on purpose
 * (never read, never pong, drop the TCP connection without a close frame).
 */
public final class RawWebSocket implements AutoCloseable {

    public static final int OPCODE_CONTINUATION = 0x0;
    public static final int OPCODE_TEXT = 0x1;
    public static final int OPCODE_CLOSE = 0x8;
    public static final int OPCODE_PING = 0x9;
    public static final int OPCODE_PONG = 0xA;
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final byte[] EMPTY_PING = {(byte) 0x89, (byte) 0x80, 1, 2, 3, 4}; // FIN + ping, masked, empty
    private static final byte[] EMPTY_PONG = {(byte) 0x8A, (byte) 0x80, 1, 2, 3, 4};

    private final Socket socket;
    private final DataInputStream in;
    private final OutputStream out;
    private final ByteArrayOutputStream message = new ByteArrayOutputStream();
    private final List<String> recent = new ArrayList<>();
    private int pongs;
    private int closeCode = -1;
    private String closeReason;

    private RawWebSocket(Socket socket) throws IOException {
        this.socket = socket;
        this.in = new DataInputStream(socket.getInputStream());
        this.out = socket.getOutputStream();
    }

    /** Connects to {@code base}'s chat with {@code query} and completes the upgrade, failing the test otherwise. */
    public static RawWebSocket open(URI base, String query) throws IOException {
        return open(base, query, 0);
    }

    /**
     * The same with the socket's receive buffer set to {@code receiveBufferBytes} before it connects (0: the
     * system's), so that a client that stops reading stops the server's writes soon.
     */
    public static RawWebSocket open(URI base, String query, int receiveBufferBytes) throws IOException {
        return open(base, query, receiveBufferBytes, 0, null);
    }

    /**
     * The same with the send buffer set to {@code sendBufferBytes} as well (0: the system's, which grows by
     * itself), so that writes to a server that stopped reading block soon instead of filling megabytes of kernel
     * memory, and from {@code localAddress} (null: whichever the system picks), such as a loopback alias
     * ({@code 127.0.0.3}) that the server counts as another client address than {@code 127.0.0.1}.
     */
    public static RawWebSocket open(URI base, String query, int receiveBufferBytes, int sendBufferBytes,
                             InetAddress localAddress) throws IOException {
        return open(base, query, receiveBufferBytes, sendBufferBytes, localAddress, "");
    }

    /** The same with more request headers in the handshake, each ending in CRLF. */
    public static RawWebSocket open(URI base, String query, int receiveBufferBytes, int sendBufferBytes,
                             InetAddress localAddress, String headers) throws IOException {
        Socket socket = new Socket();
        try {
            if (receiveBufferBytes > 0) {
                socket.setReceiveBufferSize(receiveBufferBytes);
            }
            if (sendBufferBytes > 0) {
                socket.setSendBufferSize(sendBufferBytes);
            }
            if (localAddress != null) {
                socket.bind(new InetSocketAddress(localAddress, 0));
            }
            socket.connect(new InetSocketAddress(base.getHost(), base.getPort()), 10_000);
            socket.setSoTimeout((int) ChatClient.TIMEOUT.toMillis());
            socket.setTcpNoDelay(true);
            RawWebSocket raw = new RawWebSocket(socket);
            String head = handshake(socket, raw.in, base, query, headers);
            assertTrue(head.startsWith("HTTP/1.1 101"), head);
            return raw;
        } catch (IOException | RuntimeException | AssertionError e) {
            socket.close();
            throw e;
        }
    }

    /**
     * Sends the upgrade request for {@code base}'s chat with {@code query} and reads the response head.
     *
     * @return the response's status line and headers
     */
    public static String handshake(Socket socket, DataInputStream in, URI base, String query) throws IOException {
        return handshake(socket, in, base, query, "");
    }

    /** The same with more request headers, each ending in CRLF. */
    public static String handshake(Socket socket, DataInputStream in, URI base, String query, String headers)
            throws IOException {
        OutputStream out = socket.getOutputStream();
        out.write(("GET " + base.getPath() + "chat" + query + " HTTP/1.1\r\n"
                + "Host: " + base.getHost() + ':' + base.getPort() + "\r\n" + headers
                + "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
                .getBytes(StandardCharsets.US_ASCII));
        out.flush();
        StringBuilder head = new StringBuilder();
        while (!head.toString().endsWith("\r\n\r\n")) {
            head.append((char) in.readUnsignedByte());
        }
        return head.toString();
    }

    /**
     * The next whole text message (fragments put together) as JSON. Every frame on the way is checked for what
     * RFC 6455 allows a server to send ({@link #nextFrame()}); the server's pings are answered, pongs counted.
     *
     * @return the message, or null if the server closed the connection ({@link #closeCode()} tells how)
     */
    public JsonNode nextText() throws IOException {
        message.reset();
        boolean inMessage = false;
        while (true) {
            Frame frame = nextFrame();
            switch (frame.opcode()) {
                case OPCODE_PING -> pong(frame.payload());
                case OPCODE_PONG -> pongs++;
                case OPCODE_CLOSE -> {
                    closeCode = frame.closeCode();
                    closeReason = frame.closeReason();
                    return null;
                }
                case OPCODE_TEXT, OPCODE_CONTINUATION -> {
                    if ((frame.opcode() == OPCODE_TEXT) == inMessage) {
                        fail("A text frame in the middle of a message, or a continuation outside one: " + recent);
                    }
                    inMessage = true;
                    message.write(frame.payload());
                    if (frame.fin()) {
                        return parse(message.toByteArray());
                    }
                }
                default -> fail("Unexpected opcode " + frame.opcode() + " after " + recent);
            }
        }
    }

    /**
     * The next frame as it comes off the wire, answering nothing: a peer that never pongs reads with this. The
     * frame is checked for what RFC 6455 allows a server to send (no reserved bits, not masked) and for a length
     * this chat can write.
     */
    public Frame nextFrame() throws IOException {
        int first = in.readUnsignedByte();
        int second = in.readUnsignedByte();
        long length = second & 0x7F;
        if (length == 126) {
            length = in.readUnsignedShort();
        } else if (length == 127) {
            length = in.readLong();
        }
        String header = String.format("%02x %02x length %d", first, second, length);
        if ((first & 0x70) != 0 || (second & 0x80) != 0 || length > 1 << 20) {
            fail("Not a server frame: " + header + " after " + recent);
        }
        byte[] payload = new byte[(int) length];
        in.readFully(payload);
        remember(header + " " + HexFormat.of().formatHex(payload, 0, Math.min(payload.length, 24)));
        return new Frame(first & 0x0F, (first & 0x80) != 0, payload);
    }

    /** The code of the server's close frame once {@link #nextText()} returned null for it (1005: none given). */
    public int closeCode() {
        return closeCode;
    }

    public String closeReason() {
        return closeReason;
    }

    /** How long a read may wait before it fails with a {@link java.net.SocketTimeoutException}. */
    public void readTimeout(java.time.Duration timeout) throws IOException {
        socket.setSoTimeout((int) timeout.toMillis());
    }

    /** One frame of the server's, unmasked. */
    public record Frame(int opcode, boolean fin, byte[] payload) {

        /** A close frame's status code, 1005 if it has none. */
        public int closeCode() {
            return payload.length >= 2 ? ((payload[0] & 0xFF) << 8) | (payload[1] & 0xFF) : 1005;
        }

        public String closeReason() {
            return payload.length > 2 ? new String(payload, 2, payload.length - 2, StandardCharsets.UTF_8) : "";
        }
    }

    /** Pongs received so far. */
    public int pongs() {
        return pongs;
    }

    /** An empty ping; may be called from another thread than the one reading. */
    public synchronized void ping() throws IOException {
        out.write(EMPTY_PING);
        out.flush();
    }

    /**
     * {@code count} pings carrying {@code payload} (at most 125 bytes, as any control frame), back to back in one
     * write; the server owes a pong with the same payload for each. May be called from another thread than the
     * one reading.
     */
    public synchronized void pings(byte[] payload, int count) throws IOException {
        if (payload.length > 125) {
            throw new IllegalArgumentException("A control frame carries at most 125 bytes, not " + payload.length);
        }
        ByteArrayOutputStream frames = new ByteArrayOutputStream(count * (payload.length + 6));
        for (int i = 0; i < count; i++) {
            frames.write(0x89); // FIN + ping
            frames.write(0x80 | payload.length); // masked, with a zero mask: the payload goes as it is
            frames.write(new byte[4]);
            frames.write(payload);
        }
        out.write(frames.toByteArray());
        out.flush();
    }

    /**
     * An unsolicited pong (RFC 6455 5.5.3): the server sees a live peer and owes it nothing, unlike a ping, whose
     * pong waits behind the frame in flight.
     */
    public synchronized void pong() throws IOException {
        out.write(EMPTY_PONG);
        out.flush();
    }

    /** A text frame, masked as a client must. */
    public synchronized void sendText(String text) throws IOException {
        byte[] payload = text.getBytes(StandardCharsets.UTF_8);
        writeMasked(0x81, payload);
    }

    /** Sends a close frame (1000) and closes the socket without waiting for the server's. */
    public void closeCleanly() {
        try {
            synchronized (this) {
                writeMasked(0x88, new byte[]{0x03, (byte) 0xE8});
            }
        } catch (IOException peerGone) {
            // Nothing to close cleanly any more.
        }
        abort();
    }

    /** Drops the TCP connection with a reset, as a client that loses its network does. */
    public void abort() {
        try {
            socket.setSoLinger(true, 0);
            socket.close();
        } catch (IOException alreadyClosed) {
            // Closed is what was asked for.
        }
    }

    @Override
    public void close() {
        abort();
    }

    private synchronized void pong(byte[] payload) throws IOException {
        writeMasked(0x8A, payload);
    }

    /** Caller holds the lock. The mask is zero: masking is required, its value is the client's choice. */
    private void writeMasked(int firstByte, byte[] payload) throws IOException {
        ByteArrayOutputStream frame = new ByteArrayOutputStream(payload.length + 8);
        frame.write(firstByte);
        if (payload.length < 126) {
            frame.write(0x80 | payload.length);
        } else {
            frame.write(0x80 | 126);
            frame.write(payload.length >>> 8);
            frame.write(payload.length & 0xFF);
        }
        frame.write(new byte[4]);
        frame.write(payload);
        out.write(frame.toByteArray());
        out.flush();
    }

    private JsonNode parse(byte[] bytes) throws IOException {
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            throw new AssertionError("A text message that is not UTF-8, after " + recent + ": "
                    + HexFormat.of().formatHex(bytes), e);
        }
        try {
            return JSON.readTree(text);
        } catch (IOException e) {
            throw new AssertionError("A text message that is not JSON, after " + recent + ": " + text, e);
        }
    }

    private void remember(String frame) {
        if (recent.size() == 6) {
            recent.remove(0);
        }
        recent.add(frame);
    }
}
