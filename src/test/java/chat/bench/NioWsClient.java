package chat.bench;

import java.io.IOException;
import java.net.InetAddress;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.channels.CancelledKeyException;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayDeque;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The load generator's own WebSocket client, on plain NIO: two selector threads read every connection, take the
 * whole frames out of each read and hand their text to the connection's {@link BenchSocket} on the spot. No thread
 * is woken per frame, so the load generator takes as little as it can of the cores it shares with the server.
 *
 * <p>It speaks RFC 6455 as a client: masked frames out, the server's pings answered with pongs, a close frame
 * answered and the connection closed. Every frame is checked for what a server may send, and every text message is
 * decoded strictly: a frame that arrives damaged fails its connection with the bytes that did not fit, instead of
 * passing unnoticed.
 */
final class NioWsClient implements WsClient {

    private static final int LOOPS = 2;
    private static final int CONNECTING_THREADS = 32;
    /** What the upgrade response is read into: its head is a few hundred bytes; what follows it is kept. */
    private static final int HANDSHAKE_BUFFER_BYTES = 8 << 10;
    /** The local ports bound to a source address, from 10 000 up: above the usual fixed ones, more than 28 000. */
    private static final int FIRST_LOCAL_PORT = 10_000;
    private static final int LOCAL_PORTS = 65_536 - FIRST_LOCAL_PORT;
    private static final int BIND_ATTEMPTS = 1_000;
    private static final int MAX_MESSAGE_BYTES = 16 << 20;
    private static final String ACCEPT_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

    /** What a connection reads into, and keeps, unless a frame needs more: 64 KiB for {@link #NioWsClient()}. */
    private final int readBufferBytes;
    private final Loop[] loops = new Loop[LOOPS];
    private final AtomicInteger nextLoop = new AtomicInteger();
    private final ExecutorService connecting;
    /** The local addresses connections are bound to, in turn; empty: the kernel chooses. */
    private final List<InetAddress> sources;
    private final AtomicInteger nextSource = new AtomicInteger();
    /** Per source address, the next local port to bind, counted up and taken modulo {@link #LOCAL_PORTS}. */
    private final AtomicInteger[] nextPort;
    private final int connectingThreads;

    NioWsClient() {
        this(CONNECTING_THREADS, List.of(), 64 << 10);
    }

    /**
     * @param connectingThreads handshakes in flight at most (each blocks a thread, with a small stack, until the
     *                          server's 101)
     * @param sources           loopback addresses to connect from in turn (127.0.0.1 to 127.0.0.4, say), each with
     *                          ephemeral ports of its own: one has ports for fewer than 28 000 connections to one
     *                          server port; empty: the kernel chooses
     * @param readBufferBytes   what a connection reads into, and keeps, unless a frame needs more: small for many
     *                          idle connections
     */
    NioWsClient(int connectingThreads, List<InetAddress> sources, int readBufferBytes) {
        this.connectingThreads = connectingThreads;
        this.sources = List.copyOf(sources);
        this.nextPort = new AtomicInteger[this.sources.size()];
        for (int i = 0; i < nextPort.length; i++) {
            nextPort[i] = new AtomicInteger();
        }
        this.readBufferBytes = readBufferBytes;
        this.connecting = Executors.newFixedThreadPool(connectingThreads, runnable -> {
            Thread thread = new Thread(null, runnable, "nio-ws-connect", 256 << 10);
            thread.setDaemon(true);
            return thread;
        });
        try {
            for (int i = 0; i < LOOPS; i++) {
                loops[i] = new Loop("nio-ws-" + (i + 1));
            }
        } catch (IOException e) {
            throw new IllegalStateException("cannot open a selector", e);
        }
    }

    @Override
    public CompletableFuture<BenchSocket> open(URI chatUri, String query, long fromOffset) {
        return connect(chatUri, query, new BenchSocket(fromOffset));
    }

    /** Opens {@code chatUri} with the handshake query {@code query} ({@code ?} included) for {@code socket}. */
    CompletableFuture<BenchSocket> connect(URI chatUri, String query, BenchSocket socket) {
        return CompletableFuture.supplyAsync(() -> {
            try {
                Connection connection = handshake(chatUri, query, socket);
                socket.attach(connection);
                connection.loop.register(connection);
                return socket;
            } catch (IOException e) {
                throw new IllegalStateException("handshake with " + chatUri + " failed: " + e, e);
            }
        }, connecting);
    }

    @Override
    public String description() {
        return "the load generator's NIO WebSocket client (" + LOOPS + " selector threads, no thread per frame, "
                + connectingThreads + " handshakes at a time" + (sources.isEmpty() ? "" : ", from " + sources.size()
                + " source addresses") + ")";
    }

    @Override
    public void close() {
        connecting.shutdownNow();
        for (Loop loop : loops) {
            loop.close();
        }
    }

    private Connection handshake(URI chatUri, String query, BenchSocket socket) throws IOException {
        SocketChannel channel = SocketChannel.open();
        try {
            if (!sources.isEmpty()) {
                bindSource(channel);
            }
            channel.connect(new InetSocketAddress(chatUri.getHost(), chatUri.getPort()));
            channel.setOption(StandardSocketOptions.TCP_NODELAY, true);
            byte[] nonce = new byte[16];
            ThreadLocalRandom.current().nextBytes(nonce);
            String key = Base64.getEncoder().encodeToString(nonce);
            String request = "GET " + chatUri.getRawPath() + query + " HTTP/1.1\r\n"
                    + "Host: " + chatUri.getHost() + ":" + chatUri.getPort() + "\r\n"
                    + "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                    + "Sec-WebSocket-Key: " + key + "\r\nSec-WebSocket-Version: 13\r\n\r\n";
            ByteBuffer out = ByteBuffer.wrap(request.getBytes(StandardCharsets.US_ASCII));
            while (out.hasRemaining()) {
                channel.write(out);
            }
            ByteBuffer in = ByteBuffer.allocate(HANDSHAKE_BUFFER_BYTES);
            int headEnd;
            while ((headEnd = headEnd(in)) < 0) {
                if (!in.hasRemaining() || channel.read(in) < 0) {
                    throw new IOException("no complete response head to the upgrade request");
                }
            }
            String head = new String(in.array(), 0, headEnd, StandardCharsets.ISO_8859_1);
            if (!head.startsWith("HTTP/1.1 101")) {
                throw new IOException("upgrade refused: " + head.lines().findFirst().orElse(head));
            }
            String accept = accept(key);
            if (head.lines().noneMatch(line -> line.regionMatches(true, 0, "Sec-WebSocket-Accept:", 0, 21)
                    && line.substring(21).trim().equals(accept))) {
                throw new IOException("wrong or missing Sec-WebSocket-Accept in " + head);
            }
            in.flip();
            in.position(headEnd);
            ByteBuffer kept = ByteBuffer.allocate(Math.max(readBufferBytes, in.remaining())).put(in);
            channel.configureBlocking(false);
            return new Connection(channel, socket, kept, loops[Math.floorMod(nextLoop.getAndIncrement(), LOOPS)]);
        } catch (IOException | RuntimeException e) {
            channel.close();
            throw e;
        }
    }

    /**
     * Binds the channel to the next source address and a port of the client's own choosing. A bind to port 0
     * makes the kernel search the address's bound ports for a free one, which costs more with every connection
     * held (at 19 000 it had the load generator's connecting threads in the kernel, at under 700 handshakes/s);
     * a port taken by anyone else is skipped.
     */
    private void bindSource(SocketChannel channel) throws IOException {
        int source = Math.floorMod(nextSource.getAndIncrement(), sources.size());
        channel.setOption(StandardSocketOptions.SO_REUSEADDR, true);
        BindException last = null;
        for (int attempt = 0; attempt < BIND_ATTEMPTS; attempt++) {
            int port = FIRST_LOCAL_PORT + Math.floorMod(nextPort[source].getAndIncrement(), LOCAL_PORTS);
            try {
                channel.bind(new InetSocketAddress(sources.get(source), port));
                return;
            } catch (BindException taken) {
                last = taken;
            }
        }
        throw new IOException("no free local port on " + sources.get(source) + " in " + BIND_ATTEMPTS + " tries",
                last);
    }

    /** Where the response head ends (after its blank line) in what was read so far, or -1. */
    private static int headEnd(ByteBuffer read) {
        byte[] bytes = read.array();
        for (int i = 3; i < read.position(); i++) {
            if (bytes[i - 3] == '\r' && bytes[i - 2] == '\n' && bytes[i - 1] == '\r' && bytes[i] == '\n') {
                return i + 1;
            }
        }
        return -1;
    }

    private static String accept(String key) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-1")
                    .digest((key + ACCEPT_GUID).getBytes(StandardCharsets.US_ASCII));
            return Base64.getEncoder().encodeToString(digest);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** One selector thread and the connections it reads and writes. */
    private static final class Loop implements Runnable {
        private final Selector selector;
        private final Queue<Connection> joining = new ConcurrentLinkedQueue<>();
        private final Thread thread;
        private volatile boolean open = true;

        Loop(String name) throws IOException {
            this.selector = Selector.open();
            this.thread = new Thread(this, name);
            this.thread.setDaemon(true);
            this.thread.start();
        }

        void register(Connection connection) {
            joining.add(connection);
            selector.wakeup();
        }

        void wantWrite(Connection connection) {
            SelectionKey key = connection.key;
            if (key != null) {
                try {
                    key.interestOps(SelectionKey.OP_READ | SelectionKey.OP_WRITE);
                    selector.wakeup();
                } catch (CancelledKeyException closed) {
                    connection.failWrites(new ClosedChannelException());
                }
            }
            // Not registered yet: register() asks for writes if any are waiting by then.
        }

        @Override
        public void run() {
            while (open) {
                try {
                    selector.select();
                    Connection joined;
                    while ((joined = joining.poll()) != null) {
                        joined.joined(selector);
                    }
                    for (SelectionKey key : selector.selectedKeys()) {
                        Connection connection = (Connection) key.attachment();
                        try {
                            if (key.isValid() && key.isWritable()) {
                                connection.writeWaiting();
                            }
                            if (key.isValid() && key.isReadable()) {
                                connection.read();
                            }
                        } catch (CancelledKeyException closedMeanwhile) {
                            connection.closedLocally();
                        }
                    }
                    selector.selectedKeys().clear();
                } catch (IOException | RuntimeException e) {
                    if (open) {
                        Bench.log("client selector loop " + thread.getName() + " failed: " + e);
                        e.printStackTrace(System.out);
                    }
                }
            }
        }

        void close() {
            open = false;
            selector.wakeup();
            try {
                thread.join(5_000);
                for (SelectionKey key : selector.keys()) {
                    key.channel().close();
                }
                selector.close();
            } catch (IOException | InterruptedException e) {
                Bench.log("closing the client selector " + thread.getName() + ": " + e);
            }
        }
    }

    private record Write(ByteBuffer frame, CompletableFuture<Void> done) {
    }

    /** One WebSocket: its socket, what was read and not yet taken as frames, the frames waiting to be written. */
    private static final class Connection implements BenchSocket.Transport {
        private final SocketChannel channel;
        private final BenchSocket socket;
        private final Loop loop;
        private final CharsetDecoder utf8 = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT).onUnmappableCharacter(CodingErrorAction.REPORT);
        private final ArrayDeque<Write> writes = new ArrayDeque<>();
        private ByteBuffer in;
        /** The fragments of a text message not yet finished, or null. */
        private ByteBuffer fragments;
        private volatile SelectionKey key;
        private volatile boolean done;

        Connection(SocketChannel channel, BenchSocket socket, ByteBuffer alreadyRead, Loop loop) {
            this.channel = channel;
            this.socket = socket;
            this.in = alreadyRead;
            this.loop = loop;
        }

        /** On the loop's thread: registered; frames that came with the handshake response are taken now. */
        void joined(Selector selector) throws IOException {
            if (done) {
                return;
            }
            try {
                synchronized (this) {
                    key = channel.register(selector, writes.isEmpty() ? SelectionKey.OP_READ
                            : SelectionKey.OP_READ | SelectionKey.OP_WRITE, this);
                }
            } catch (ClosedChannelException abortedMeanwhile) {
                return;
            }
            frames();
        }

        @Override
        public CompletableFuture<?> sendText(String text) {
            return send(0x1, text.getBytes(StandardCharsets.UTF_8));
        }

        private CompletableFuture<Void> send(int opcode, byte[] payload) {
            ByteBuffer frame = masked(opcode, payload);
            CompletableFuture<Void> sent = new CompletableFuture<>();
            synchronized (this) {
                if (done) {
                    sent.completeExceptionally(new ClosedChannelException());
                    return sent;
                }
                if (writes.isEmpty()) {
                    try {
                        channel.write(frame);
                    } catch (IOException e) {
                        sent.completeExceptionally(e);
                        return sent;
                    }
                    if (!frame.hasRemaining()) {
                        sent.complete(null);
                        return sent;
                    }
                }
                writes.add(new Write(frame, sent));
            }
            loop.wantWrite(this);
            return sent;
        }

        private static ByteBuffer masked(int opcode, byte[] payload) {
            int length = payload.length;
            int lengthBytes = length < 126 ? 0 : length < 65_536 ? 2 : 8;
            ByteBuffer frame = ByteBuffer.allocate(2 + lengthBytes + 4 + length);
            frame.put((byte) (0x80 | opcode));
            if (lengthBytes == 0) {
                frame.put((byte) (0x80 | length));
            } else if (lengthBytes == 2) {
                frame.put((byte) (0x80 | 126)).putShort((short) length);
            } else {
                frame.put((byte) (0x80 | 127)).putLong(length);
            }
            int mask = ThreadLocalRandom.current().nextInt();
            frame.putInt(mask);
            for (int i = 0; i < length; i++) {
                frame.put((byte) (payload[i] ^ (mask >>> (8 * (3 - (i & 3))))));
            }
            return frame.flip();
        }

        /** On the loop's thread, when the socket takes more. */
        synchronized void writeWaiting() throws IOException {
            try {
                while (!writes.isEmpty()) {
                    Write head = writes.peek();
                    channel.write(head.frame());
                    if (head.frame().hasRemaining()) {
                        return;
                    }
                    writes.poll();
                    head.done().complete(null);
                }
                key.interestOps(SelectionKey.OP_READ);
            } catch (IOException e) {
                failWrites(e);
                closeWith(1006, "write failed: " + e);
            }
        }

        synchronized void failWrites(Throwable why) {
            Write write;
            while ((write = writes.poll()) != null) {
                write.done().completeExceptionally(why);
            }
        }

        /** On the loop's thread: reads what arrived and takes every whole frame out of it. */
        void read() throws IOException {
            int read;
            try {
                read = channel.read(in);
            } catch (IOException e) {
                closeWith(1006, "read failed: " + e);
                return;
            }
            if (read < 0) {
                closeWith(1006, "the server closed the TCP connection without a close frame");
                return;
            }
            frames();
        }

        private void frames() throws IOException {
            in.flip();
            try {
                while (!done && in.remaining() >= 2) {
                    int at = in.position();
                    int first = in.get(at) & 0xFF;
                    int second = in.get(at + 1) & 0xFF;
                    int header = 2;
                    long length = second & 0x7F;
                    if (length == 126) {
                        if (in.remaining() < 4) {
                            break;
                        }
                        length = in.getShort(at + 2) & 0xFFFF;
                        header = 4;
                    } else if (length == 127) {
                        if (in.remaining() < 10) {
                            break;
                        }
                        length = in.getLong(at + 2);
                        header = 10;
                    }
                    if ((first & 0x70) != 0 || (second & 0x80) != 0 || length < 0 || length > MAX_MESSAGE_BYTES) {
                        protocolError(String.format("not a server frame: %02x %02x, length %d", first, second, length));
                        return;
                    }
                    if (in.remaining() < header + length) {
                        if (header + length > in.capacity()) {
                            in = ByteBuffer.allocate((int) (header + length)).put(in).flip();
                        }
                        break;
                    }
                    ByteBuffer payload = in.slice(at + header, (int) length);
                    in.position(at + header + (int) length);
                    frame(first & 0x0F, (first & 0x80) != 0, payload);
                }
            } finally {
                in.compact();
            }
        }

        private void frame(int opcode, boolean fin, ByteBuffer payload) {
            switch (opcode) {
                case 0x1, 0x0 -> text(opcode == 0x1, fin, payload);
                case 0x9 -> {
                    byte[] data = new byte[payload.remaining()];
                    payload.get(data);
                    send(0xA, data);
                }
                case 0xA -> {
                    // a pong to a ping this client never sends: ignored
                }
                case 0x8 -> {
                    int code = payload.remaining() >= 2 ? payload.getShort() & 0xFFFF : 1005;
                    String reason = StandardCharsets.UTF_8.decode(payload).toString();
                    byte[] echo = {(byte) (code >> 8), (byte) code};
                    send(0x8, code == 1005 ? new byte[0] : echo);
                    closeWith(code, reason);
                }
                default -> protocolError("unknown opcode " + opcode);
            }
        }

        private void text(boolean starts, boolean fin, ByteBuffer payload) {
            if (starts == (fragments != null)) {
                protocolError(starts ? "a text frame inside an unfinished message" : "a continuation outside a message");
                return;
            }
            ByteBuffer message = payload;
            if (!fin || fragments != null) {
                ByteBuffer all = fragments == null ? ByteBuffer.allocate(Math.max(4096, payload.remaining())) : fragments;
                if (all.remaining() < payload.remaining()) {
                    all = ByteBuffer.allocate(Math.max(all.capacity() * 2, all.position() + payload.remaining()))
                            .put(all.flip());
                }
                fragments = all.put(payload);
                if (!fin) {
                    return;
                }
                message = fragments.flip();
                fragments = null;
            }
            CharBuffer chars;
            try {
                chars = utf8.decode(message.duplicate());
            } catch (CharacterCodingException e) {
                byte[] bytes = new byte[Math.min(message.remaining(), 64)];
                message.get(bytes);
                closeWith(1007, "a text message that is not UTF-8, starting " + HexFormat.of().formatHex(bytes));
                return;
            }
            socket.text(chars, true);
        }

        private void protocolError(String what) {
            closeWith(1002, what);
        }

        private void closeWith(int code, String reason) {
            if (!done) {
                done = true;
                closeChannel();
                socket.closed(code, reason);
            }
        }

        /** The connection was closed here (aborted) while the loop had an event for it. */
        void closedLocally() {
            done = true;
        }

        @Override
        public void abort() {
            done = true;
            closeChannel();
        }

        private void closeChannel() {
            try {
                channel.close();
            } catch (IOException e) {
                Bench.log("closing a client connection: " + e);
            }
            failWrites(new ClosedChannelException());
        }
    }
}
