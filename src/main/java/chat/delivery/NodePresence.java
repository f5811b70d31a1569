package chat.delivery;

import chat.protocol.Author;
import chat.store.MessageStore;
import chat.store.StoreException;

import java.net.URLDecoder;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Presence across nodes: tells the other nodes who this node lists in each room and who types, and hears what they
 * list, through the store's signals (nothing is stored). A node's changes go out in the order they happened, as
 * lines of a signal: {@code + room person} (listed), {@code - room person} (no longer), {@code t room person}
 * (typing). Every {@code stateIntervalNanos}, and when a node asks ({@code hello}, after it began listening),
 * each node sends all it lists ({@code state}, {@code = room person} lines, {@code end}); a receiver takes that as
 * the whole truth about the sender, so a lost signal is mended by the next state. A node not heard from for
 * {@code nodeTimeoutNanos} is taken for dead, and its people leave the rooms.
 *
 * <p>Concurrency: {@link #changed} and {@link #typed} are called under a room's lock and only queue; one thread
 * sends what is queued. The thread that follows the store calls {@link #received}. Whatever a node lists is sent
 * by the sending thread, which reads the rooms when it sends, so a state never goes out before a change it misses.
 */
final class NodePresence implements PresenceRelay, AutoCloseable {

    private static final int QUEUE_CAPACITY = 65_536;
    /** Below PostgreSQL's 8000-byte notification payload; names are percent-encoded, so a character is a byte. */
    private static final int MAX_PAYLOAD_CHARS = 7_900;
    /** Asks the sending thread for this node's state. */
    private static final String STATE = "state";
    private static final Logger LOG = Logger.getLogger(NodePresence.class.getName());

    private final String node = UUID.randomUUID().toString();
    private final MessageStore store;
    private final LongSupplier nanoTime;
    /** A node not heard from for this long is taken for dead. */
    private final long nodeTimeoutNanos;
    /** How often this node says all it lists: well within the timeout, so that one lost state does not matter. */
    private final long stateIntervalNanos;
    private final BlockingQueue<String> outgoing = new ArrayBlockingQueue<>(QUEUE_CAPACITY);
    /** When each other node was last heard from. Touched by the following thread only ({@link #received}). */
    private final Map<String, Long> lastHeard = new HashMap<>();
    /** A state being received, by node, until its {@code end}. */
    private final Map<String, Map<String, Set<Author>>> statesUnderway = new HashMap<>();
    private final Thread sender;
    private volatile Presence presence;
    private volatile boolean running = true;
    /** The queue overflowed, or sending failed: what was dropped is mended by sending the state next. */
    private volatile boolean stateOwed;
    /** Whether the last signal failed; the sending thread's own, so that an outage is logged once. */
    private boolean failing;

    NodePresence(MessageStore store, long nodeTimeoutNanos, LongSupplier nanoTime) {
        this.store = store;
        this.nanoTime = nanoTime;
        this.nodeTimeoutNanos = nodeTimeoutNanos;
        this.stateIntervalNanos = nodeTimeoutNanos * 2 / 5;
        this.sender = DaemonThreads.named("chat-presence").newThread(this::send);
    }

    /** Starts sending, for {@code presence}, whose changes come through this relay. */
    void start(Presence presence) {
        this.presence = presence;
        sender.start();
    }

    @Override
    public void changed(String room, Author person, boolean listed) {
        queue((listed ? "+ " : "- ") + room + ' ' + encode(person));
    }

    @Override
    public void typed(String room, Author person) {
        queue("t " + room + ' ' + encode(person));
    }

    /**
     * This node (re)began listening: it may have missed changes, so it asks every node for its state. The nodes it
     * knew get a full timeout from now: they could not be heard while it was not listening.
     */
    void listening() {
        long now = nanoTime.getAsLong();
        lastHeard.replaceAll((node, heard) -> now);
        queue("hello");
        queue(STATE);
    }

    private void queue(String line) {
        if (!outgoing.offer(line)) {
            stateOwed = true;
        }
    }

    private void send() {
        long nextState = nanoTime.getAsLong();
        List<String> lines = new ArrayList<>();
        while (running) {
            try {
                String first = outgoing.poll(200, TimeUnit.MILLISECONDS);
                if (first != null) {
                    lines.add(first);
                    outgoing.drainTo(lines, 1_000);
                }
                if (stateOwed || nanoTime.getAsLong() - nextState >= 0) {
                    stateOwed = false;
                    lines.add(STATE);
                    nextState = nanoTime.getAsLong() + stateIntervalNanos;
                }
                if (!lines.isEmpty()) {
                    signal(lines);
                }
            } catch (InterruptedException e) {
                return;
            } catch (RuntimeException e) {
                LOG.log(Level.SEVERE, "Sending presence to the other nodes failed", e);
            } finally {
                lines.clear();
            }
        }
    }

    /** Sends {@code lines}, a state where one is asked for, in payloads that fit. Dropped if the store is down. */
    private void signal(List<String> lines) {
        List<String> payloads = new ArrayList<>(1);
        StringBuilder payload = new StringBuilder(node);
        for (String line : lines) {
            if (!line.equals(STATE)) {
                append(payloads, payload, line);
                continue;
            }
            append(payloads, payload, "state");
            presence.listedHere((room, people) -> {
                for (Author person : people) {
                    append(payloads, payload, "= " + room + ' ' + encode(person));
                }
            });
            append(payloads, payload, "end");
        }
        payloads.add(payload.toString());
        try {
            store.signalOtherNodes(payloads);
            if (failing) {
                failing = false;
                LOG.info("Sending presence to the other nodes again");
            }
        } catch (StoreException e) {
            stateOwed = true; // what the others missed meanwhile
            if (!failing) {
                failing = true;
                LOG.log(Level.WARNING, "Cannot send presence to the other nodes now; their lists of this node's"
                        + " people are mended once the store is back: " + e.getMessage(), e);
            }
        }
    }

    private void append(List<String> payloads, StringBuilder payload, String line) {
        if (payload.length() + 1 + line.length() > MAX_PAYLOAD_CHARS) {
            payloads.add(payload.toString());
            payload.setLength(0);
            payload.append(node);
        }
        payload.append('\n').append(line);
    }

    /** Signals from the store, this node's own among them, in the order they were sent. */
    void received(List<String> signals) {
        long now = nanoTime.getAsLong();
        for (String signal : signals) {
            String[] lines = signal.split("\n");
            String from = lines[0];
            if (from.equals(node)) {
                continue;
            }
            lastHeard.put(from, now);
            for (int i = 1; i < lines.length; i++) {
                try {
                    take(from, lines[i]);
                } catch (RuntimeException e) {
                    LOG.log(Level.WARNING, "Ignoring a presence signal line of node " + from + ": '" + lines[i]
                            + "'", e);
                }
            }
        }
        forgetSilentNodes(now);
    }

    private void take(String from, String line) {
        if (line.equals("hello")) {
            stateOwed = true;
            return;
        }
        if (line.equals("state")) {
            statesUnderway.put(from, new HashMap<>());
            return;
        }
        if (line.equals("end")) {
            Map<String, Set<Author>> state = statesUnderway.remove(from);
            if (state != null) {
                replaceState(from, state);
            }
            return;
        }
        int space = line.indexOf(' ', 2);
        String room = line.substring(2, space);
        Author person = decode(line.substring(space + 1));
        switch (line.charAt(0)) {
            case '+' -> presence.elsewhere(from, room, person, true);
            case '-' -> presence.elsewhere(from, room, person, false);
            case 't' -> presence.typingElsewhere(room, person);
            case '=' -> {
                Map<String, Set<Author>> state = statesUnderway.get(from);
                if (state != null) {
                    state.computeIfAbsent(room, r -> new HashSet<>()).add(person);
                }
            }
            default -> throw new IllegalArgumentException("unknown kind " + line.charAt(0));
        }
    }

    /** {@code node} lists exactly {@code state}: who it listed before and no longer does leaves. */
    private void replaceState(String from, Map<String, Set<Author>> state) {
        Map<String, Set<Author>> before = presence.listedBy(from);
        before.forEach((room, people) -> {
            Set<Author> now = state.getOrDefault(room, Set.of());
            for (Author person : people) {
                if (!now.contains(person)) {
                    presence.elsewhere(from, room, person, false);
                }
            }
        });
        state.forEach((room, people) -> {
            Set<Author> earlier = before.getOrDefault(room, Set.of());
            for (Author person : people) {
                if (!earlier.contains(person)) {
                    presence.elsewhere(from, room, person, true);
                }
            }
        });
    }

    /** Called by the following thread now and then, signals or not. */
    void forgetSilentNodes(long now) {
        lastHeard.entrySet().removeIf(heard -> {
            if (now - heard.getValue() < nodeTimeoutNanos) {
                return false;
            }
            LOG.info("Node " + heard.getKey() + " was not heard from for "
                    + TimeUnit.NANOSECONDS.toSeconds(nodeTimeoutNanos) + " s: its people leave their rooms");
            statesUnderway.remove(heard.getKey());
            replaceState(heard.getKey(), Map.of());
            return true;
        });
    }

    /** {@code v name} or {@code c name}: verified or chosen, the name percent-encoded (no space, no line break). */
    private static String encode(Author person) {
        return (person.verified() ? "v " : "c ") + URLEncoder.encode(person.name(), StandardCharsets.UTF_8);
    }

    private static Author decode(String encoded) {
        return new Author(URLDecoder.decode(encoded.substring(2), StandardCharsets.UTF_8), encoded.charAt(0) == 'v');
    }

    @Override
    public void close() {
        running = false;
        sender.interrupt();
        try {
            sender.join(TimeUnit.SECONDS.toMillis(5));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
