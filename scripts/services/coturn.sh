#!/usr/bin/env bash
# coturn from Debian: a static long-term user (alice/secret) on
# 127.0.0.1:3478 and a TURN REST shared secret (s3cr3t) on 127.0.0.1:3479,
# both with --allow-loopback-peers so that tests can relay to 127.x peers.
SERVICE=coturn; source "$(dirname "$0")/lib.sh"
DIR="$RUN/coturn"; mkdir -p "$DIR"
REALM=sysblocks.test
ready() { timeout 3 turnutils_stunclient -p "$1" 127.0.0.1 2>&1 | grep -q "UDP reflexive addr"; }
apt_install coturn
start() { # name port minport maxport auth-args...
  local name=$1 port=$2 lo=$3 hi=$4; shift 4
  if pid_alive "$DIR/$name.pid" && ready "$port"; then log "$name already running on 127.0.0.1:$port"; return 0; fi
  local t0; t0=$(now_ms)
  setsid turnserver -n --listening-ip=127.0.0.1 --relay-ip=127.0.0.1 --listening-port="$port" \
    --min-port="$lo" --max-port="$hi" --realm="$REALM" "$@" --fingerprint \
    --no-tls --no-dtls --no-cli --allow-loopback-peers \
    --log-file="$DIR/$name.log" --simple-log --pidfile="$DIR/$name.pid" </dev/null >/dev/null 2>&1 &
  local pid=$!; echo $pid >"$DIR/$name.pid"
  wait_for 30 "$DIR/$name.log" "$pid" ready "$port" || die "coturn $name did not start"
  log "$name ready on 127.0.0.1:$port in $(( $(now_ms) - t0 )) ms, rss $(rss_mb "$pid") MiB"
}
start static 3478 49160 49200 --lt-cred-mech --user=alice:secret
start rest 3479 49201 49240 --use-auth-secret --static-auth-secret=s3cr3t
