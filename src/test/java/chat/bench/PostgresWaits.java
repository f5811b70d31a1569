package chat.bench;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

/**
 * What the nodes' PostgreSQL sessions are doing over a phase: {@code pg_stat_activity} sampled every
 * {@link #INTERVAL_MILLIS} ms on a connection of its own, each session of the chat's database counted under its
 * wait event (a row lock shows as {@code Lock:transactionid} or {@code Lock:tuple}, the lock NOTIFY takes at commit
 * as {@code Lock:object}, the WAL flush as {@code IO:WALSync}, waiting for another session's flush as
 * {@code LWLock:WALWrite}), as running when it waits for nothing, or as waiting for its node when it is idle inside a
 * transaction (the node has the answer and has not sent the next statement yet). Reported as the mean number of
 * sessions in each state, so that a phase says which of them its commits queue behind.
 */
final class PostgresWaits {

    static final long INTERVAL_MILLIS = 20;
    private static final String SAMPLE = "SELECT state, wait_event_type, wait_event FROM pg_stat_activity"
            + " WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend'";
    private static final String LOCK = "Lock:";

    /** Opens the sampler's connection. */
    interface Connector {
        Connection connect() throws SQLException;
    }

    private final Connector connector;

    PostgresWaits(Connector connector) {
        this.connector = connector;
    }

    /** Starts sampling on a thread of its own until {@link Window#report}. */
    Window start() {
        return new Window();
    }

    final class Window {
        private final Map<String, Long> counts = new HashMap<>();
        private final Thread thread;
        private volatile boolean running = true;
        private volatile String failure;
        private long samples;

        private Window() {
            thread = Clients.started("postgres-waits", this::run);
        }

        private void run() {
            try (Connection connection = connector.connect(); Statement statement = connection.createStatement()) {
                statement.setQueryTimeout(5);
                while (running) {
                    Map<String, Long> sample = new HashMap<>();
                    try (ResultSet sessions = statement.executeQuery(SAMPLE)) {
                        while (sessions.next()) {
                            sample.merge(state(sessions.getString(1), sessions.getString(2), sessions.getString(3)),
                                    1L, Long::sum);
                        }
                    }
                    synchronized (this) {
                        sample.forEach((state, n) -> counts.merge(state, n, Long::sum));
                        samples++;
                    }
                    Thread.sleep(INTERVAL_MILLIS);
                }
            } catch (SQLException e) {
                failure = e.toString();
            } catch (InterruptedException e) {
                // stopped
            }
        }

        private String state(String state, String waitType, String waitEvent) {
            if ("idle in transaction".equals(state)) {
                return "in a transaction, waiting for its node";
            }
            if ("idle".equals(state)) {
                return "idle";
            }
            if (waitType != null) {
                return waitType + ":" + waitEvent;
            }
            return "active".equals(state) ? "running" : String.valueOf(state);
        }

        /** Stops sampling and adds the phase's rows: lock waits, and a note with every state but idle. */
        void report(Report report, String scenario) {
            running = false;
            thread.interrupt();
            try {
                thread.join(TimeUnit.SECONDS.toMillis(10));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            Map<String, Double> mean = new HashMap<>();
            long n;
            synchronized (this) {
                n = samples;
                counts.forEach((state, count) -> mean.put(state, (double) count / Math.max(1, samples)));
            }
            if (n == 0) {
                report.add(scenario, "PostgreSQL sessions waiting for a lock (mean)", null, "", null, null,
                        "pg_stat_activity could not be sampled: " + failure);
                return;
            }
            double locks = mean.entrySet().stream().filter(e -> e.getKey().startsWith(LOCK))
                    .mapToDouble(Map.Entry::getValue).sum();
            String all = mean.entrySet().stream().filter(e -> !e.getKey().equals("idle"))
                    .sorted(Map.Entry.<String, Double>comparingByValue().reversed())
                    .map(e -> e.getKey() + " " + String.format(Locale.ROOT, "%.2f", e.getValue()))
                    .collect(Collectors.joining(", "));
            report.add(scenario, "PostgreSQL sessions waiting for a lock (mean)", locks, "", null, null,
                    "the nodes' sessions, mean number in each state over " + n + " samples of pg_stat_activity: "
                            + (all.isEmpty() ? "all idle" : all));
            report.add(scenario, "PostgreSQL sessions flushing the WAL (mean)",
                    mean.getOrDefault("IO:WALSync", 0.0) + mean.getOrDefault("IO:WALWrite", 0.0)
                            + mean.getOrDefault("LWLock:WALWrite", 0.0), "", null, null,
                    "IO:WALSync, IO:WALWrite and LWLock:WALWrite (waiting for another session's flush)");
        }
    }
}
