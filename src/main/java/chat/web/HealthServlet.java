package chat.web;

import chat.delivery.ChatHub;
import chat.store.StoreException;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

import java.io.IOException;

/**
 * {@code GET /health}: 200 while messages can be stored, 503 while they cannot (the store does not answer, or
 * the last transaction failed and the store still refuses writes). A load balancer takes the node out meanwhile;
 * it comes back by itself once the store does.
 */
public final class HealthServlet extends HttpServlet {

    private static final long serialVersionUID = 1L;

    @Override
    protected void doGet(HttpServletRequest request, HttpServletResponse response) throws IOException {
        RunningChat chat = RunningChat.in(getServletContext());
        ChatHub hub = chat == null ? null : chat.hub();
        response.setContentType("application/json");
        response.setCharacterEncoding("UTF-8");
        response.setHeader("Cache-Control", "no-store");
        String body;
        if (hub == null) {
            response.setStatus(HttpServletResponse.SC_SERVICE_UNAVAILABLE);
            body = "{\"status\":\"down\",\"reason\":\"the chat is not running\"}";
        } else {
            try {
                long offset = hub.latestOffset();
                hub.checkWritable();
                body = "{\"status\":\"up\",\"offset\":" + offset + ",\"epoch\":\"" + hub.epoch()
                        + "\",\"connections\":" + hub.connections() + "}";
            } catch (StoreException e) {
                response.setStatus(HttpServletResponse.SC_SERVICE_UNAVAILABLE);
                body = "{\"status\":\"down\",\"reason\":\"the message store does not take messages now\"}";
                log("Health check failed: " + e.getMessage());
            }
        }
        response.getWriter().write(body);
    }
}
