#!/bin/bash
# `zkServer.sh start-foreground [config]`, as the official image's CMD runs it, over the jars
# of Debian's zookeeper package. Logs go to standard error (slf4j-simple), where `docker logs`
# reads them, as the official image's console appender does.
set -e
case "${1:-}" in
  start-foreground) ;;
  *) echo "usage: zkServer.sh start-foreground [config]" >&2; exit 2 ;;
esac
exec java $SERVER_JVMFLAGS $JVMFLAGS \
  -Dzookeeper.log.dir="$ZOO_LOG_DIR" \
  -Dorg.slf4j.simpleLogger.showDateTime=true \
  -Dorg.slf4j.simpleLogger.dateTimeFormat="yyyy-MM-dd HH:mm:ss,SSS" \
  -cp "/usr/share/java/zookeeper.jar:/usr/share/java/slf4j-simple.jar" \
  org.apache.zookeeper.server.quorum.QuorumPeerMain "${2:-$ZOO_CONF_DIR/zoo.cfg}"
