package chat.store;

import com.zaxxer.hikari.SQLExceptionOverride;

import java.sql.SQLException;

/**
 * Tells HikariCP to throw away a connection that failed because of the database file rather than the statement.
 * sqlite-jdbc reports SQLite's result code as the error code and no SQLSTATE, so HikariCP alone keeps every
 * SQLite connection. A connection opened while the file was read-only stays read-only after the file is writable
 * again (SQLite fell back to opening it for reading), and one that hit a full disk or an I/O error is best not
 * trusted: a fresh connection is cheap and sees the file as it is now.
 *
 * <p>Named as {@code exceptionOverrideClassName} of the pool: the embedded one ({@link SqlitePool}) and the
 * {@code jdbc/chat} Resource of tomcat-conf's context descriptor.
 */
public final class SqliteErrorEviction implements SQLExceptionOverride {

    /** SQLite's primary result codes: READONLY, IOERR, FULL, CANTOPEN. Extended codes keep them in the low byte. */
    private static final int SQLITE_READONLY = 8;
    private static final int SQLITE_IOERR = 10;
    private static final int SQLITE_FULL = 13;
    private static final int SQLITE_CANTOPEN = 14;

    @java.lang.Override
    public Override adjudicate(SQLException failure) {
        return switch (failure.getErrorCode() & 0xff) {
            case SQLITE_READONLY, SQLITE_IOERR, SQLITE_FULL, SQLITE_CANTOPEN -> Override.MUST_EVICT;
            default -> Override.CONTINUE_EVICT;
        };
    }
}
