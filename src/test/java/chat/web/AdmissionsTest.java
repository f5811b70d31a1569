package chat.web;

import jakarta.websocket.server.ServerEndpointConfig;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The hand-over from {@link HandshakeFilter} to the session: the admission of the handshake being upgraded on this
 * thread goes into the session's user properties, none is left behind after the upgrade, and a handshake that did
 * not pass the filter is refused with a message that says what is missing.
 */
class AdmissionsTest {

    private final ChatEndpoint.Admissions admissions = new ChatEndpoint.Admissions();

    private static ServerEndpointConfig session() {
        return ServerEndpointConfig.Builder.create(ChatEndpoint.class, "/chat").build();
    }

    @Test
    void theAdmissionOfTheHandshakeBeingUpgradedGoesToItsSession() throws Exception {
        ChatEndpoint.Admission admission = new ChatEndpoint.Admission(null, "192.0.2.7", null);
        ServerEndpointConfig session = session();
        ChatEndpoint.Admissions.during(admission, () -> admissions.modifyHandshake(session, null, null));
        assertSame(admission, session.getUserProperties().get(ChatEndpoint.Admissions.KEY));
    }

    @Test
    void aHandshakeThatDidNotPassTheFilterIsRefusedNamingIt() throws Exception {
        ChatEndpoint.Admissions.during(new ChatEndpoint.Admission(null, "192.0.2.7", null), () -> { });
        IllegalStateException refused = assertThrows(IllegalStateException.class,
                () -> admissions.modifyHandshake(session(), null, null));
        assertTrue(refused.getMessage().contains("HandshakeFilter"), refused.getMessage());
    }

    @Test
    void noExtensionIsNegotiated() {
        assertEquals(0, admissions.getNegotiatedExtensions(java.util.List.of(), java.util.List.of()).size());
    }
}
