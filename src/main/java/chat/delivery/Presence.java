package chat.delivery;

import chat.protocol.Author;
import chat.protocol.FrameCodec;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import java.util.function.LongSupplier;

/**
 * Who is in each room, and who is typing there, as the room's connections are told.
 *
 * <p>A connection counts from its subscription's {@code synced} on: it is sent the room's people then, and every
 * change after. A person is an {@link Author}; several connections of one (tabs) count once. When a person's last
 * connection to a room drops, they stay listed for the grace period, so that a reconnect within it is neither a
 * {@code left} nor a {@code joined}; leaving the room on purpose ({@code leave}) reports {@code left} at once.
 *
 * <p>Each room's state is guarded by its own lock. Frames are queued while holding it, so every connection gets a
 * room's presence frames in the order of the changes, and are sent after it is released. A room with more people
 * than are listed is sent its count at most once per {@code countIntervalNanos}, not on every change: otherwise a
 * reconnect storm of n people would cost n² frames. Only connections that
 * name rooms (v2) are sent presence and typing frames; v1 clients are counted, never told.
 *
 * <p>With several nodes, a room's people are also those the other nodes list ({@link #elsewhere}); a person is
 * listed while any node lists them. Every change of who this node lists, and every typing it forwards, goes to the
 * {@link PresenceRelay} while the room's lock is held, so that the other nodes hear a room's changes in order.
 */
final class Presence {

    private final int maxListed;
    private final long graceNanos;
    private final long typingIntervalNanos;
    private final long countIntervalNanos;
    private final ScheduledExecutorService timers;
    private final LongSupplier nanoTime;
    private final Map<String, RoomPeople> rooms = new ConcurrentHashMap<>();
    private final PresenceRelay relay;

    /**
     * @param maxListed           people a room's frames list at most; past that they carry only the count
     * @param typingIntervalNanos at most one typing frame of a person in a room is forwarded in this time
     * @param countIntervalNanos  a room that only counts its people sends the count at most once in this time
     * @param timers              runs the ends of grace periods and the counts
     */
    Presence(int maxListed, long graceNanos, long typingIntervalNanos, long countIntervalNanos,
             ScheduledExecutorService timers, LongSupplier nanoTime) {
        this(maxListed, graceNanos, typingIntervalNanos, countIntervalNanos, timers, nanoTime, PresenceRelay.NONE);
    }

    /** @param relay told of this node's changes, for the other nodes */
    Presence(int maxListed, long graceNanos, long typingIntervalNanos, long countIntervalNanos,
             ScheduledExecutorService timers, LongSupplier nanoTime, PresenceRelay relay) {
        this.relay = relay;
        this.maxListed = maxListed;
        this.countIntervalNanos = countIntervalNanos;
        this.graceNanos = graceNanos;
        this.typingIntervalNanos = typingIntervalNanos;
        this.timers = timers;
        this.nanoTime = nanoTime;
    }

    /**
     * The subscription's connection was sent the room's {@code synced}: it is told who is there, and the others
     * that it is. A subscription cancelled or a connection closed by then is not counted: {@link #departed} for
     * it has run, or finds it.
     */
    void arrived(Subscription subscription) {
        ClientConnection connection = subscription.connection();
        List<ClientConnection> told = new ArrayList<>();
        inRoom(subscription.room(), people -> {
            if (subscription.isCancelled() || connection.isClosed()) {
                return;
            }
            Author person = connection.author();
            people.members.add(connection);
            Integer connections = people.connections.get(person);
            if (connections == null) {
                boolean listedElsewhere = people.elsewhere.containsKey(person);
                people.connections.put(person, 1);
                relay.changed(people.room, person, true);
                if (!listedElsewhere) {
                    announce(people, listedCount(people) - 1, List.of(person), List.of(), connection, told);
                }
            } else {
                ScheduledFuture<?> leaving = people.leaving.remove(person);
                if (leaving != null) {
                    leaving.cancel(false);
                }
                people.connections.put(person, connections + 1);
            }
            if (connection.namesRoomsNow() && connection.presence(snapshot(people, person))) {
                told.add(connection);
            }
        });
        flush(told);
    }

    /**
     * The connection is no longer in the room: it left it ({@code onPurpose}) or it closed. Nothing happens if it
     * never got as far as {@link #arrived}.
     */
    void departed(ClientConnection connection, String room, boolean onPurpose) {
        RoomPeople people = rooms.get(room);
        if (people == null) {
            return;
        }
        List<ClientConnection> told = new ArrayList<>();
        synchronized (people) {
            if (people.removed || !people.members.remove(connection)) {
                return;
            }
            Author person = connection.author();
            int connections = people.connections.get(person) - 1;
            if (connections > 0) {
                people.connections.put(person, connections);
            } else if (onPurpose || graceNanos == 0) {
                left(people, person, told);
            } else {
                people.connections.put(person, 0);
                startGrace(people, person);
            }
            removeIfEmpty(people);
        }
        flush(told);
    }

    /**
     * Forwards {@code from}'s typing to the room's other connections, unless its person typed there just now or
     * {@code from} has not arrived yet. A connection with frames waiting is not sent it: typing is a hint that is
     * stale by the time a backlog has gone out, and never makes a chat message wait.
     */
    void typing(ClientConnection from, String room) {
        RoomPeople people = rooms.get(room);
        if (people == null) {
            return;
        }
        List<ClientConnection> told = new ArrayList<>();
        synchronized (people) {
            if (people.removed || !people.members.contains(from)) {
                return;
            }
            Author person = from.author();
            long now = nanoTime.getAsLong();
            Long last = people.lastTyping.get(person);
            if (last != null && now - last < typingIntervalNanos) {
                return;
            }
            people.lastTyping.put(person, now);
            relay.typed(room, person);
            forwardTyping(people, person, from, told);
        }
        flush(told);
    }

    /** Caller holds the room's lock. */
    private static void forwardTyping(RoomPeople people, Author person, ClientConnection from,
                                      List<ClientConnection> told) {
        String frame = FrameCodec.typing(people.room, person);
        for (ClientConnection member : people.members) {
            if (member != from && member.namesRoomsNow() && member.typing(frame)) {
                told.add(member);
            }
        }
    }

    /**
     * Another node's change: it lists {@code person} in {@code room} now ({@code here}), or no longer. The room's
     * connections here hear of it when the person is listed by no node, or by this one, before it.
     */
    void elsewhere(String node, String room, Author person, boolean here) {
        List<ClientConnection> told = new ArrayList<>();
        inRoom(room, people -> {
            Set<String> nodes = people.elsewhere.get(person);
            if (here) {
                if (nodes == null) {
                    people.elsewhere.put(person, new HashSet<>(Set.of(node)));
                    if (!people.connections.containsKey(person)) {
                        announce(people, listedCount(people) - 1, List.of(person), List.of(), null, told);
                    }
                } else {
                    nodes.add(node);
                }
            } else if (nodes != null && nodes.remove(node) && nodes.isEmpty()) {
                people.elsewhere.remove(person);
                if (!people.connections.containsKey(person)) {
                    people.lastTyping.remove(person);
                    announce(people, listedCount(people) + 1, List.of(), List.of(person), null, told);
                }
                removeIfEmpty(people);
            }
        });
        flush(told);
    }

    /** Another node forwarded {@code person}'s typing in {@code room}: forwarded here too, as the same rule allows. */
    void typingElsewhere(String room, Author person) {
        RoomPeople people = rooms.get(room);
        if (people == null) {
            return;
        }
        List<ClientConnection> told = new ArrayList<>();
        synchronized (people) {
            long now = nanoTime.getAsLong();
            Long last = people.lastTyping.get(person);
            if (people.removed || last != null && now - last < typingIntervalNanos) {
                return;
            }
            people.lastTyping.put(person, now);
            forwardTyping(people, person, null, told);
        }
        flush(told);
    }

    /** Who {@code node} lists, by room, as this node knows it. */
    Map<String, Set<Author>> listedBy(String node) {
        Map<String, Set<Author>> listed = new HashMap<>();
        for (RoomPeople people : rooms.values()) {
            synchronized (people) {
                for (Map.Entry<Author, Set<String>> person : people.elsewhere.entrySet()) {
                    if (person.getValue().contains(node)) {
                        listed.computeIfAbsent(people.room, room -> new HashSet<>()).add(person.getKey());
                    }
                }
            }
        }
        return listed;
    }

    /**
     * Who this node lists, by room, each room read under its lock; passed to {@code each} room by room, while its
     * lock is held, so that no change of the room is relayed between the room's state and what follows it.
     */
    void listedHere(java.util.function.BiConsumer<String, Set<Author>> each) {
        for (RoomPeople people : rooms.values()) {
            synchronized (people) {
                if (!people.removed && !people.connections.isEmpty()) {
                    each.accept(people.room, Set.copyOf(people.connections.keySet()));
                }
            }
        }
    }

    /** @param you the person the frame is for, told who they are in the first one, or null */
    private String snapshot(RoomPeople people, Author you) {
        int count = listedCount(people);
        if (count > maxListed) {
            return FrameCodec.presenceCount(people.room, count, you);
        }
        Set<Author> listed = new LinkedHashSet<>(people.connections.keySet());
        listed.addAll(people.elsewhere.keySet());
        return FrameCodec.presenceOnline(people.room, listed, you);
    }

    /** The people listed here or elsewhere. Caller holds the room's lock. */
    private static int listedCount(RoomPeople people) {
        if (people.elsewhere.isEmpty()) {
            return people.connections.size();
        }
        int count = people.elsewhere.size();
        for (Author person : people.connections.keySet()) {
            if (!people.elsewhere.containsKey(person)) {
                count++;
            }
        }
        return count;
    }

    /** Caller holds the room's lock. */
    private void left(RoomPeople people, Author person, List<ClientConnection> told) {
        people.connections.remove(person);
        relay.changed(people.room, person, false);
        if (people.elsewhere.containsKey(person)) {
            return;
        }
        people.lastTyping.remove(person);
        announce(people, listedCount(people) + 1, List.of(), List.of(person), null, told);
    }

    /** Caller holds the room's lock. */
    private void startGrace(RoomPeople people, Author person) {
        AtomicReference<ScheduledFuture<?>> self = new AtomicReference<>();
        Runnable graceOver = () -> {
            List<ClientConnection> told = new ArrayList<>();
            synchronized (people) {
                if (people.removed || people.leaving.get(person) != self.get()) {
                    return;
                }
                people.leaving.remove(person);
                left(people, person, told);
                removeIfEmpty(people);
            }
            flush(told);
        };
        try {
            // Scheduled under the lock, so that the task, which takes it, finds itself in leaving.
            self.set(timers.schedule(graceOver, graceNanos, TimeUnit.NANOSECONDS));
            people.leaving.put(person, self.get());
        } catch (RejectedExecutionException stopping) {
            // The chat is stopping: every connection closes, and nobody is left to tell.
        }
    }

    /**
     * Queues a change of the room's people to every member that names rooms but {@code except}: who joined and
     * left while the room lists its people, the count while it has more than that, and all of them again when it
     * has just come back under the limit. Caller holds the room's lock.
     */
    private void announce(RoomPeople people, int countBefore, List<Author> joined, List<Author> left,
                          ClientConnection except, List<ClientConnection> told) {
        int count = listedCount(people);
        if (count > maxListed) {
            scheduleCount(people);
            return;
        }
        String frame = countBefore > maxListed ? snapshot(people, null)
                : FrameCodec.presenceChange(people.room, joined, left);
        tell(people, frame, except, told);
    }

    /** Caller holds the room's lock. */
    private void tell(RoomPeople people, String frame, ClientConnection except, List<ClientConnection> told) {
        for (ClientConnection member : people.members) {
            if (member != except && member.namesRoomsNow() && member.presence(frame)) {
                told.add(member);
            }
        }
    }

    /** The room's count, sent once the interval is over, unless it lists its people again by then. Caller holds the lock. */
    private void scheduleCount(RoomPeople people) {
        if (people.countScheduled) {
            return;
        }
        Runnable sendCount = () -> {
            List<ClientConnection> told = new ArrayList<>();
            synchronized (people) {
                people.countScheduled = false;
                if (people.removed || listedCount(people) <= maxListed) {
                    return;
                }
                tell(people, FrameCodec.presenceCount(people.room, listedCount(people), null), null, told);
            }
            flush(told);
        };
        try {
            timers.schedule(sendCount, countIntervalNanos, TimeUnit.NANOSECONDS);
            people.countScheduled = true;
        } catch (RejectedExecutionException stopping) {
            // The chat is stopping: every connection closes.
        }
    }

    /** Caller holds the room's lock. */
    private void removeIfEmpty(RoomPeople people) {
        if (people.connections.isEmpty() && people.members.isEmpty() && people.elsewhere.isEmpty()) {
            people.removed = true;
            rooms.remove(people.room, people);
        }
    }

    /** Runs {@code change} holding the room's lock; a room removed while this thread waited for it is made again. */
    private void inRoom(String room, Consumer<RoomPeople> change) {
        while (true) {
            RoomPeople people = rooms.computeIfAbsent(room, RoomPeople::new);
            synchronized (people) {
                if (!people.removed) {
                    change.accept(people);
                    return;
                }
            }
        }
    }

    private static void flush(List<ClientConnection> told) {
        for (ClientConnection connection : told) {
            connection.flush();
        }
    }

    private static final class RoomPeople {
        final String room;
        /** The connections that have arrived, in the order they did. */
        final Set<ClientConnection> members = new LinkedHashSet<>();
        /** Each person listed, with their connections arrived; 0 while in the grace period. */
        final Map<Author, Integer> connections = new LinkedHashMap<>();
        final Map<Author, ScheduledFuture<?>> leaving = new HashMap<>();
        final Map<Author, Long> lastTyping = new HashMap<>();
        /** The people other nodes list in the room, with those nodes. */
        final Map<Author, Set<String>> elsewhere = new HashMap<>();
        /** A count is on its way to the members: changes until then are in it. */
        boolean countScheduled;
        /** Set when the room's entry is removed, under its lock: a thread that then gets the lock looks again. */
        boolean removed;

        RoomPeople(String room) {
            this.room = room;
        }
    }
}
