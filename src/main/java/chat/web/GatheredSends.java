package chat.web;

import chat.delivery.FrameSink;
import jakarta.websocket.RemoteEndpoint;
import jakarta.websocket.SendHandler;
import jakarta.websocket.SendResult;
import jakarta.websocket.Session;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.nio.ByteBuffer;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Sends a run of frames through Tomcat's output buffer, so that the run costs one socket write per buffer
 * instead of one write, and one completion handed to another thread, per frame.
 *
 * <p>The WebSocket API has batching ({@code setBatchingAllowed}), but it ends a batch with {@code flushBatch()},
 * which blocks until the socket takes the data: on a slow client that would stall the thread delivering to
 * everyone. Tomcat itself can flush without blocking, through an internal flush message written like any other
 * frame. So this class sets Tomcat's batching flag while a run is sent, and after the run's last frame starts that
 * internal flush; the frame is reported sent when the flush is written. The flag and the flush are Tomcat
 * internals, the same in 10.1 and 11; where they are not found, {@link #of} returns null and every frame is
 * written on its own.
 *
 * <p>Tomcat writes frames of its own at any time: pongs to the client's pings, from its reading thread, and the
 * chat's pings. While the flag is on they are appended to the buffer; while it is off they go straight to the
 * socket. A buffer that ends in the first part of a frame must therefore never meet a frame written straight to
 * the socket, or that frame would land inside the other one's payload. So the flag is cleared only once the run's
 * flush has emptied the buffer; whatever control frame was appended in the moment between, whole, goes out with
 * a second flush.
 */
final class GatheredSends {

    private static final Logger LOG = Logger.getLogger(GatheredSends.class.getName());
    private static final Tomcat TOMCAT = Tomcat.find();

    private final RemoteEndpoint.Async remote;
    private final Object endpoint;
    private final AtomicBoolean gathering;
    private volatile boolean stopped;

    private GatheredSends(RemoteEndpoint.Async remote, Object endpoint, AtomicBoolean gathering) {
        this.remote = remote;
        this.endpoint = endpoint;
        this.gathering = gathering;
    }

    /** @return the session's gathered sends, or null if this container cannot gather without blocking */
    static GatheredSends of(Session session) {
        if (TOMCAT == null) {
            return null;
        }
        RemoteEndpoint.Async remote = session.getAsyncRemote();
        try {
            Object endpoint = TOMCAT.endpoint.get(remote);
            return new GatheredSends(remote, endpoint, (AtomicBoolean) TOMCAT.batching.get(endpoint));
        } catch (IllegalAccessException | RuntimeException e) {
            LOG.log(Level.FINE, "Frames of session " + session.getId() + " are written one by one", e);
            return null;
        }
    }

    /** See {@link FrameSink#send}. */
    void send(String frame, boolean more, FrameSink.SendCallback done) {
        if (more && !stopped) {
            gathering.set(true);
            remote.sendText(frame, result -> done.sent(failure(result)));
        } else if (gathering.get()) {
            remote.sendText(frame, result -> {
                if (result.isOK()) {
                    flush(flushed -> {
                        gathering.set(false);
                        if (flushed.isOK()) {
                            flush(strays -> done.sent(failure(strays)));
                        } else {
                            done.sent(flushed.getException());
                        }
                    });
                } else {
                    done.sent(result.getException());
                }
            });
        } else {
            remote.sendText(frame, result -> done.sent(failure(result)));
        }
    }

    /**
     * Before the chat closes the connection: what is gathered is dropped rather than flushed first, which on a
     * client that stopped reading would block the closing thread until Tomcat's send timeout.
     */
    void stop() {
        stopped = true;
        gathering.set(false);
    }

    /** Writes Tomcat's output buffer without blocking; {@code then} learns when it is written. */
    private void flush(SendHandler then) {
        try {
            TOMCAT.startMessage.invoke(endpoint, TOMCAT.flushOpcode, (ByteBuffer) null, true, then);
        } catch (Error e) {
            throw e;
        } catch (Throwable closedMeanwhile) {
            then.onResult(new SendResult(closedMeanwhile));
        }
    }

    private static Throwable failure(SendResult result) {
        return result.isOK() ? null : result.getException();
    }

    /** Where Tomcat keeps what is needed: found once, or not at all. */
    private record Tomcat(Field endpoint, Field batching, MethodHandle startMessage, byte flushOpcode) {

        static Tomcat find() {
            ClassLoader containers = Session.class.getClassLoader();
            try {
                Class<?> async = Class.forName("org.apache.tomcat.websocket.WsRemoteEndpointBase", false, containers);
                Class<?> impl = Class.forName("org.apache.tomcat.websocket.WsRemoteEndpointImplBase", false, containers);
                Class<?> constants = Class.forName("org.apache.tomcat.websocket.Constants", false, containers);
                Field endpoint = async.getDeclaredField("base");
                Field batching = impl.getDeclaredField("batchingAllowed");
                Method start = impl.getDeclaredMethod("startMessage", byte.class, ByteBuffer.class, boolean.class,
                        SendHandler.class);
                Field flush = constants.getDeclaredField("INTERNAL_OPCODE_FLUSH");
                if (batching.getType() != AtomicBoolean.class || flush.getType() != byte.class) {
                    throw new NoSuchFieldException("batchingAllowed or INTERNAL_OPCODE_FLUSH of another type");
                }
                endpoint.setAccessible(true);
                batching.setAccessible(true);
                start.setAccessible(true);
                flush.setAccessible(true);
                return new Tomcat(endpoint, batching, MethodHandles.lookup().unreflect(start), flush.getByte(null));
            } catch (ReflectiveOperationException | RuntimeException e) {
                LOG.info("Frames are written one by one, without gathering: this is not the WebSocket"
                        + " implementation of Tomcat 10.1 or 11 (" + e + ")");
                return null;
            }
        }
    }
}
