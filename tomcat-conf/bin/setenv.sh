#!/bin/sh
# $CATALINA_BASE/bin/setenv.sh for the chat; catalina.sh reads it on start.
# Every chat.* setting of README's Configuration table can be added the same way.

# Where the embedded default keeps the messages (ignored when conf/Catalina/localhost/ROOT.xml defines jdbc/chat).
CHAT_DB_PATH="${CHAT_DB_PATH:-$CATALINA_BASE/data/chat.db}"
export CHAT_DB_PATH

# A fixed heap. Exit on OutOfMemoryError so that systemd (or whatever supervises Tomcat) starts a clean JVM;
# acknowledged messages are on disk, and clients reconnect with their offsets.
CATALINA_OPTS="$CATALINA_OPTS -Xms1g -Xmx1g -XX:+UseG1GC -XX:+ExitOnOutOfMemoryError"

# Listen where the proxy expects Tomcat (conf/server.xml reads these). X-Forwarded-* is believed only from
# 127.0.0.1 and ::1; for a proxy on another host, edit internalProxies in server.xml (a regular expression,
# which does not survive catalina.sh's eval of CATALINA_OPTS).
CATALINA_OPTS="$CATALINA_OPTS -Dchat.http.address=127.0.0.1 -Dchat.http.port=8080"

# Tomcat's three WebSocket buffers per connection (receive, output, UTF-8 encoding), 8 KiB each by
# default; 512 bytes, as much as conf/server.xml's socket read buffer hands over in one read. With those socket
# buffers and the webapp's receive buffers, an idle connection costs about 12 KiB of heap instead of 53 KiB;
# larger text frames are still taken (in parts) and sent (as fragments of 512 bytes).
CATALINA_OPTS="$CATALINA_OPTS -Dorg.apache.tomcat.websocket.DEFAULT_BUFFER_SIZE=512"

# The chat's pings keep idle WebSockets open through the proxy: keep nginx's proxy_read_timeout above this.
CATALINA_OPTS="$CATALINA_OPTS -Dchat.pingIntervalSeconds=25"

# FULL: an acknowledged message survives a power loss. NORMAL: faster commits, survives a Tomcat crash only.
CATALINA_OPTS="$CATALINA_OPTS -Dchat.db.synchronous=FULL"

export CATALINA_OPTS
