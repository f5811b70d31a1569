package chat.store;

import chat.protocol.Author;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import javax.sql.DataSource;

/**
 * The statements SQLite and PostgreSQL run alike, on the same tables ({@code rooms}, {@code messages}): one
 * connection from the pool per call.
 */
final class StoreQueries {

    static final String ROOMS = "SELECT name, newest FROM rooms ORDER BY name";
    static final String LATEST = "SELECT newest FROM rooms WHERE name = ?";
    static final String OLDEST = "SELECT COALESCE(MIN(room_offset), 0) FROM messages"
            + " WHERE room_id = (SELECT id FROM rooms WHERE name = ?)";
    /**
     * Looks at the oldest rows only, in the primary key's order: created_at has no index, and a condition on it
     * alone would scan the whole table each time nothing is old enough. Rows are stored in time order. The newest
     * message of each room stays.
     */
    static final String DELETE_OLDEST = "DELETE FROM messages WHERE id IN (SELECT id FROM messages ORDER BY id"
            + " LIMIT ?) AND room_offset < (SELECT newest FROM rooms WHERE rooms.id = messages.room_id)"
            + " AND (created_at < ? OR ?)";

    private StoreQueries() {
    }

    /**
     * The rows of {@code query} (offset, content, author, verified, created_at), in its order, until their texts
     * reach {@code maxChars}; the rows after the cut are not fetched one by one.
     */
    static List<StoredMessage> page(PreparedStatement query, int limit, long maxChars) throws SQLException {
        List<StoredMessage> page = new ArrayList<>(Math.min(limit, 1024));
        long chars = 0;
        try (ResultSet rows = query.executeQuery()) {
            while (chars < maxChars && rows.next()) {
                String text = rows.getString(2);
                page.add(new StoredMessage(rows.getLong(1), text, new Author(rows.getString(3), rows.getBoolean(4)),
                        rows.getLong(5)));
                chars += text.length();
            }
        }
        return page;
    }

    static List<RoomHead> rooms(DataSource dataSource) throws StoreException {
        try (Connection connection = dataSource.getConnection();
             Statement statement = connection.createStatement();
             ResultSet rows = statement.executeQuery(ROOMS)) {
            List<RoomHead> rooms = new ArrayList<>();
            while (rows.next()) {
                rooms.add(new RoomHead(rows.getString(1), rows.getLong(2)));
            }
            return rooms;
        } catch (SQLException e) {
            throw new StoreException("Reading the rooms failed: " + e.getMessage(), e);
        }
    }

    /** {@code query}'s one number for {@code room} ({@link #LATEST}, {@link #OLDEST}), 0 without a row. */
    static long offset(DataSource dataSource, String query, String room, String which) throws StoreException {
        try (Connection connection = dataSource.getConnection();
             PreparedStatement statement = connection.prepareStatement(query)) {
            statement.setString(1, room);
            try (ResultSet offset = statement.executeQuery()) {
                return offset.next() ? offset.getLong(1) : 0;
            }
        } catch (SQLException e) {
            throw new StoreException("Reading the " + which + " offset of room " + room + " failed: "
                    + e.getMessage(), e);
        }
    }

    /** One DELETE of at most {@code maxRows} rows ({@link #DELETE_OLDEST}), its own short transaction. */
    static int deleteOldest(DataSource dataSource, long storedBeforeMillis, boolean overSize, int maxRows)
            throws StoreException {
        try (Connection connection = dataSource.getConnection();
             PreparedStatement delete = connection.prepareStatement(DELETE_OLDEST)) {
            delete.setInt(1, maxRows);
            delete.setLong(2, storedBeforeMillis);
            delete.setBoolean(3, overSize);
            return delete.executeUpdate();
        } catch (SQLException e) {
            throw new StoreException("Deleting the oldest messages failed: " + e.getMessage(), e);
        }
    }

    /** Rolls back after {@code cause}; a rollback that fails too is added to it. */
    static void rollbackQuietly(Connection connection, Exception cause) {
        try {
            connection.rollback();
        } catch (SQLException rollbackFailure) {
            cause.addSuppressed(rollbackFailure);
        }
    }
}
