package chat.web;

import jakarta.servlet.HttpConstraintElement;
import jakarta.servlet.HttpMethodConstraintElement;
import jakarta.servlet.ServletContext;
import jakarta.servlet.ServletRegistration;
import jakarta.servlet.ServletSecurityElement;
import jakarta.servlet.annotation.ServletSecurity;

import java.util.List;
import java.util.Set;

/**
 * The container's login for the chat, from {@code chat.loginRoles}, so that an operator turns it on with a setting
 * instead of editing the WAR's web.xml: the page and the handshake (every URL the container's {@code default}
 * servlet answers, {@code /chat} among them) are for users in one of the roles; {@code /health}, {@code /metrics}
 * and the sign-in page's files stay open. How a user logs in is the WAR's FORM login (web.xml), or the
 * authenticator valve of the context descriptor (BASIC, an SSO valve), which Tomcat then uses instead. Only
 * possible while the webapp starts (Servlet's programmatic security), so it is applied by {@link ChatLifecycle}.
 */
final class LoginConstraints {

    /** The container's servlet for static files, mapped to {@code /}: its constraint covers every other URL. */
    private static final String PAGE_SERVLET = "default";
    private static final List<String> OPEN_SERVLETS = List.of("health", "metrics", "login");

    private LoginConstraints() {
    }

    static void apply(ServletContext context, List<String> roles) {
        if (roles.isEmpty()) {
            return;
        }
        String[] allowed = roles.toArray(String[]::new);
        constrain(context, PAGE_SERVLET, new ServletSecurityElement(
                new HttpConstraintElement(ServletSecurity.TransportGuarantee.NONE, allowed)));
        // An element that only permits creates no constraint, and "/" would cover these too: one per method does.
        ServletSecurityElement open = new ServletSecurityElement(List.of(new HttpMethodConstraintElement("GET"),
                new HttpMethodConstraintElement("HEAD")));
        for (String servlet : OPEN_SERVLETS) {
            constrain(context, servlet, open);
        }
    }

    private static void constrain(ServletContext context, String servlet, ServletSecurityElement security) {
        if (!(context.getServletRegistration(servlet) instanceof ServletRegistration.Dynamic registration)) {
            throw new IllegalStateException("Setting chat.loginRoles needs the servlet '" + servlet + "' (Tomcat's"
                    + " conf/web.xml defines 'default'), to set its security; it is missing");
        }
        Set<String> declared = registration.setServletSecurity(security);
        if (!declared.isEmpty()) {
            throw new IllegalStateException("Setting chat.loginRoles: a web.xml already constrains " + declared
                    + "; remove that constraint or chat.loginRoles, not both");
        }
    }
}
