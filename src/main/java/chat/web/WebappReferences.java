package chat.web;

import java.lang.reflect.Field;
import java.security.AccessControlContext;
import java.security.AccessController;
import java.security.DomainCombiner;
import java.security.PrivilegedAction;
import java.security.ProtectionDomain;
import java.sql.Driver;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.Arrays;
import java.util.Collections;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Lets go of everything outside the webapp that still points at its class loader when it stops, so that an
 * undeploy or redeploy leaves no class loader behind. Tomcat clears most such references itself; these are the
 * ones it does not, each found with a heap dump after a redeploy.
 */
final class WebappReferences {

    private static final Logger LOG = Logger.getLogger(WebappReferences.class.getName());

    private WebappReferences() {
    }

    static void release(ClassLoader webapp) {
        deregisterDrivers(webapp);
        releaseProcessReapers(webapp);
        releaseInheritedAccessControlContexts(webapp);
    }

    /** sqlite-jdbc registers itself with DriverManager; a driver loaded by the webapp must leave with it. */
    private static void deregisterDrivers(ClassLoader webapp) {
        for (Driver driver : Collections.list(DriverManager.getDrivers())) {
            if (driver.getClass().getClassLoader() == webapp) {
                try {
                    DriverManager.deregisterDriver(driver);
                } catch (SQLException e) {
                    LOG.log(Level.WARNING, "Cannot deregister JDBC driver " + driver.getClass().getName(), e);
                }
            }
        }
    }

    /**
     * On JDK 17 a new thread keeps, in {@code Thread.inheritedAccessControlContext}, the ProtectionDomains of every
     * frame on its creator's stack, and each domain holds its class loader. Tomcat's connector pool grows on the
     * thread that calls {@code execute()}: an async WebSocket send that completes inside {@code sendText} dispatches
     * its callback there, so under load it starts pool threads below the webapp's frames (SessionSink, Outbox),
     * and the threads those start inherit the domains in turn. Tomcat resets that context only when a security
     * manager is on; without one, take the webapp's domains out of every live thread's context here. Needs
     * java.lang opened to unnamed modules, as Tomcat's catalina.sh does.
     */
    @SuppressWarnings("removal")
    private static void releaseInheritedAccessControlContexts(ClassLoader webapp) {
        Field inherited;
        try {
            inherited = Thread.class.getDeclaredField("inheritedAccessControlContext");
            if (!inherited.trySetAccessible()) {
                LOG.fine("Cannot release the threads' access control contexts: java.lang is not opened");
                return;
            }
        } catch (NoSuchFieldException | SecurityException e) {
            return; // a JDK without it has no such references
        }
        for (Thread thread : Thread.getAllStackTraces().keySet()) {
            try {
                AccessControlContext context = (AccessControlContext) inherited.get(thread);
                ProtectionDomain[] domains = context == null ? null : domainsOf(context);
                if (domains != null && Arrays.stream(domains).anyMatch(d -> d != null && d.getClassLoader() == webapp)) {
                    inherited.set(thread, new AccessControlContext(Arrays.stream(domains)
                            .filter(d -> d == null || d.getClassLoader() != webapp).toArray(ProtectionDomain[]::new)));
                }
            } catch (IllegalAccessException | RuntimeException e) {
                LOG.log(Level.FINE, "Cannot release the access control context of thread " + thread.getName(), e);
            }
        }
    }

    /** The domains of {@code context}, read through the public API: a combiner is handed them as the assigned ones. */
    @SuppressWarnings("removal")
    private static ProtectionDomain[] domainsOf(AccessControlContext context) {
        ProtectionDomain[][] assigned = new ProtectionDomain[1][];
        DomainCombiner spy = (current, assignedDomains) -> {
            assigned[0] = assignedDomains;
            return current;
        };
        AccessController.doPrivileged((PrivilegedAction<AccessControlContext>) AccessController::getContext,
                new AccessControlContext(context, spy));
        return assigned[0];
    }

    /**
     * sqlite-jdbc runs {@code uname -o} when it loads its native library. On JDK 17 the JDK's "process reaper"
     * thread, which the first child process starts and which then idles 60 s for the next one, keeps the context
     * class loader of the thread that started it (JDK-8279488): the webapp's, which it would keep alive after
     * undeploy. Tomcat skips threads of the JVM's "system" group when it looks for leaks, so hand them back here.
     */
    private static void releaseProcessReapers(ClassLoader webapp) {
        for (Thread thread : Thread.getAllStackTraces().keySet()) {
            if (thread.getContextClassLoader() == webapp && "process reaper".equals(thread.getName())) {
                thread.setContextClassLoader(null);
            }
        }
    }
}
