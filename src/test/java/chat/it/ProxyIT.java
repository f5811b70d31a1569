package chat.it;

import chat.testsupport.ChatClient;
import chat.testsupport.ChatWar;
import chat.testsupport.Nginx;

import com.fasterxml.jackson.databind.JsonNode;
import org.jboss.arquillian.container.test.api.Deployment;
import org.jboss.arquillian.container.test.api.OperateOnDeployment;
import org.jboss.arquillian.junit5.ArquillianExtension;
import org.jboss.arquillian.test.api.ArquillianResource;
import org.jboss.shrinkwrap.api.spec.WebArchive;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.URL;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The chat behind nginx running the operator's {@code tomcat-conf/nginx/chat.conf} (see {@link Nginx}), deployed
 * both under the sub-path /chat-app/ and as ROOT.war (nginx's {@code location /} serves both): for each, the page,
 * WebSockets, replay, the client's real address and scheme in Tomcat, and /metrics kept from the proxy; for the
 * sub-path, the generated config, a trickled handshake cut off, and idle WebSockets kept open through the proxy by
 * the server's pings.
 */
@ExtendWith(ArquillianExtension.class)
class ProxyIT {

    /** Where the WAR is deployed: its context path in Tomcat and behind nginx. */
    enum Mount {
        SUB_PATH(ChatWar.CONTEXT), ROOT("");

        final String context;

        Mount(String context) {
            this.context = context;
        }

        /** {@code /chat-app/} or {@code /}. */
        String path() {
            return Nginx.path(context);
        }
    }

    /** A second loopback address, for a client that is not the trusted proxy (Linux routes all of 127/8 to lo). */
    private static final String OTHER_CLIENT = "127.0.0.2";
    private static final Duration ACCESS_LOG_WAIT = Duration.ofSeconds(30);
    private static final Duration SOCKET_TIMEOUT = Duration.ofSeconds(10);

    private static Nginx nginx;

    @Deployment(name = "sub-path", testable = false)
    static WebArchive subPath() {
        return ChatWar.packaged();
    }

    /** The same WAR as ROOT.war, on a database of its own. */
    @Deployment(name = "root", testable = false)
    static WebArchive root() {
        return ChatWar.packagedAsRoot();
    }

    @ArquillianResource
    @OperateOnDeployment("sub-path")
    private URL subPathDeployed;

    @ArquillianResource
    @OperateOnDeployment("root")
    private URL rootDeployed;

    @BeforeAll
    static void startNginx() throws Exception {
        nginx = Nginx.start();
    }

    @AfterAll
    static void stopNginx() {
        if (nginx != null) {
            nginx.close();
        }
    }

    /** Tomcat itself. */
    private URI direct(Mount mount) throws Exception {
        return (mount == Mount.ROOT ? rootDeployed : subPathDeployed).toURI();
    }

    /** The same webapp through nginx. */
    private static URI proxied(Mount mount) {
        return nginx.http(mount.context);
    }

    @Test
    void theTestConfigIsChatConfWithOnlyAddressesTlsAndA3sProxyTimeoutChanged() throws Exception {
        String generated = Files.readString(nginx.config(), StandardCharsets.UTF_8);
        List<String> directives = uncommented(generated);
        assertTrue(directives.contains("proxy_read_timeout 3s;"), generated);
        assertTrue(directives.contains("proxy_send_timeout 3s;"), generated);
        assertEquals(1, directives.stream().filter(d -> d.startsWith("proxy_read_timeout")).count(), generated);
        assertEquals(1, directives.stream().filter(d -> d.startsWith("proxy_send_timeout")).count(), generated);
        assertTrue(directives.contains("server 127.0.0.1:" + System.getProperty("it.http.port") + ";"), generated);
        assertTrue(directives.contains("listen 127.0.0.1:" + nginx.httpPort() + ";"), generated);
        assertTrue(directives.contains("listen 127.0.0.1:" + nginx.httpsPort() + " ssl;"), generated);

        // Every other line of the operator's file is in the generated one, in the same order.
        Pattern rewritten = Pattern.compile("\\s*(server\\s+[^\\s{]+.*;|listen\\s.*|proxy_(read|send)_timeout\\s.*)");
        List<String> expected = Files.readAllLines(Nginx.siteConfig(), StandardCharsets.UTF_8).stream()
                .filter(line -> !rewritten.matcher(line).matches()).toList();
        List<String> actual = generated.lines().toList();
        int at = 0;
        for (String line : expected) {
            int found = actual.subList(at, actual.size()).indexOf(line);
            assertTrue(found >= 0, () -> "line of chat.conf missing or out of order in " + nginx.config() + ": " + line);
            at += found + 1;
        }
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(Mount.class)
    void thePageAndItsFilesLoadThroughTheProxy(Mount mount) throws Exception {
        HttpResponse<String> page = get(http(), proxied(mount));
        assertEquals(200, page.statusCode(), page::body);
        assertTrue(page.headers().firstValue("Content-Type").orElse("").startsWith("text/html"), page::toString);
        assertTrue(page.body().contains("id=\"messages\""), page::body);
        assertTrue(page.headers().firstValue("Content-Security-Policy").orElse("").contains("default-src 'none'"),
                () -> page.headers().map().toString());
        for (String file : List.of("chat.js", "chat.css")) {
            HttpResponse<String> response = get(http(), proxied(mount).resolve(file));
            assertEquals(200, response.statusCode(), file);
            assertFalse(response.body().isEmpty(), file);
        }
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(Mount.class)
    void messagesFlowBetweenAClientThroughTheProxyAndAClientConnectedToTomcat(Mount mount) throws Exception {
        try (ChatClient viaNginx = connectLive(mount, proxied(mount));
             ChatClient viaTomcat = connectLive(mount, direct(mount))) {
            String first = newClientOffset();
            viaNginx.sendChat("from behind nginx", first);
            long firstOffset = ackAndOwnMessage(viaNginx, first, "from behind nginx");
            JsonNode received = viaTomcat.next("chat message");
            assertEquals(firstOffset, received.path("offset").asLong());
            assertEquals("from behind nginx", received.path("text").asText());

            String second = newClientOffset();
            viaTomcat.sendChat("straight from tomcat", second);
            long secondOffset = ackAndOwnMessage(viaTomcat, second, "straight from tomcat");
            assertTrue(secondOffset > firstOffset);
            received = viaNginx.next("chat message");
            assertEquals(secondOffset, received.path("offset").asLong());
            assertEquals("straight from tomcat", received.path("text").asText());
        }
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(Mount.class)
    void aClientReconnectingThroughTheProxyIsReplayedExactlyWhatItMissed(Mount mount) throws Exception {
        try (ChatClient sender = connectLive(mount, direct(mount))) {
            ChatClient reader = connectLive(mount, proxied(mount));
            sender.sendChat("seen through nginx", newClientOffset());
            long seen = ackAndOwnMessage(sender, null, "seen through nginx");
            assertEquals(seen, reader.next("chat message").path("offset").asLong());
            reader.close();
            reader.awaitClose();

            List<Long> missed = new ArrayList<>();
            for (int i = 0; i < 5; i++) {
                sender.sendChat("missed " + i, newClientOffset());
                missed.add(ackAndOwnMessage(sender, null, "missed " + i));
            }

            try (ChatClient back = ChatClient.connect(proxied(mount), seen)) {
                ChatClient.Replay replay = back.awaitSynced();
                assertEquals(missed, replay.messages().stream().map(m -> m.path("offset").asLong()).toList());
                assertEquals("missed 0", replay.messages().get(0).path("text").asText());
                assertEquals(missed.get(missed.size() - 1), replay.syncedOffset());

                sender.sendChat("live again", newClientOffset());
                long live = ackAndOwnMessage(sender, null, "live again");
                assertEquals(live, back.next("chat message").path("offset").asLong());
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(Mount.class)
    void tomcatLogsTheClientsAddressNotTheProxys(Mount mount) throws Exception {
        String probe = "probe-" + UUID.randomUUID();
        RawResponse response = rawGet(OTHER_CLIENT, nginx.httpPort(),
                mount.path() + "health?probe=" + probe, Map.of());
        assertEquals(200, response.status(), response::toString);

        // The access log of tomcat-conf/conf/server.xml is unbuffered; the line can still take a moment.
        Path logs = Path.of(System.getProperty("it.tomcat.home"), "logs");
        long deadline = System.nanoTime() + ACCESS_LOG_WAIT.toNanos();
        List<String> lines = List.of();
        while (System.nanoTime() < deadline) {
            lines = accessLogLines(logs).stream().filter(line -> line.contains(probe)).toList();
            if (!lines.isEmpty()) {
                break;
            }
            Thread.sleep(250);
        }
        List<String> found = lines;
        assertEquals(1, found.size(), () -> "access log lines with " + probe + " in " + logs + " within "
                + ACCESS_LOG_WAIT + ": " + found);
        assertTrue(found.get(0).startsWith(OTHER_CLIENT + " " + nginx.httpPort() + " "),
                () -> "the client's address and the port it used: " + found);
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(Mount.class)
    void stsIsSentOverTheProxysHttpsOnly(Mount mount) throws Exception {
        HttpClient tls = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                .sslContext(nginx.trustingItsCertificate()).connectTimeout(SOCKET_TIMEOUT).build();
        HttpResponse<String> secure = get(tls, nginx.https(mount.context).resolve("health"));
        assertEquals(200, secure.statusCode(), secure::body);
        assertEquals(Optional.of("max-age=31536000"), secure.headers().firstValue("Strict-Transport-Security"),
                () -> secure.headers().map().toString());

        HttpResponse<String> plain = get(http(), proxied(mount).resolve("health"));
        assertEquals(200, plain.statusCode(), plain::body);
        assertEquals(Optional.empty(), plain.headers().firstValue("Strict-Transport-Security"));

        // A forged X-Forwarded-Proto straight to Tomcat is believed only from the proxy's address (127.0.0.1, so
        // the forger here is 127.0.0.2): Tomcat does not take the request for https.
        RawResponse forged = rawGet(OTHER_CLIENT, direct(mount).getPort(), mount.path() + "health",
                Map.of("X-Forwarded-Proto", "https"));
        assertEquals(200, forged.status(), forged::toString);
        assertFalse(forged.headers().containsKey("strict-transport-security"), forged::toString);
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(Mount.class)
    void metricsAreNotPassedThroughTheProxy(Mount mount) throws Exception {
        assertEquals(200, get(http(), direct(mount).resolve("metrics")).statusCode());
        HttpResponse<String> proxiedMetrics = get(http(), proxied(mount).resolve("metrics"));
        assertEquals(404, proxiedMetrics.statusCode(), proxiedMetrics::body);
    }

    /**
     * A handshake sent a byte every half second never completes: Tomcat's connectionTimeout, a timeout between
     * reads, would keep it open, nginx's client_header_timeout (10 s for the whole head) closes it.
     */
    @Test
    void aHandshakeTrickledAByteAtATimeIsClosedByTheProxyWithinItsHeaderTimeout() throws Exception {
        assertTrue(uncommented(Files.readString(nginx.config(), StandardCharsets.UTF_8))
                .contains("client_header_timeout 10s;"));
        byte[] handshake = ("GET /" + ChatWar.CONTEXT + "/chat?serverOffset=0 HTTP/1.1\r\nHost: " + Nginx.LOOPBACK
                + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
                + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n").getBytes(StandardCharsets.US_ASCII);
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress(Nginx.LOOPBACK, nginx.httpPort()), (int) SOCKET_TIMEOUT.toMillis());
            socket.setSoTimeout(500); // also the pace: a byte every half second
            long start = System.nanoTime();
            OutputStream out = socket.getOutputStream();
            InputStream in = socket.getInputStream();
            int sent = 0;
            boolean closed = false;
            while (!closed) {
                long elapsed = System.nanoTime() - start;
                assertTrue(elapsed < Duration.ofSeconds(20).toNanos(), "still open after 20 s, " + sent + " bytes sent");
                assertTrue(sent < handshake.length, "the whole handshake went through");
                try {
                    out.write(handshake[sent++]);
                    out.flush();
                    in.read(); // returns once the proxy answers or closes: it gave up on the head
                    closed = true;
                } catch (java.net.SocketTimeoutException stillOpen) {
                    // nothing yet: the next byte
                } catch (IOException reset) {
                    closed = true;
                }
            }
            long closedAfter = Duration.ofNanos(System.nanoTime() - start).toMillis();
            assertTrue(closedAfter >= 9_000 && closedAfter <= 14_000, "closed after " + closedAfter + " ms");
        }
    }

    @Test
    void anIdleWebSocketOutlastsTheProxysReadTimeoutBecauseTheServerPings() throws Exception {
        assertTrue(uncommented(Files.readString(nginx.config(), StandardCharsets.UTF_8))
                .contains("proxy_read_timeout " + Nginx.PROXY_TIMEOUT.toSeconds() + "s;"));
        Duration idle = Nginx.PROXY_TIMEOUT.multipliedBy(2).plusSeconds(1);
        Mount mount = Mount.SUB_PATH;
        try (ChatClient client = connectLive(mount, proxied(mount))) {
            assertNull(client.poll(idle), "nothing but pings while idle for " + idle);
            assertTrue(client.isOpen(), "still open after " + idle + " behind a " + Nginx.PROXY_TIMEOUT + " timeout");
            String clientOffset = newClientOffset();
            client.sendChat("still here behind nginx", clientOffset);
            ackAndOwnMessage(client, clientOffset, "still here behind nginx");
        }
    }

    // ---- helpers ----

    private ChatClient connectLive(Mount mount, URI base) throws Exception {
        long latest = ChatWar.latestOffset(direct(mount));
        ChatClient client = ChatClient.connect(base, latest);
        ChatClient.Replay replay = client.awaitSynced();
        assertEquals(latest, replay.syncedOffset());
        return client;
    }

    /** The sender's ack and its own broadcast, in either order; both carry the same offset, which is returned. */
    private static long ackAndOwnMessage(ChatClient sender, String clientOffset, String text) throws Exception {
        Long acked = null;
        Long echoed = null;
        while (acked == null || echoed == null) {
            JsonNode frame = sender.next();
            switch (frame.path("type").asText()) {
                case "ack" -> {
                    assertNull(acked, () -> "a second ack: " + frame);
                    if (clientOffset != null) {
                        assertEquals(clientOffset, frame.path("clientOffset").asText());
                    }
                    acked = frame.path("offset").asLong();
                }
                case "chat message" -> {
                    assertNull(echoed, () -> "a second message: " + frame);
                    assertEquals(text, frame.path("text").asText());
                    echoed = frame.path("offset").asLong();
                }
                default -> fail("expected an ack or the sender's own message, got " + frame);
            }
        }
        assertEquals(acked, echoed, "the ack and the broadcast carry the same offset");
        return acked;
    }

    private static String newClientOffset() {
        return "proxy-it-" + UUID.randomUUID();
    }

    private static HttpClient http() {
        return HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(SOCKET_TIMEOUT).build();
    }

    private static HttpResponse<String> get(HttpClient client, URI uri) throws IOException, InterruptedException {
        return client.send(HttpRequest.newBuilder(uri).timeout(SOCKET_TIMEOUT).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private static List<String> uncommented(String config) {
        return config.lines().map(String::strip).filter(line -> !line.isEmpty() && !line.startsWith("#")).toList();
    }

    private static List<String> accessLogLines(Path logs) throws IOException {
        List<String> lines = new ArrayList<>();
        try (Stream<Path> files = Files.list(logs)) {
            for (Path file : files.filter(f -> f.getFileName().toString().matches("chat_access.*\\.log")).toList()) {
                lines.addAll(Files.readAllLines(file, StandardCharsets.ISO_8859_1));
            }
        }
        return lines;
    }

    /** One HTTP/1.1 GET over a socket bound to {@code from}, to 127.0.0.1:{@code port}, read to the end. */
    private static RawResponse rawGet(String from, int port, String path, Map<String, String> headers)
            throws IOException {
        try (Socket socket = new Socket()) {
            socket.bind(new InetSocketAddress(from, 0));
            socket.connect(new InetSocketAddress(Nginx.LOOPBACK, port), (int) SOCKET_TIMEOUT.toMillis());
            socket.setSoTimeout((int) SOCKET_TIMEOUT.toMillis());
            StringBuilder request = new StringBuilder("GET " + path + " HTTP/1.1\r\n")
                    .append("Host: ").append(Nginx.LOOPBACK).append(':').append(port).append("\r\n")
                    .append("Connection: close\r\n");
            headers.forEach((name, value) -> request.append(name).append(": ").append(value).append("\r\n"));
            OutputStream out = socket.getOutputStream();
            out.write(request.append("\r\n").toString().getBytes(StandardCharsets.US_ASCII));
            out.flush();
            ByteArrayOutputStream received = new ByteArrayOutputStream();
            InputStream in = socket.getInputStream();
            in.transferTo(received);
            return RawResponse.parse(received.toString(StandardCharsets.ISO_8859_1));
        }
    }

    private record RawResponse(int status, Map<String, String> headers, String raw) {

        static RawResponse parse(String raw) {
            int end = raw.indexOf("\r\n\r\n");
            if (end < 0) {
                fail("no complete HTTP response: " + raw);
            }
            List<String> lines = raw.substring(0, end).lines().toList();
            int status = Integer.parseInt(lines.get(0).split(" ")[1]);
            Map<String, String> headers = new java.util.HashMap<>();
            for (String line : lines.subList(1, lines.size())) {
                int colon = line.indexOf(':');
                headers.put(line.substring(0, colon).trim().toLowerCase(Locale.ROOT), line.substring(colon + 1).trim());
            }
            return new RawResponse(status, headers, raw);
        }
    }
}
