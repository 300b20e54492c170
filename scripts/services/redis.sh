#!/usr/bin/env bash
# Redis 7 from Debian on 127.0.0.1:6379, with expired-key notifications (Ex).
SERVICE=redis; source "$(dirname "$0")/lib.sh"
PORT=${SYSBLOCKS_REDIS_PORT:-6379}
DIR="$RUN/redis"; mkdir -p "$DIR"
ready() { [ "$(redis-cli -h 127.0.0.1 -p "$PORT" ping 2>/dev/null)" = PONG ]; }
if command -v redis-cli >/dev/null && ready; then
  redis-cli -h 127.0.0.1 -p "$PORT" config set notify-keyspace-events Ex >/dev/null
  log "already running on 127.0.0.1:$PORT"; exit 0
fi
apt_install redis-server redis-tools
t0=$(now_ms)
redis-server --daemonize yes --bind 127.0.0.1 --port "$PORT" --save "" --appendonly no \
  --dir "$DIR" --logfile "$DIR/redis.log" --pidfile "$DIR/redis.pid" --notify-keyspace-events Ex
wait_for 30 "$DIR/redis.log" "" ready || die "redis did not start"
log "ready on 127.0.0.1:$PORT in $(( $(now_ms) - t0 )) ms, rss $(rss_mb "$(cat "$DIR/redis.pid")") MiB"
