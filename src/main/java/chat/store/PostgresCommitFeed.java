package chat.store;

import org.postgresql.PGConnection;
import org.postgresql.PGNotification;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Listens on one connection of its own (LISTEN needs a session that stays; a pooled connection would be handed to
 * others) for the notifications of {@link PostgresMessageStore}'s commits, and passes on the other nodes'.
 * Notifications sent while the connection was down are gone: the first {@link #await} after (re)connecting says
 * so, and the caller looks at every room.
 */
final class PostgresCommitFeed implements CommitFeed {

    private static final Logger LOG = Logger.getLogger(PostgresCommitFeed.class.getName());
    /** How long a check of a quiet connection may take before it counts as lost. */
    private static final int VALIDATION_SECONDS = 5;

    private final PostgresMessageStore.ListenConnections connections;
    private final String ownWriterId;
    private Connection connection;

    PostgresCommitFeed(PostgresMessageStore.ListenConnections connections, String ownWriterId) {
        this.connections = connections;
        this.ownWriterId = ownWriterId;
    }

    @Override
    public News await(long timeoutMillis) throws StoreException, InterruptedException {
        if (connection == null) {
            listen();
            return News.LOOK_EVERYWHERE;
        }
        try {
            PGNotification[] notifications = connection.unwrap(PGConnection.class)
                    .getNotifications((int) Math.max(1, Math.min(Integer.MAX_VALUE, timeoutMillis)));
            if (Thread.interrupted()) {
                throw new InterruptedException();
            }
            if (notifications == null || notifications.length == 0) {
                // Quiet: a server that went away without closing the socket shows only when asked.
                if (!connection.isValid(VALIDATION_SECONDS)) {
                    throw new SQLException("the listening connection stopped answering");
                }
                return News.NOTHING;
            }
            List<RoomHead> rooms = new ArrayList<>();
            List<String> signals = new ArrayList<>();
            for (PGNotification notification : notifications) {
                String payload = notification.getParameter();
                if (PostgresMessageStore.SIGNALS.equals(notification.getName())) {
                    signals.add(payload);
                } else if (!ownWriterId.equals(CommitNews.writerOf(payload))) {
                    CommitNews.readRooms(payload, rooms);
                }
            }
            return new News(rooms, signals, false);
        } catch (SQLException e) {
            closeConnection();
            throw new StoreException("Lost the connection that listens for the other nodes' commits: "
                    + e.getMessage(), e);
        }
    }

    private void listen() throws StoreException {
        Connection listening = null;
        try {
            listening = connections.open();
            listening.setAutoCommit(true);
            try (Statement statement = listening.createStatement()) {
                statement.execute("LISTEN " + PostgresMessageStore.CHANNEL);
                statement.execute("LISTEN " + PostgresMessageStore.SIGNALS);
            }
            connection = listening;
        } catch (SQLException e) {
            if (listening != null) {
                try {
                    listening.close();
                } catch (SQLException closeFailure) {
                    e.addSuppressed(closeFailure);
                }
            }
            throw new StoreException("Cannot listen for the other nodes' commits: " + e.getMessage(), e);
        }
    }

    private void closeConnection() {
        if (connection != null) {
            try {
                connection.close();
            } catch (SQLException e) {
                LOG.log(Level.FINE, "Closing the lost listening connection failed", e);
            } finally {
                connection = null;
            }
        }
    }

    @Override
    public void close() {
        closeConnection();
    }
}
