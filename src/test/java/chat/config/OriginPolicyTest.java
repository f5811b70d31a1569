package chat.config;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Which pages may open the WebSocket: the chat's own origin (the request's, or chat.publicOrigins when set) and the
 * configured ones, normalised; anything else is refused with the origin named. */
class OriginPolicyTest {

    private final OriginPolicy sameOriginOnly = new OriginPolicy(List.of(), List.of(), true);

    @Test
    void thePagesOwnOriginIsAllowedWithOrWithoutItsDefaultPort() {
        assertEquals(Verdict.ADMITTED, sameOriginOnly.check("https://chat.example.com", "https", "chat.example.com", 443));
        assertEquals(Verdict.ADMITTED, sameOriginOnly.check("https://chat.example.com:443", "https", "chat.example.com", 443));
        assertEquals(Verdict.ADMITTED, sameOriginOnly.check("http://127.0.0.1:8080", "http", "127.0.0.1", 8080));
        assertEquals(Verdict.ADMITTED, sameOriginOnly.check("HTTP://Chat.Example.COM", "http", "chat.example.com", 80));
    }

    @Test
    void anotherHostSchemeOrPortIsRefusedWithTheOriginNamed() {
        assertEquals(Verdict.refused("Origin https://evil.example may not open this chat"),
                sameOriginOnly.check("https://evil.example", "https", "chat.example.com", 443));
        assertInstanceOf(Verdict.Refused.class, sameOriginOnly.check("http://chat.example.com", "https", "chat.example.com", 443));
        assertInstanceOf(Verdict.Refused.class, sameOriginOnly.check("https://chat.example.com:8443", "https", "chat.example.com", 443));
        assertInstanceOf(Verdict.Refused.class, sameOriginOnly.check("null", "https", "chat.example.com", 443));
        assertInstanceOf(Verdict.Refused.class, sameOriginOnly.check("https://chat.example.com.evil.example", "https", "chat.example.com", 443));
    }

    @Test
    void withPublicOriginsConfiguredTheRequestsOwnHostNoLongerDecides() {
        OriginPolicy policy = new OriginPolicy(List.of(OriginPolicy.normalise("https://chat.example.com")), List.of(),
                true);
        assertEquals(Verdict.ADMITTED, policy.check("https://chat.example.com", "https", "chat.example.com", 443));
        assertEquals(Verdict.ADMITTED, policy.check("https://chat.example.com", "http", "10.0.0.5", 8080), "behind a proxy too");
        assertEquals(Verdict.refused("Origin http://evil.example may not open this chat"),
                policy.check("http://evil.example", "http", "evil.example", 80), "a DNS-rebinding page");
        assertTrue(sameOriginOnly.trustsRequestHost());
        assertFalse(policy.trustsRequestHost());
    }

    @Test
    void configuredOriginsAreAllowedToo() {
        OriginPolicy policy = new OriginPolicy(List.of(), List.of(OriginPolicy.normalise("https://app.example.com")), true);
        assertEquals(Verdict.ADMITTED, policy.check("https://app.example.com", "https", "chat.example.com", 443));
        assertInstanceOf(Verdict.Refused.class, policy.check("https://other.example.com", "https", "chat.example.com", 443));
    }

    @Test
    void aMissingOriginIsAllowedOnlyWhenConfiguredSo() {
        assertEquals(Verdict.ADMITTED, sameOriginOnly.check(null, "https", "chat.example.com", 443));
        assertInstanceOf(Verdict.Refused.class, new OriginPolicy(List.of(), List.of(), false).check(null, "https", "chat.example.com", 443));
    }

    @Test
    void normaliseKeepsOnlyRealOrigins() {
        assertEquals("https://a.example", OriginPolicy.normalise("https://A.example:443"));
        assertEquals("http://a.example:8080", OriginPolicy.normalise("http://a.example:8080"));
        assertNull(OriginPolicy.normalise("https://a.example/path"));
        assertNull(OriginPolicy.normalise("ftp://a.example"));
        assertNull(OriginPolicy.normalise("a.example"));
        assertNull(OriginPolicy.normalise("https://user@a.example"));
        assertNull(OriginPolicy.normalise("not a url"));
    }

    @Test
    void aBadAllowedOriginsSettingStopsTheStartWithItsName() {
        IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> ChatConfig.of(java.util.Map.of("chat.allowedOrigins", "https://ok.example, chat.example.com")));
        org.junit.jupiter.api.Assertions.assertTrue(e.getMessage().contains("chat.allowedOrigins"), e.getMessage());
        assertEquals(List.of("https://ok.example", "http://b.example:81"),
                ChatConfig.of(java.util.Map.of("chat.allowedOrigins", "https://OK.example, http://b.example:81"))
                        .allowedOrigins());
    }
}
