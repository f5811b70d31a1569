package chat.delivery;

import chat.protocol.Author;

/**
 * Where {@link Presence} tells the other nodes what changed here. Called while the room's lock is held, in the
 * order of the room's changes: it queues, it does not wait.
 */
interface PresenceRelay {

    /** A single node has nobody to tell. */
    PresenceRelay NONE = new PresenceRelay() {
        @Override
        public void changed(String room, Author person, boolean listed) {
        }

        @Override
        public void typed(String room, Author person) {
        }
    };

    /** This node lists {@code person} in {@code room} from now on, or no longer. */
    void changed(String room, Author person, boolean listed);

    /** This node forwarded {@code person}'s typing in {@code room}. */
    void typed(String room, Author person);
}
