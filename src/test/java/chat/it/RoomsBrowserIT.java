package chat.it;

import chat.testsupport.ChatClient;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The page's rooms in headless Chromium: each user sees only the rooms they are in, unread counts, {@code #room}
 * links, scroll-back through a room's history and a refresh that keeps every room's place. Screenshots go to
 * target/browser/screenshots/ (the window is a phone's, 420 px wide, unless a test widens it).
 */
class RoomsBrowserIT {

    @RegisterExtension
    static final PageServer server = new PageServer();
    @RegisterExtension
    final Browsers browsers = new Browsers();

    private Browser browser(String name) throws Exception {
        return browsers.open(name);
    }

    private static String room(String name) {
        return name + "-" + UUID.randomUUID().toString().substring(0, 8);
    }

    /** The room's messages the page shows are consecutive offsets, in order: no gap, no duplicate. */
    private static void assertGapless(Browser browser) {
        List<Browser.Shown> shown = browser.shown();
        for (int i = 1; i < shown.size(); i++) {
            assertEquals(shown.get(i - 1).offset() + 1, shown.get(i).offset(), "consecutive offsets: " + shown);
        }
    }

    private static Browser.Room roomIn(Browser browser, String name) {
        return browser.rooms().stream().filter(r -> r.name().equals(name)).findFirst().orElse(null);
    }

    /** Another user, connected with a plain WebSocket client, stores {@code count} messages in {@code room}. */
    private static List<String> postAsAnotherUser(String room, int count) throws Exception {
        String prefix = Browser.unique("from another user") + " #";
        try (ChatClient other = ChatClient.connectRaw(URI.create(server.page()), "?room=" + room)) {
            other.next("synced", room);
            other.storeIn(room, prefix, count);
        }
        List<String> texts = new ArrayList<>();
        for (int i = 1; i <= count; i++) {
            texts.add(prefix + i);
        }
        return texts;
    }

    @Test
    void twoUsersInTwoRoomsSeeOnlyTheirOwnRoomsMessages() throws Exception {
        String ops = room("ops");
        String dev = room("dev");
        Browser alice = browser("rooms-alice-in-ops");
        Browser bob = browser("rooms-bob-in-dev");
        alice.load(server.page() + "#" + ops);
        bob.load(server.page() + "#" + dev);
        assertEquals("#" + ops, alice.openRoomTitle());
        assertEquals("#" + dev, bob.openRoomTitle());

        String inOps = Browser.unique("in ops");
        String inDev = Browser.unique("in dev");
        alice.type(inOps);
        bob.type(inDev);
        alice.await(b -> b.timesShown(inOps) == 1 && b.pending().isEmpty(), "alice's message delivered in ops");
        bob.await(b -> b.timesShown(inDev) == 1 && b.pending().isEmpty(), "bob's message delivered in dev");
        assertEquals(List.of(new Browser.Shown(1, inOps)), alice.shown(), "a new room counts from 1");
        assertEquals(List.of(new Browser.Shown(1, inDev)), bob.shown(), "nothing of ops in dev");
        assertEquals(null, roomIn(alice, dev), "alice is not in dev");
        alice.screenshot(PageServer.SCREENSHOTS, "own-room");
        bob.screenshot(PageServer.SCREENSHOTS, "own-room");
    }

    @Test
    void unreadCountsGrowInRoomsNotOpenAndClearWhenTheRoomIsOpened() throws Exception {
        String ops = room("ops");
        String dev = room("dev");
        Browser alice = browser("rooms-unread");
        alice.load(server.page() + "#" + ops);
        alice.joinRoom(dev);
        alice.await(b -> ("#" + dev).equals(b.openRoomTitle()) && "live".equals(b.state()), "dev joined and open");
        assertEquals("#" + dev, alice.script("return window.location.hash;"), "the join field opens the room's link");

        List<String> posted = postAsAnotherUser(ops, 3);
        alice.await(b -> new Browser.Room(ops, 3, false).equals(roomIn(b, ops)), "3 unread in ops");
        assertEquals(new Browser.Room(dev, 0, true), roomIn(alice, dev));
        assertTrue(((String) alice.script("return document.title;")).startsWith("(3) "), "the title counts them");
        alice.script("document.getElementById('menu').click();");
        alice.screenshot(PageServer.SCREENSHOTS, "unread-in-menu");
        alice.script("document.getElementById('menu').click();");
        alice.widen();
        alice.screenshot(PageServer.SCREENSHOTS, "unread-wide");

        alice.openRoom(ops);
        alice.await(b -> ("#" + ops).equals(b.openRoomTitle()), "ops open");
        assertEquals(posted, alice.shown().stream().map(Browser.Shown::text).toList());
        assertEquals(new Browser.Room(ops, 0, true), roomIn(alice, ops), "read once open");
        postAsAnotherUser(dev, 2);
        alice.await(b -> new Browser.Room(dev, 2, false).equals(roomIn(b, dev)), "2 unread in dev");
        alice.screenshot(PageServer.SCREENSHOTS, "read-after-opening");
    }

    @Test
    void namedUsersSeeWhoWroteEachMessageAndWhenTheirOwnSetApart() throws Exception {
        String ops = room("ops");
        Browser alice = browser("people-alice");
        Browser bob = browser("people-bob");
        alice.load(server.page() + "#" + ops);
        bob.load(server.page() + "#" + ops);
        alice.chooseName("Alice");
        bob.chooseName("Bob");
        alice.await(b -> "live".equals(b.state()), "alice back live under her name");
        bob.await(b -> "live".equals(b.state()), "bob back live under his name");

        String fromAlice = Browser.unique("hello from alice");
        alice.type(fromAlice);
        alice.await(b -> b.timesShown(fromAlice) == 1 && b.pending().isEmpty(), "alice's message delivered");
        String fromBob = Browser.unique("hello from bob");
        bob.type(fromBob);
        for (Browser browser : List.of(alice, bob)) {
            browser.await(b -> b.timesShown(fromAlice) == 1 && b.timesShown(fromBob) == 1, "both messages");
        }
        assertEquals(List.of("Alice (mine) at", "Bob at"), alice.bylines());
        assertEquals(List.of("Alice at", "Bob (mine) at"), bob.bylines());
        alice.screenshot(PageServer.SCREENSHOTS, "authors");

        alice.refresh();
        alice.awaitState("live");
        assertEquals(List.of("Alice (mine) at", "Bob at"), alice.bylines(), "kept across a refresh, name included");
    }

    @Test
    void theOpenRoomShowsWhoIsOnlineAndWhoIsTyping() throws Exception {
        String ops = room("ops");
        Browser alice = browser("presence-alice");
        Browser bob = browser("presence-bob");
        alice.load(server.page() + "#" + ops);
        alice.chooseName("Alice");
        alice.await(b -> b.online().equals(List.of("Alice (you)")), "alice alone in the room");
        bob.load(server.page() + "#" + ops);
        bob.chooseName("Bob");
        alice.await(b -> b.online().equals(List.of("Alice (you)", "Bob")) && b.onlineCount().equals("2 online"),
                "bob joined, as alice sees it");
        bob.await(b -> b.online().equals(List.of("Alice", "Bob (you)")), "bob sees both");

        bob.typeWithoutSending("I am writing");
        alice.await(b -> b.typingLine().equals("Bob is typing\u2026"), "bob's typing shown to alice");
        assertEquals("", bob.typingLine(), "nobody is shown their own typing");
        alice.screenshot(PageServer.SCREENSHOTS, "online-and-typing");
        alice.widen();
        alice.screenshot(PageServer.SCREENSHOTS, "online-and-typing-wide");
        alice.await(b -> b.typingLine().isEmpty(), "the typing line goes 5 s after the last typing");

        bob.script("document.querySelector(\"#rooms li[data-room='" + ops + "'] .leave\").click()");
        alice.await(b -> b.online().equals(List.of("Alice (you)")) && b.onlineCount().equals("1 online"),
                "bob left the room");
    }

    @Test
    void aRoomLinkOpensThatRoomAndAnInvalidOneTheDefaultRoom() throws Exception {
        String ops = room("ops");
        Browser alice = browser("rooms-links");
        alice.load(server.page() + "#" + ops);
        assertEquals(List.of(new Browser.Room("general", 0, false), new Browser.Room(ops, 0, true)), alice.rooms());

        String other = room("support");
        alice.navigate(server.page() + "#" + other);
        alice.await(b -> ("#" + other).equals(b.openRoomTitle()) && "live".equals(b.state()), "the linked room open");
        assertEquals(3, alice.rooms().size(), "a link joins the room: " + alice.rooms());

        Browser bob = browser("rooms-bad-link");
        bob.load(server.page() + "#Not%20a%20room");
        assertEquals("#general", bob.openRoomTitle());
        assertEquals(List.of(new Browser.Room("general", 0, true)), bob.rooms());
    }

    @Test
    void scrollingToTheTopLoadsOlderMessagesInOrderWithoutMovingWhatIsShownUntilTheRoomsStart() throws Exception {
        String archive = room("archive");
        int stored = 1_120;
        List<String> posted = postAsAnotherUser(archive, stored);
        Browser alice = browser("rooms-scroll-back");
        alice.load(server.page() + "#" + archive);
        alice.await(b -> b.shown().size() == 1_000 && b.shown().get(999).offset() == stored, "the newest 1 000 shown");
        assertGapless(alice);
        assertEquals(stored - 999, alice.shown().get(0).offset());

        int loads = 0;
        while (alice.shown().get(0).offset() > 1) {
            long first = alice.shown().get(0).offset();
            String top = "return document.querySelector('#messages li[data-offset=\"" + first + "\"]')"
                    + ".getBoundingClientRect().top;";
            alice.scrollToTop();
            double before = ((Number) alice.script(top)).doubleValue();
            alice.await(b -> b.shown().get(0).offset() < first, "older messages above offset " + first);
            assertEquals(before, ((Number) alice.script(top)).doubleValue(), 1.0, "what was shown did not move");
            assertGapless(alice);
            assertTrue(alice.shown().size() <= 1_000, "the list stays bounded");
            assertTrue(++loads <= 5, "50 messages a page: three pages reach the start");
            if (loads == 1) {
                alice.screenshot(PageServer.SCREENSHOTS, "scrolled-back");
            }
        }
        assertEquals(3, loads);
        assertEquals(posted.get(0), alice.shown().get(0).text());
        alice.await(b -> Boolean.TRUE.equals(b.script(
                "return !document.getElementById('room-start').hidden && document.getElementById('older').hidden;")),
                "the room's start shown");
        alice.screenshot(PageServer.SCREENSHOTS, "start-of-room");

        alice.script("document.getElementById('newest').click();");
        alice.await(b -> b.shown().get(b.shown().size() - 1).offset() == stored, "back at the newest");
        assertGapless(alice);
    }

    @Test
    void aRefreshKeepsEveryRoomsMessagesOffsetAndUnreadCount() throws Exception {
        String ops = room("ops");
        String dev = room("dev");
        Browser alice = browser("rooms-refresh");
        alice.load(server.page() + "#" + ops);
        String mine = Browser.unique("mine in ops");
        alice.type(mine);
        alice.await(b -> b.timesShown(mine) == 1 && b.pending().isEmpty(), "delivered in ops");
        alice.joinRoom(dev);
        alice.await(b -> ("#" + dev).equals(b.openRoomTitle()) && "live".equals(b.state()), "dev open");
        String inDev = Browser.unique("mine in dev");
        alice.type(inDev);
        alice.await(b -> b.timesShown(inDev) == 1 && b.pending().isEmpty(), "delivered in dev");
        List<String> posted = postAsAnotherUser(ops, 2);
        alice.await(b -> new Browser.Room(ops, 2, false).equals(roomIn(b, ops)), "2 unread in ops");
        List<Browser.Room> roomsBefore = alice.rooms();
        List<Browser.Shown> devBefore = alice.shown();

        alice.refresh();
        alice.awaitState("live");
        assertEquals(roomsBefore, alice.rooms(), "the same rooms, open room and unread counts");
        assertEquals(devBefore, alice.shown());
        List<String> whileAway = postAsAnotherUser(ops, 1);
        alice.await(b -> new Browser.Room(ops, 3, false).equals(roomIn(b, ops)), "3 unread in ops");

        alice.openRoom(ops);
        List<String> expected = new ArrayList<>(List.of(mine));
        expected.addAll(posted);
        expected.addAll(whileAway);
        alice.await(b -> b.shown().size() == 4, "ops's four messages");
        assertEquals(expected, alice.shown().stream().map(Browser.Shown::text).toList());
        assertEquals(1, alice.shown().get(0).offset());
        assertGapless(alice);
    }

    @Test
    void aPendingMessageIsShownAndSentInItsOwnRoomOnly() throws Exception {
        String ops = room("ops");
        String dev = room("dev");
        try (GatedProxy proxy = new GatedProxy(server.port())) {
            String viaProxy = "http://127.0.0.1:" + proxy.port() + "/";
            Browser alice = browser("rooms-pending");
            alice.load(viaProxy + "#" + ops);
            alice.joinRoom(dev);
            alice.await(b -> ("#" + dev).equals(b.openRoomTitle()) && "live".equals(b.state()), "dev open");
            alice.openRoom(ops);
            proxy.refuseChat(true);
            alice.awaitState("reconnecting");
            String text = Browser.unique("typed in ops while offline");
            alice.type(text);
            alice.await(b -> b.pending().equals(List.of(text)), "pending in ops");

            alice.openRoom(dev);
            alice.await(b -> ("#" + dev).equals(b.openRoomTitle()), "dev open");
            assertEquals(List.of(), alice.pending(), "not pending in dev");
            alice.screenshot(PageServer.SCREENSHOTS, "pending-not-in-other-room");

            proxy.refuseChat(false);
            alice.awaitState("live");
            alice.openRoom(ops);
            alice.await(b -> b.timesShown(text) == 1 && b.pending().isEmpty(), "delivered in ops");
            alice.openRoom(dev);
            alice.await(b -> ("#" + dev).equals(b.openRoomTitle()), "dev open");
            assertFalse(alice.shown().stream().anyMatch(s -> s.text().equals(text)), "never in dev");
        }
    }
}
