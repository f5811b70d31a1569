package chat.testsupport;

import org.junit.platform.launcher.LauncherSession;
import org.junit.platform.launcher.LauncherSessionListener;

/**
 * One PostgreSQL for a whole test run that asks for it ({@code -Dit.postgres.session=true}, the failsafe execution
 * {@code cluster}), started before the first test class, so that the Tomcat Arquillian starts for it can already
 * point at it, and stopped after the last. It publishes, as system properties, {@code it.server.db.options} (the
 * JVM options arquillian.xml passes to Tomcat: chat.db.url, user, password) and {@code it.db.url},
 * {@code it.db.user}, {@code it.db.password} for {@link ChatWar#database()}. Any other run is left alone.
 */
public final class PostgresSession implements LauncherSessionListener {

    private Postgres postgres;

    @Override
    public void launcherSessionOpened(LauncherSession session) {
        if (!Boolean.getBoolean("it.postgres.session")) {
            return;
        }
        try {
            postgres = Postgres.start("session-postgres");
        } catch (Exception e) {
            throw new IllegalStateException("Cannot start the PostgreSQL of the test run: " + e.getMessage(), e);
        }
        System.setProperty("it.db.url", postgres.jdbcUrl());
        System.setProperty("it.db.user", postgres.user());
        System.setProperty("it.db.password", postgres.password());
        System.setProperty("it.server.db.options", "-Dchat.db.url=" + postgres.jdbcUrl() + " -Dchat.db.user="
                + postgres.user() + " -Dchat.db.password=" + postgres.password());
    }

    @Override
    public void launcherSessionClosed(LauncherSession session) {
        if (postgres != null) {
            postgres.close();
            postgres = null;
        }
    }
}
