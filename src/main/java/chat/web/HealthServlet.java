package chat.web;

import chat.delivery.ChatHub;
import chat.store.StoreException;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

import java.io.IOException;

/** {@code GET /health}: 200 while the store answers, 503 while it does not. */
public final class HealthServlet extends HttpServlet {

    private static final long serialVersionUID = 1L;

    @Override
    protected void doGet(HttpServletRequest request, HttpServletResponse response) throws IOException {
        ChatHub hub = (ChatHub) getServletContext().getAttribute(ChatLifecycle.HUB_ATTRIBUTE);
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
                body = "{\"status\":\"up\",\"offset\":" + offset + ",\"connections\":" + hub.connections() + "}";
            } catch (StoreException e) {
                response.setStatus(HttpServletResponse.SC_SERVICE_UNAVAILABLE);
                body = "{\"status\":\"down\",\"reason\":\"the message store does not answer\"}";
                log("Health check failed", e);
            }
        }
        response.getWriter().write(body);
    }
}
