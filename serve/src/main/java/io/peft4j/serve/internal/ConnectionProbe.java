package io.peft4j.serve.internal;

import jakarta.servlet.http.HttpServletRequest;
import org.eclipse.jetty.ee10.servlet.ServletContextRequest;
import org.eclipse.jetty.http.HttpVersion;
import org.eclipse.jetty.io.Connection;
import org.eclipse.jetty.io.EndPoint;
import org.eclipse.jetty.server.Request;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * Tells whether the client of an HTTP/1.1 request still being answered has closed its connection, without writing
 * to it: a non-blocking read of at most one byte from the connection's {@link EndPoint}. While a handler works on a
 * request whose body it has read, Jetty 12 does not read the socket (no fill interest), so neither its failure
 * listeners nor {@code EndPoint.isOpen()} / {@code isInputShutdown()} see a client's FIN; only a read does.
 *
 * <p>A read returns -1 (or fails) once the client has closed; 0 while it waits. On -1 the probe closes the
 * connection, so nothing is answered on it: a client that only shut down its sending side after the request counts as
 * gone too (as nginx does: its 499). A byte means the client pipelined another request behind this one (which RFC
 * 9112 section 9.3.2 tells clients not to do after a POST): the byte is handed back to Jetty's connection
 * ({@link Connection.UpgradeTo#onUpgradeTo}) ahead of the rest, still in the socket, and the probe stops reading. Only
 * the thread handling the request may call {@link #clientGone}, and only after the body was read. Over any other
 * transport (HTTP/2, a non-Jetty container) the probe never reports a close.
 *
 * <pre>{@code
 * ConnectionProbe probe = ConnectionProbe.of(ctx.req());
 * if (probe.clientGone()) {
 *     rows.forEach(Sequence::cancel);
 * }
 * }</pre>
 */
final class ConnectionProbe {
    private static final Logger LOG = LoggerFactory.getLogger(ConnectionProbe.class);
    private static final ConnectionProbe NONE = new ConnectionProbe(null, null);

    private final EndPoint endPoint;
    private final Connection.UpgradeTo connection;
    private final ByteBuffer one = ByteBuffer.allocate(1);
    private boolean stopped;

    private ConnectionProbe(EndPoint endPoint, Connection.UpgradeTo connection) {
        this.endPoint = endPoint;
        this.connection = connection;
        this.stopped = endPoint == null;
    }

    /** The probe of {@code request}'s connection: one that reads when it is HTTP/1.x on Jetty, else a no-op. */
    static ConnectionProbe of(HttpServletRequest request) {
        try {
            Request core = ServletContextRequest.getServletContextRequest(request);
            if (core == null) {
                return NONE;
            }
            HttpVersion version = core.getConnectionMetaData().getHttpVersion();
            Connection c = core.getConnectionMetaData().getConnection();
            if ((version == HttpVersion.HTTP_1_1 || version == HttpVersion.HTTP_1_0)
                    && c instanceof Connection.UpgradeTo to) {
                return new ConnectionProbe(c.getEndPoint(), to);
            }
        } catch (RuntimeException | LinkageError e) {   // not Jetty 12 ee10: no probing
            LOG.debug("no connection probe for {}", request.getClass().getName(), e);
        }
        return NONE;
    }

    /** True once the client has closed the connection (or it failed), which is then closed; never blocks. */
    boolean clientGone() {
        if (stopped) {
            return false;
        }
        one.clear().limit(0);                 // Jetty's fill appends after the limit (a buffer in "flush mode")
        int read;
        try {
            read = endPoint.fill(one);
        } catch (IOException e) {
            read = -1;
        }
        if (read < 0) {
            stopped = true;
            endPoint.close();
            return true;
        }
        if (read > 0) {                       // a pipelined request: give its first byte back, stop reading
            connection.onUpgradeTo(one);
            stopped = true;
        }
        return false;
    }
}
