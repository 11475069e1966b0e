#!/bin/bash
# The official zookeeper image's entrypoint contract, over Debian's zookeeper package:
# the same ZOO_* variables, the same /conf, /data and /datalog, the same zoo.cfg written
# once on first start (so a restarted container keeps its configuration and its data).
set -e

if [[ ! -f "$ZOO_CONF_DIR/zoo.cfg" ]]; then
  config="$ZOO_CONF_DIR/zoo.cfg"
  {
    echo "dataDir=$ZOO_DATA_DIR"
    echo "dataLogDir=$ZOO_DATA_LOG_DIR"
    echo "tickTime=$ZOO_TICK_TIME"
    echo "initLimit=$ZOO_INIT_LIMIT"
    echo "syncLimit=$ZOO_SYNC_LIMIT"
    echo "autopurge.snapRetainCount=$ZOO_AUTOPURGE_SNAPRETAINCOUNT"
    echo "autopurge.purgeInterval=$ZOO_AUTOPURGE_PURGEINTERVAL"
    echo "maxClientCnxns=$ZOO_MAX_CLIENT_CNXNS"
    echo "standaloneEnabled=$ZOO_STANDALONE_ENABLED"
    echo "admin.enableServer=$ZOO_ADMINSERVER_ENABLED"
  } >"$config"
  for server in ${ZOO_SERVERS:-server.1=localhost:2888:3888;2181}; do
    echo "$server" >>"$config"
  done
  if [[ -n "$ZOO_4LW_COMMANDS_WHITELIST" ]]; then
    echo "4lw.commands.whitelist=$ZOO_4LW_COMMANDS_WHITELIST" >>"$config"
  fi
  for entry in $ZOO_CFG_EXTRA; do
    echo "$entry" >>"$config"
  done
fi

if [[ ! -f "$ZOO_DATA_DIR/myid" ]]; then
  echo "${ZOO_MY_ID:-1}" >"$ZOO_DATA_DIR/myid"
fi

exec "$@"
