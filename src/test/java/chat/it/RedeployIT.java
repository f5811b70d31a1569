package chat.it;

import chat.testsupport.ChatClient;
import chat.testsupport.ChatWar;

import com.fasterxml.jackson.databind.JsonNode;
import org.jboss.arquillian.container.test.api.Deployer;
import org.jboss.arquillian.container.test.api.Deployment;
import org.jboss.arquillian.junit5.ArquillianExtension;
import org.jboss.arquillian.test.api.ArquillianResource;
import org.jboss.shrinkwrap.api.spec.WebArchive;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.UUID;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Undeploy and deploy the WAR again in the running Tomcat: the chat comes back with its data, and leaves nothing
 * behind — no thread, no JDBC driver, no class loader that Tomcat's leak detection can find.
 *
 * <p>It deploys under a context of its own: Tomcat's leak detection names contexts, and the deployments of other
 * tests in the same Tomcat can be kept by Tomcat itself. Tomcat 11.0.24 keeps the upgrade processor of a
 * connection that a peer reset while Tomcat was closing it from another thread (AbstractProtocol's waiting
 * processors), and with it the class loader of that connection's webapp, as after ConcurrencyIT's churn.</p>
 */
@ExtendWith(ArquillianExtension.class)
class RedeployIT {

    private static final String DEPLOYMENT = "chat";
    private static final String CONTEXT = "chat-redeploy";
    private static final Pattern LEAK_WARNING = Pattern.compile(
            "failed to stop it|failed to unregister|memory leak|ThreadLocal with key|clearReferences|"
                    + "de-registration failed|\\[" + CONTEXT + "\\].*(SEVERE|leak)");

    @Deployment(name = DEPLOYMENT, managed = false, testable = false)
    static WebArchive war() {
        return ChatWar.packaged(CONTEXT);
    }

    @ArquillianResource
    private Deployer deployer;

    private static URI tomcat() {
        return URI.create("http://127.0.0.1:" + System.getProperty("it.http.port") + "/");
    }

    private static URI base() {
        return tomcat().resolve(CONTEXT + "/");
    }

    @Test
    void afterUndeployAndDeployTheChatHasItsDataAndTomcatFindsNoLeak() throws Exception {
        Path catalinaLog = catalinaLog();
        long logStart = Files.exists(catalinaLog) ? Files.size(catalinaLog) : 0;

        deployer.deploy(DEPLOYMENT);
        String clientOffset = "redeploy-" + UUID.randomUUID();
        long offset;
        try (ChatClient client = ChatClient.connect(base(), ChatWar.latestOffset(base()))) {
            client.awaitSynced();
            client.sendChat("survives a redeploy", clientOffset);
            offset = client.nextAck().path("offset").asLong();
        }
        deployer.undeploy(DEPLOYMENT);
        assertEquals(404, ChatWar.get(base().resolve("health")).statusCode(), "the chat is gone");

        deployer.deploy(DEPLOYMENT);
        try (ChatClient client = ChatClient.connect(base(), offset - 1)) {
            ChatClient.Replay replay = client.awaitSynced();
            JsonNode first = replay.messages().get(0);
            assertEquals(offset, first.path("offset").asLong());
            assertEquals("survives a redeploy", first.path("text").asText());
            client.sendChat("survives a redeploy", clientOffset);
            assertEquals(offset, client.nextAck().path("offset").asLong(), "the clientOffset is still known");
        }
        deployer.undeploy(DEPLOYMENT);

        String leaks = leaksAfterSettling();
        assertTrue(!leaks.contains("/" + CONTEXT), "Tomcat found a leaked class loader: " + leaks);

        List<String> warnings = leakWarnings(linesSince(catalinaLog, logStart));
        assertEquals(List.of(), warnings, "Tomcat's log has leak warnings");
    }


    /**
     * The leak warnings in these log lines, less one false alarm of Tomcat's own: its background processor thread
     * (Catalina-utility-N) runs each context's background work with the context's class loader bound, and when
     * an undeploy checks for leftover threads at that moment, it reports that thread. Its stack trace, printed on
     * the following lines, shows ContainerBackgroundProcessor.
     */
    private static List<String> leakWarnings(List<String> lines) {
        List<String> warnings = new java.util.ArrayList<>();
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i);
            if (!LEAK_WARNING.matcher(line).find()) {
                continue;
            }
            boolean tomcatsBackgroundProcessor = line.contains("named [Catalina-utility-")
                    && lines.subList(i + 1, Math.min(lines.size(), i + 8)).stream()
                            .anyMatch(frame -> frame.contains("ContainerBase$ContainerBackgroundProcessor"));
            if (!tomcatsBackgroundProcessor) {
                warnings.add(line);
            }
        }
        return warnings;
    }

    /**
     * Tomcat's findleaks (a full GC, then the stopped webapps whose class loader is still reachable), asked again
     * for up to 30 s while it names the chat: right after an undeploy a pooled thread can still hold a stopped
     * loader until Tomcat renews it; a real leak is still there after that.
     */
    private static String leaksAfterSettling() throws IOException, InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (true) {
            String leaks = manager("findleaks?statusLine=true");
            assertTrue(leaks.startsWith("OK"), leaks);
            if (!leaks.contains("/" + CONTEXT) || System.nanoTime() > deadline) {
                return leaks;
            }
            Thread.sleep(5_000);
        }
    }

    /** The manager's text interface, as the Arquillian user of src/test/tomcat/conf/tomcat-users.xml. */
    private static String manager(String command) throws IOException, InterruptedException {
        String credentials = Base64.getEncoder().encodeToString("arquillian:arquillian".getBytes(StandardCharsets.UTF_8));
        HttpRequest request = HttpRequest.newBuilder(tomcat().resolve("manager/text/" + command))
                .header("Authorization", "Basic " + credentials)
                .timeout(Duration.ofSeconds(60))
                .build();
        HttpResponse<String> response = HttpClient.newHttpClient().send(request, HttpResponse.BodyHandlers.ofString());
        assertEquals(200, response.statusCode(), response.body());
        return response.body();
    }

    private static Path catalinaLog() throws IOException {
        Path logs = Path.of(System.getProperty("it.tomcat.home"), "logs");
        try (Stream<Path> files = Files.list(logs)) {
            return files.filter(file -> file.getFileName().toString().startsWith("catalina."))
                    .max(Path::compareTo)
                    .orElse(logs.resolve("catalina.log"));
        }
    }

    private static List<String> linesSince(Path log, long start) throws IOException {
        byte[] all = Files.readAllBytes(log);
        return new String(all, (int) start, all.length - (int) start, StandardCharsets.UTF_8).lines().toList();
    }
}
