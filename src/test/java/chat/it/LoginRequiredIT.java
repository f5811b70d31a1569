package chat.it;

import chat.testsupport.ChatWar;
import chat.testsupport.RawWebSocket;
import chat.testsupport.TestFiles;

import org.jboss.arquillian.container.test.api.Deployment;
import org.jboss.arquillian.junit5.ArquillianExtension;
import org.jboss.arquillian.test.api.ArquillianResource;
import org.jboss.shrinkwrap.api.spec.WebArchive;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.io.DataInputStream;
import java.net.Socket;
import java.net.URI;
import java.net.URL;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code chat.requireLogin=true}: a handshake the container did not authenticate is refused with 401, before the upgrade. */
@ExtendWith(ArquillianExtension.class)
class LoginRequiredIT {

    @Deployment(testable = false)
    static WebArchive war() {
        return ChatWar.packagedAs("chat-login.war", "login-chat.db", Map.of("chat.requireLogin", "true"));
    }

    @ArquillianResource
    private URL deployed;

    @Test
    void aHandshakeWithoutALoginIsRefusedWith401WhateverNameItGives() throws Exception {
        URI base = deployed.toURI();
        for (String query : new String[] {"", "?name=Ada", "?room=ops&name=admin"}) {
            try (Socket socket = new Socket(TestFiles.LOOPBACK, base.getPort())) {
                socket.setSoTimeout(10_000);
                String head = RawWebSocket.handshake(socket, new DataInputStream(socket.getInputStream()), base, query);
                assertTrue(head.startsWith("HTTP/1.1 401"), query + ": " + head);
            }
        }
    }
}
