package chat.it;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;

/** The client half of a WebSocket handshake by hand, for peers that misbehave on purpose (never read, never pong). */
final class RawWebSocket {

    private RawWebSocket() {
    }

    /**
     * Sends the upgrade request for {@code base}'s chat with {@code query} and reads the response head.
     *
     * @return the response's status line and headers
     */
    static String handshake(Socket socket, DataInputStream in, URI base, String query) throws IOException {
        return handshake(socket, in, base, query, "");
    }

    /** The same with more request headers, each ending in CRLF. */
    static String handshake(Socket socket, DataInputStream in, URI base, String query, String headers)
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
}
