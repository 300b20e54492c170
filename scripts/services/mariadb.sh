#!/usr/bin/env bash
# MariaDB from Debian on 127.0.0.1:3306 with a throwaway datadir, a test
# database and an application user (sdk/sdkpass) that may create sdk_*
# databases over TCP.
SERVICE=mariadb; source "$(dirname "$0")/lib.sh"
PORT=${SYSBLOCKS_MYSQL_PORT:-3306}
DIR="$RUN/mariadb"; SOCK="$DIR/run/mysqld.sock"
ready() { mariadb -h127.0.0.1 -P"$PORT" -usdk -psdkpass -e 'SELECT 1' sdk_test; }
if command -v mariadb >/dev/null && ready >/dev/null 2>&1; then
  log "already running on 127.0.0.1:$PORT"; exit 0
fi
apt_install mariadb-server mariadb-client
t0=$(now_ms)
mkdir -p "$DIR/run"
if [ ! -d "$DIR/data/mysql" ]; then
  mariadb-install-db --user=root --datadir="$DIR/data" --auth-root-authentication-method=normal \
    --skip-test-db >"$DIR/install.log" 2>&1 || { tail -20 "$DIR/install.log" >&2; die "mariadb-install-db failed"; }
fi
setsid mariadbd --no-defaults --user=root --datadir="$DIR/data" --socket="$SOCK" --pid-file="$DIR/run/mysqld.pid" \
  --port="$PORT" --bind-address=127.0.0.1 --skip-name-resolve --log-error="$DIR/error.log" \
  --innodb-buffer-pool-size=256M --max-connections=500 </dev/null >/dev/null 2>&1 &
pid=$!
wait_for 60 "$DIR/error.log" "$pid" mariadb-admin --socket="$SOCK" -uroot ping || die "mariadbd did not start"
mariadb --socket="$SOCK" -uroot <<'SQL'
CREATE DATABASE IF NOT EXISTS sdk_test CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
CREATE USER IF NOT EXISTS 'sdk'@'127.0.0.1' IDENTIFIED BY 'sdkpass';
CREATE USER IF NOT EXISTS 'sdk'@'localhost' IDENTIFIED BY 'sdkpass';
GRANT ALL PRIVILEGES ON `sdk\_%`.* TO 'sdk'@'127.0.0.1', 'sdk'@'localhost';
SQL
wait_for 30 "$DIR/error.log" "$pid" ready || die "mariadb does not accept the sdk user"
log "ready on 127.0.0.1:$PORT in $(( $(now_ms) - t0 )) ms, rss $(rss_mb "$pid") MiB"
