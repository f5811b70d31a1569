package chat.it;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The page with {@code chat.loginRoles}: the browser is shown the chat's sign-in page first, then the chat, where
 * the signed-in user's messages carry their login name, marked verified and as their own, and the others see the
 * same name. Screenshots in target/browser/screenshots/.
 */
class FormLoginBrowserIT {

    @RegisterExtension
    static final PageServer server = new PageServer(Map.of("chat.loginRoles", "chat-user",
            "chat.dev.users", "tomcat-conf/conf/tomcat-users.xml"));
    @RegisterExtension
    final Browsers browsers = new Browsers();

    @Test
    void signedInUsersWriteUnderTheirLoginNameVerified() throws Exception {
        Browser ada = browsers.open("login-ada");
        ada.navigate(server.page());
        ada.await(Browser::showsSignIn, "the sign-in form");
        ada.screenshot(PageServer.SCREENSHOTS, "sign-in");
        ada.signIn("ada", "ada-demo-password");
        ada.awaitState("live");
        Browser bob = browsers.open("login-bob");
        bob.navigate(server.page());
        bob.await(Browser::showsSignIn, "the sign-in form");
        bob.signIn("bob", "bob-demo-password");
        bob.awaitState("live");

        String text = Browser.unique("signed in as ada");
        ada.type(text);
        for (Browser browser : List.of(ada, bob)) {
            browser.await(b -> b.timesShown(text) == 1 && b.online().size() == 2, "ada's message and both online");
        }
        assertEquals(List.of("ada \u2713 (mine) at"), ada.bylines());
        assertEquals(List.of("ada \u2713 at"), bob.bylines());
        assertTrue(bob.online().contains("bob\u2713 (you)"), bob.online().toString());
        ada.widen();
        ada.screenshot(PageServer.SCREENSHOTS, "signed-in");
    }
}
