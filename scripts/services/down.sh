#!/usr/bin/env bash
# Stops the services that up.sh started. With --clean, also deletes their
# state (databases, topics, keyspaces) so that the next start is fresh.
# Downloads under .cache are kept.
SERVICE=down; source "$(dirname "$0")/lib.sh"
stop() { # name pidfile
  pid_alive "$2" || return 0
  local pid; pid=$(cat "$2"); kill "$pid" 2>/dev/null || true
  for _ in $(seq 1 120); do kill -0 "$pid" 2>/dev/null || { log "stopped $1"; return 0; }; sleep 0.25; done
  kill -9 "$pid" 2>/dev/null || true; log "killed $1"
}
stop cassandra "$RUN/cassandra/cassandra.pid"
stop kafka "$RUN/kafka/kafka.pid"
stop coturn-static "$RUN/coturn/static.pid"
stop coturn-rest "$RUN/coturn/rest.pid"
stop mariadb "$RUN/mariadb/run/mysqld.pid"
stop redis "$RUN/redis/redis.pid"
if [ "${1:-}" = --clean ]; then rm -rf "$RUN"; log "removed $RUN"; fi
