package chat.bench;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The benchmark's round-2 scenarios at the smallest scale, so that a change that breaks them shows in the test run
 * and not first in a benchmark: the reconnect storm (100 clients through a restart and a redeploy of a Tomcat of
 * its own, all reconnecting at once; the page's backoff only adds waiting), idle connections from several source addresses and one broadcast to them, and the fan-out with its
 * A/B of one frame per message against lines. Their figures mean nothing at this scale; what is asserted is that
 * each ran to its end and that nothing was lost, duplicated, reordered or refused.
 */
class BenchSmokeIT {

    @Test
    void theStormIdleAndFanoutScenariosRunAndLoseNothing() throws Exception {
        Map<String, String> properties = Map.of(
                "basedir", System.getProperty("basedir", "."),
                "bench.scenarios", "fanout,idle100k,storm",
                "bench.scale", "0.01",
                "bench.phaseTimeoutSeconds", "60",
                "bench.serverHeap", "512m",
                "bench.stormSpread", "false");
        BenchOptions options = BenchOptions.from(properties::get);
        Report report = new Report();

        boolean completed = Bench.run(options, report);

        String table = report.table();
        assertTrue(completed, () -> "a scenario failed:\n" + table);
        for (String storm : List.of("storm restart at once", "storm redeploy at once")) {
            assertEquals(0.0, report.value(storm, "messages lost, duplicated or reordered (all clients)"),
                    () -> storm + ":\n" + table);
            assertEquals(0.0, report.value(storm, "handshakes refused after /health 200"), () -> storm + ":\n" + table);
        }
        assertNotNull(report.value("idle100k", "broadcast to all (last recipient)"), table);
        for (int pair = 1; pair <= FanoutScenario.AB_PAIRS; pair++) {
            for (String side : List.of(" single", " lines")) {
                String run = "fanout A/B " + pair + side;
                assertEquals(0.0, report.value(run, "lost, duplicated or reordered deliveries"), () -> run + ":\n"
                        + table);
            }
        }
        assertEquals(0.0, report.value("fanout", "lost, duplicated or reordered deliveries"), table);
    }
}
