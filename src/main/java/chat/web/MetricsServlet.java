package chat.web;

import io.prometheus.metrics.config.EscapingScheme;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

import java.io.IOException;

/**
 * {@code GET /metrics}: the chat's counters and the JVM's memory in the Prometheus text format. Meant for the
 * monitoring network only; tomcat-conf's nginx site does not pass it through.
 */
public final class MetricsServlet extends HttpServlet {

    private static final long serialVersionUID = 1L;

    private final transient PrometheusTextFormatWriter format = PrometheusTextFormatWriter.create();

    @Override
    protected void doGet(HttpServletRequest request, HttpServletResponse response) throws IOException {
        RunningChat chat = RunningChat.in(getServletContext());
        response.setHeader("Cache-Control", "no-store");
        if (chat == null) {
            response.sendError(HttpServletResponse.SC_SERVICE_UNAVAILABLE, "The chat is not running");
            return;
        }
        response.setContentType(format.getContentType());
        format.write(response.getOutputStream(), chat.registry().scrape(), EscapingScheme.DEFAULT);
    }
}
