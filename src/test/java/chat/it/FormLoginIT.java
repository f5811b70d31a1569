package chat.it;

import chat.testsupport.RawWebSocket;
import chat.testsupport.StockTomcat;
import chat.testsupport.TestFiles;
import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.DataInputStream;
import java.io.IOException;
import java.net.CookieManager;
import java.net.HttpCookie;
import java.net.Socket;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.List;
import java.util.UUID;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code chat.loginRoles=chat-user} on a stock Tomcat with tomcat-conf's realm (UserDatabaseRealm on its demo
 * tomcat-users.xml): the page and the handshake ask for the WAR's FORM login, /health and the sign-in page's files
 * do not; a wrong password gets the error page; after signing in the author is the principal, verified, whatever
 * name the client gives; a user outside the role is refused.
 */
class FormLoginIT {

    private static StockTomcat tomcat;

    @BeforeAll
    static void startTomcat() throws IOException, InterruptedException {
        tomcat = StockTomcat.create("form-login");
        Files.copy(Path.of("tomcat-conf/conf/tomcat-users.xml"), tomcat.base().resolve("conf/tomcat-users.xml"),
                StandardCopyOption.REPLACE_EXISTING);
        tomcat.jvmOptions(List.of("-Dchat.loginRoles=chat-user"));
        tomcat.start();
    }

    @AfterAll
    static void stopTomcat() {
        if (tomcat != null) {
            tomcat.close();
        }
    }

    /** A browser's cookie jar and its requests, redirects not followed. */
    private static final class Visitor {
        final CookieManager cookies = new CookieManager();
        final HttpClient http = HttpClient.newBuilder().cookieHandler(cookies).connectTimeout(Duration.ofSeconds(10))
                .followRedirects(HttpClient.Redirect.NEVER).build();

        HttpResponse<String> get(String path) throws IOException, InterruptedException {
            return http.send(HttpRequest.newBuilder(tomcat.uri().resolve(path)).timeout(Duration.ofSeconds(20))
                    .build(), HttpResponse.BodyHandlers.ofString());
        }

        /** Opens the page, which shows the sign-in form, and submits it. */
        HttpResponse<String> signIn(String user, String password) throws IOException, InterruptedException {
            HttpResponse<String> page = get("");
            assertEquals(200, page.statusCode());
            assertTrue(page.body().contains("action=\"j_security_check\""), "the sign-in form: " + page.body());
            String form = "j_username=" + URLEncoder.encode(user, StandardCharsets.UTF_8) + "&j_password="
                    + URLEncoder.encode(password, StandardCharsets.UTF_8);
            return http.send(HttpRequest.newBuilder(tomcat.uri().resolve("j_security_check"))
                    .timeout(Duration.ofSeconds(20)).header("Content-Type", "application/x-www-form-urlencoded")
                    .POST(HttpRequest.BodyPublishers.ofString(form)).build(), HttpResponse.BodyHandlers.ofString());
        }

        String cookieHeader() {
            StringBuilder header = new StringBuilder("Cookie: ");
            for (HttpCookie cookie : cookies.getCookieStore().getCookies()) {
                header.append(cookie.getName()).append('=').append(cookie.getValue()).append("; ");
            }
            return header.append("\r\n").toString();
        }
    }

    private static String handshakeStatus(String headers) throws IOException {
        try (Socket socket = new Socket(TestFiles.LOOPBACK, tomcat.uri().getPort())) {
            socket.setSoTimeout(10_000);
            return RawWebSocket.handshake(socket, new DataInputStream(socket.getInputStream()), tomcat.uri(),
                    "?room=ops&name=Mallory", headers).lines().findFirst().orElse("");
        }
    }

    @Test
    void withoutSigningInThePageShowsTheSignInFormTheHandshakeFailsAndHealthAnswers() throws Exception {
        Visitor anonymous = new Visitor();
        assertEquals(200, anonymous.get("health").statusCode());
        HttpResponse<String> css = anonymous.get("login/login.css");
        assertEquals(200, css.statusCode());
        assertTrue(css.headers().firstValue("Content-Type").orElse("").startsWith("text/css"));
        HttpResponse<String> script = anonymous.get("chat.js");
        assertFalse(script.body().contains("'use strict'"), "the page's script is behind the login too");
        assertTrue(script.body().contains("j_security_check"));
        assertFalse(handshakeStatus("").startsWith("HTTP/1.1 101"));
    }

    @Test
    void aWrongPasswordGetsTheErrorPage() throws Exception {
        HttpResponse<String> refused = new Visitor().signIn("ada", "not her password");
        assertEquals(200, refused.statusCode());
        assertTrue(refused.body().contains("did not sign you in"), refused.body());
    }

    @Test
    void signedInTheAuthorIsThePrincipalVerifiedWhateverNameTheClientGives() throws Exception {
        Visitor ada = new Visitor();
        HttpResponse<String> signedIn = ada.signIn("ada", "ada-demo-password");
        assertEquals(303, signedIn.statusCode(), signedIn.body());
        assertTrue(ada.get("").body().contains("chat.js"), "the chat's page once signed in");

        String room = "login-" + UUID.randomUUID().toString().substring(0, 8);
        try (RawWebSocket client = RawWebSocket.open(tomcat.uri(), "?room=" + room + "&name=Mallory", 0, 0, null,
                ada.cookieHeader())) {
            JsonNode frame;
            while (!(frame = client.nextText()).path("type").asText().equals("presence")) {
                // the room's synced comes first
            }
            assertEquals("ada", frame.path("you").path("author").asText());
            assertTrue(frame.path("you").path("verified").asBoolean());
            client.sendText("{\"type\":\"chat message\",\"room\":\"" + room + "\",\"text\":\"hi\",\"clientOffset\":\"k-"
                    + room + "\"}");
            while (!(frame = client.nextText()).path("type").asText().equals("chat message")) {
                // the ack may come first
            }
            assertEquals("ada", frame.path("author").asText());
            assertTrue(frame.path("verified").asBoolean());
        }
    }

    @Test
    void aUserOutsideTheRoleSignsInButIsNotLetIn() throws Exception {
        Visitor eve = new Visitor();
        assertEquals(303, eve.signIn("eve", "eve-demo-password").statusCode());
        assertEquals(403, eve.get("").statusCode());
        assertTrue(handshakeStatus(eve.cookieHeader()).startsWith("HTTP/1.1 403"));
    }
}
