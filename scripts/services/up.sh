#!/usr/bin/env bash
# Starts every real service the test suite needs, in parallel, and waits
# until each answers a real query. Idempotent: running services are left
# as they are. Usage: up.sh [service ...]   (default: all)
SERVICE=up; source "$(dirname "$0")/lib.sh"
ALL=(redis mariadb kafka cassandra coturn ffmpeg chromium)
[ $# -gt 0 ] && ALL=("$@")
command -v go >/dev/null || die "go is not on PATH"
t0=$(now_ms)
declare -A pids
for s in "${ALL[@]}"; do
  [ -x "$ROOT/scripts/services/$s.sh" ] || die "no script for service $s"
  ( s0=$(now_ms); "$ROOT/scripts/services/$s.sh"; rc=$?; echo "$s $rc $(( $(now_ms) - s0 ))" >"$RUN/up.$s" ; exit $rc ) &
  pids[$s]=$!
done
failed=()
for s in "${ALL[@]}"; do wait "${pids[$s]}" || failed+=("$s"); done
for s in "${ALL[@]}"; do read -r name rc ms <"$RUN/up.$s" || true; log "$(printf '%-10s rc=%s %6d ms' "$name" "$rc" "$ms")"; done
[ ${#failed[@]} -eq 0 ] || die "services that did not start: ${failed[*]}"
log "all services ready in $(( $(now_ms) - t0 )) ms"
