package chat.it;

import chat.testsupport.ChatClient;
import chat.testsupport.ChatWar;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.net.URI;
import java.util.List;
import java.util.UUID;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The chat page in headless Chromium against the exploded WAR, served as ROOT by a Tomcat that the tests stop and
 * start on the same port and database ({@link PageServer}). Screenshots of each state go to
 * target/browser/screenshots/.
 */
class PageBrowserIT {

    @RegisterExtension
    static final PageServer server = new PageServer();
    @RegisterExtension
    final Browsers browsers = new Browsers();

    private Browser browser(String name) throws Exception {
        return browsers.open(name);
    }

    private static String page() {
        return server.page();
    }

    private static void assertInOffsetOrderWithoutDuplicates(Browser browser) {
        List<Browser.Shown> shown = browser.shown();
        for (int i = 1; i < shown.size(); i++) {
            assertTrue(shown.get(i).offset() > shown.get(i - 1).offset(), "in offset order, once each: " + shown);
        }
    }

    /** How often the server stored the text, as a client replaying from offset 0 sees it. */
    private static long timesStored(String text) throws Exception {
        try (ChatClient client = ChatClient.connect(URI.create(page()), 0L)) {
            return client.awaitSynced().messages().stream()
                    .filter(message -> message.path("text").asText().equals(text)).count();
        }
    }

    @Test
    void aMessageTypedInOnePageAppearsInBothOnceInOffsetOrder() throws Exception {
        Browser alice = browser("two-pages-alice");
        Browser bob = browser("two-pages-bob");
        alice.load(page());
        bob.load(page());
        alice.screenshot(PageServer.SCREENSHOTS, "live");

        String first = Browser.unique("hello from alice");
        String second = Browser.unique("hello from bob");
        alice.type(first);
        bob.type(second);
        for (Browser browser : List.of(alice, bob)) {
            browser.await(b -> b.timesShown(first) == 1 && b.timesShown(second) == 1 && b.pending().isEmpty(),
                    "both messages delivered");
            assertInOffsetOrderWithoutDuplicates(browser);
        }
        assertEquals(alice.shown(), bob.shown(), "both pages show the same messages at the same offsets");
        bob.screenshot(PageServer.SCREENSHOTS, "delivered");
    }

    @Test
    void aMessageTypedWhileTheServerIsGoneIsPendingThenDeliveredOnceWhenItIsBack() throws Exception {
        Browser alice = browser("server-gone-alice");
        Browser bob = browser("server-gone-bob");
        alice.load(page());
        bob.load(page());

        server.stop();
        alice.awaitState("reconnecting");
        String text = Browser.unique("typed while the server was away");
        alice.type(text);
        alice.await(b -> b.pending().contains(text), "the message shown as pending");
        assertEquals(0, alice.timesShown(text));
        alice.screenshot(PageServer.SCREENSHOTS, "pending-while-server-gone");

        server.restart();
        for (Browser browser : List.of(alice, bob)) {
            browser.await(b -> "live".equals(b.state()) && b.timesShown(text) == 1 && b.pending().isEmpty(),
                    "the message delivered after the server came back");
            assertInOffsetOrderWithoutDuplicates(browser);
        }
        alice.screenshot(PageServer.SCREENSHOTS, "delivered-after-server-back");
        assertEquals(1, timesStored(text));
    }

    @Test
    void aMessageStillPendingWhenThePageIsRefreshedIsDeliveredOnceAfterTheReload() throws Exception {
        try (GatedProxy proxy = new GatedProxy(server.port())) {
            String viaProxy = "http://127.0.0.1:" + proxy.port() + "/";
            Browser alice = browser("refresh-pending");
            alice.load(viaProxy);
            proxy.refuseChat(true);
            alice.awaitState("reconnecting");
            String text = Browser.unique("pending across a refresh");
            alice.type(text);
            alice.await(b -> b.pending().contains(text), "the message shown as pending");

            alice.refresh();
            alice.await(b -> b.pending().contains(text) && !"live".equals(b.state()),
                    "the pending message restored after the reload");
            assertEquals(0, timesStored(text), "nothing reached the server yet");
            alice.screenshot(PageServer.SCREENSHOTS, "pending-after-refresh");

            proxy.refuseChat(false);
            alice.await(b -> "live".equals(b.state()) && b.timesShown(text) == 1 && b.pending().isEmpty(),
                    "the message delivered after the reload");
            assertEquals(1, timesStored(text));
        }
    }

    @Test
    void aRefreshShowsTheSameMessagesWithoutDuplicates() throws Exception {
        Browser alice = browser("refresh-no-duplicates");
        alice.load(page());
        List<String> texts = List.of(Browser.unique("one"), Browser.unique("two"), Browser.unique("three"));
        for (String text : texts) {
            alice.type(text);
        }
        alice.await(b -> texts.stream().allMatch(t -> b.timesShown(t) == 1) && b.pending().isEmpty(),
                "three messages delivered");
        List<Browser.Shown> before = alice.shown();

        alice.refresh();
        alice.awaitState("live");
        assertEquals(before, alice.shown(), "the same messages, once each, after the refresh");

        String after = Browser.unique("after the refresh");
        alice.type(after);
        alice.await(b -> b.timesShown(after) == 1 && b.pending().isEmpty(), "a new message after the refresh");
        assertInOffsetOrderWithoutDuplicates(alice);
        assertEquals(before.size() + 1, alice.shown().size());
    }

    @Test
    void aLongHistoryIsRenderedAsItsNewestThousandMessages() throws Exception {
        URI base = URI.create(page());
        long latest;
        try (ChatClient seeder = ChatClient.connect(base, ChatWar.latestOffset(base))) {
            seeder.awaitSynced();
            String run = UUID.randomUUID().toString().substring(0, 8);
            for (int i = 0; i < 3_000; i++) {
                seeder.sendChat("history " + run + " #" + i, null);
            }
            String last = Browser.unique("the newest");
            seeder.sendChat(last, "history-" + run);
            while (!seeder.next().path("clientOffset").asText().equals("history-" + run)) {
                // the seeder's own broadcasts, up to the ack of the last message
            }
            latest = ChatWar.latestOffset(base);
        }
        Browser alice = browser("long-history");
        alice.load(page());
        alice.await(b -> !b.shown().isEmpty() && b.shown().get(b.shown().size() - 1).offset() == latest,
                "the newest message rendered");
        List<Browser.Shown> shown = alice.shown();
        assertEquals(1_000, shown.size(), "only the newest thousand stay in the page");
        assertEquals(latest - 999, shown.get(0).offset());
        assertInOffsetOrderWithoutDuplicates(alice);
        alice.screenshot(PageServer.SCREENSHOTS, "long-history");
    }

    @Test
    void whenTheDatabaseIsReplacedThePageShowsTheNewHistoryInsteadOfTheOld() throws Exception {
        Browser alice = browser("database-replaced");
        alice.load(page());
        String old = Browser.unique("in the old database");
        alice.type(old);
        alice.await(b -> b.timesShown(old) == 1 && b.pending().isEmpty(), "the message delivered");

        server.useNewDatabase();
        String fresh = Browser.unique("in the new database");
        try (ChatClient other = ChatClient.connect(URI.create(page()), 0L)) {
            other.awaitSynced();
            other.sendChat(fresh, "fresh-" + UUID.randomUUID());
            other.nextAck();
        }

        alice.await(b -> "live".equals(b.state()) && b.timesShown(fresh) == 1 && b.timesShown(old) == 0,
                "the new database's history instead of the old one");
        assertEquals(1, alice.shown().get(0).offset(), "from the new database's first message");
        assertInOffsetOrderWithoutDuplicates(alice);
        alice.screenshot(PageServer.SCREENSHOTS, "after-database-replaced");
    }

    @Test
    void textWithMarkupIsShownAsText() throws Exception {
        Browser alice = browser("markup-as-text");
        alice.load(page());
        String markup = "<b>bold</b> <img src=x onerror=\"document.title='injected'\"> "
                + UUID.randomUUID().toString().substring(0, 8);
        alice.type(markup);
        alice.await(b -> b.timesShown(markup) == 1, "the message shown");
        assertEquals(0, alice.countInList("b"));
        assertEquals(0, alice.countInList("img"));
        assertNotEquals("injected", alice.script("return document.title;"));
        alice.screenshot(PageServer.SCREENSHOTS, "markup-as-text");
    }
}
