package chat.it;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/**
 * A TCP relay on 127.0.0.1 in front of Tomcat that can refuse WebSocket handshakes to {@code /chat} while
 * passing everything else: the page still loads, but its connection to the chat fails, as when the chat's
 * endpoint is unreachable.
 */
final class GatedProxy implements AutoCloseable {

    private final ServerSocket listener;
    private final InetSocketAddress target;
    private final ExecutorService threads = Executors.newCachedThreadPool(runnable -> {
        Thread thread = new Thread(runnable, "gated-proxy");
        thread.setDaemon(true);
        return thread;
    });
    private final Set<Socket> chatConnections = ConcurrentHashMap.newKeySet();
    private final Set<Socket> allSockets = ConcurrentHashMap.newKeySet();
    private volatile boolean refuseChat;

    GatedProxy(int targetPort) throws IOException {
        this.target = new InetSocketAddress(InetAddress.getLoopbackAddress(), targetPort);
        this.listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        threads.execute(this::accept);
    }

    int port() {
        return listener.getLocalPort();
    }

    /** While true, handshakes to the chat endpoint are cut off, and open chat connections are closed now. */
    void refuseChat(boolean refuse) throws IOException {
        refuseChat = refuse;
        if (refuse) {
            for (Socket socket : chatConnections) {
                socket.close();
            }
        }
    }

    private void accept() {
        while (!listener.isClosed()) {
            try {
                Socket client = listener.accept();
                threads.execute(() -> relay(client));
            } catch (IOException closed) {
                return;
            }
        }
    }

    private void relay(Socket client) {
        allSockets.add(client);
        try (client) {
            InputStream in = client.getInputStream();
            byte[] firstLine = readLine(in);
            boolean chat = new String(firstLine, StandardCharsets.US_ASCII).contains("/chat?");
            if (chat && refuseChat) {
                return;
            }
            try (Socket server = new Socket(target.getAddress(), target.getPort())) {
                allSockets.add(server);
                if (chat) {
                    chatConnections.add(client);
                }
                server.getOutputStream().write(firstLine);
                threads.execute(() -> pipe(server, client));
                pipe(client, server);
            } finally {
                chatConnections.remove(client);
            }
        } catch (IOException ended) {
            // one side closed: the relay of this connection is over
        } finally {
            allSockets.remove(client);
        }
    }

    private static byte[] readLine(InputStream in) throws IOException {
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        int b;
        while ((b = in.read()) != -1) {
            line.write(b);
            if (b == '\n' || line.size() > 8192) {
                break;
            }
        }
        return line.toByteArray();
    }

    private static void pipe(Socket from, Socket to) {
        try {
            InputStream in = from.getInputStream();
            OutputStream out = to.getOutputStream();
            byte[] buffer = new byte[16 * 1024];
            int read;
            while ((read = in.read(buffer)) != -1) {
                out.write(buffer, 0, read);
                out.flush();
            }
        } catch (IOException ended) {
            // the other direction notices the close as well
        } finally {
            try {
                to.shutdownOutput();
            } catch (IOException alreadyClosed) {
                // nothing left to shut
            }
        }
    }

    @Override
    public void close() throws IOException, InterruptedException {
        listener.close();
        for (Socket socket : allSockets) {
            socket.close();
        }
        threads.shutdownNow();
        if (!threads.awaitTermination(10, TimeUnit.SECONDS)) {
            throw new IllegalStateException("the proxy's threads did not stop");
        }
    }
}
