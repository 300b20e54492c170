#!/usr/bin/env bash
# Chromium from Debian, checked by printing a data: page headlessly.
SERVICE=chromium; source "$(dirname "$0")/lib.sh"
apt_install chromium
d=$(mktemp -d)
out=$(timeout 60 chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
  --disable-background-networking --disable-component-update --disable-sync --user-data-dir="$d" \
  --dump-dom 'data:text/html,<p id=x>sysblocks-ok</p>' 2>/dev/null || true)
rm -rf "$d"
echo "$out" | grep -q sysblocks-ok || die "headless chromium did not render a page"
log "ready: $(chromium --version 2>/dev/null)"
