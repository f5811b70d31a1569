package chat.config;

import org.junit.jupiter.api.Test;

import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

/** The user header of an SSO proxy: believed from the trusted proxies' addresses only, and only as a showable name. */
class TrustedProxyTest {

    private final TrustedProxy proxy = new TrustedProxy("X-Forwarded-User", Pattern.compile(ChatConfig.LOOPBACK_PROXIES));

    @Test
    void theHeaderNamesTheUserOnlyWhenTheRequestCameFromATrustedProxy() {
        assertEquals("ada", proxy.user("127.0.0.1", " ada "));
        assertEquals("ada", proxy.user("0:0:0:0:0:0:0:1", "ada"));
        assertNull(proxy.user("192.0.2.7", "ada"), "a client that sets the header itself");
        assertNull(proxy.user("127.0.0.1.example", "ada"), "the whole address must match");
        assertNull(proxy.user("127.0.0.1", null));
    }

    @Test
    void aNameTheChatCannotShowIsNotBelievedEvenFromTheProxy() {
        assertNull(proxy.user("127.0.0.1", "ada\u0000"));
        assertNull(proxy.user("127.0.0.1", "  "));
        assertNull(proxy.user("127.0.0.1", "a".repeat(65)));
    }

    @Test
    void withoutAHeaderConfiguredNobodyIsNamed() {
        assertNull(new TrustedProxy(null, Pattern.compile(".*")).user("127.0.0.1", "ada"));
    }
}
