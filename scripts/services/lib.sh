# Shared helpers for scripts/services/*.sh. Source it; do not run it.
# Every service script is idempotent: if the service already answers a real
# query it does nothing; otherwise it installs what is missing, starts the
# service on 127.0.0.1 and waits until a real query succeeds.

set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
CACHE=${SYSBLOCKS_CACHE:-$ROOT/.cache}            # downloads, kept between runs (git-ignored)
RUN=${SYSBLOCKS_RUN:-/tmp/sysblocks}              # service state, throwaway
JAVA17=${SYSBLOCKS_JAVA17:-/usr/lib/jvm/java-17-openjdk-amd64/bin/java}
mkdir -p "$CACHE" "$RUN"

log() { printf '[%s %s] %s\n' "$(date +%H:%M:%S)" "${SERVICE:-services}" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# now_ms prints the time in milliseconds, for startup figures.
now_ms() { date +%s%3N; }

# apt_install installs the Debian packages that are not installed yet.
# apt-get update runs at most once per boot (a stamp in $RUN), and a lock
# keeps parallel scripts from fighting over dpkg.
apt_install() {
  local missing=()
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  log "apt-get install ${missing[*]}"
  (
    flock 9
    if [ ! -f "$RUN/.apt-updated" ]; then
      apt-get update -qq >"$RUN/apt-update.log" 2>&1 || { tail -20 "$RUN/apt-update.log" >&2; exit 1; }
      touch "$RUN/.apt-updated"
    fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" \
      >"$RUN/apt-install.log" 2>&1 || { tail -30 "$RUN/apt-install.log" >&2; exit 1; }
  ) 9>"$RUN/.apt.lock"
}

# port_open HOST PORT succeeds when a TCP connection is accepted.
port_open() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }

# wait_for SECONDS LOGFILE PID CMD...: retries CMD every 0.25 s until it
# succeeds; on timeout, or when PID dies, prints the last log lines and fails.
wait_for() {
  local secs=$1 logf=$2 pid=$3; shift 3
  local deadline=$(( $(now_ms) + secs * 1000 ))
  until "$@" >/dev/null 2>&1; do
    if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then
      log "process $pid exited before it was ready; last lines of $logf:"
      tail -40 "$logf" >&2 || true
      return 1
    fi
    if [ "$(now_ms)" -ge "$deadline" ]; then
      log "not ready after ${secs}s; last lines of $logf:"
      tail -40 "$logf" >&2 || true
      return 1
    fi
    sleep 0.25
  done
}

# pid_alive FILE succeeds when FILE names a running process.
pid_alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

# mvn_fetch NAME POM_DIR: copies the runtime dependencies of the pom in
# POM_DIR into POM_DIR/lib through Maven Central, once; the local repository
# lives under $CACHE/m2 so a second run downloads nothing.
mvn_fetch() {
  local name=$1 dir=$2
  [ -f "$dir/lib/.complete" ] && return 0
  command -v mvn >/dev/null || apt_install maven
  log "fetching $name jars from Maven Central"
  rm -rf "$dir/lib"
  mvn -B -q -f "$dir/pom.xml" -Dmaven.repo.local="$CACHE/m2" \
    org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy-dependencies \
    -DincludeScope=runtime -DoutputDirectory="$dir/lib" >"$dir/mvn.log" 2>&1 \
    || { tail -30 "$dir/mvn.log" >&2; die "maven could not fetch $name"; }
  touch "$dir/lib/.complete"
}

# need_java17 installs OpenJDK 17 when it is missing.
need_java17() {
  [ -x "$JAVA17" ] || apt_install openjdk-17-jre-headless
  [ -x "$JAVA17" ] || die "no JDK 17 at $JAVA17"
}

# probe runs the Go readiness probe (internal/cmd/svcprobe), built once.
probe() {
  local bin="$CACHE/bin/svcprobe"
  if [ ! -x "$bin" ] || [ -n "$(find "$ROOT/internal/cmd/svcprobe" -newer "$bin" -name '*.go' 2>/dev/null)" ]; then
    mkdir -p "$CACHE/bin"
    (cd "$ROOT" && go build -o "$bin.tmp" ./internal/cmd/svcprobe && mv "$bin.tmp" "$bin")
  fi
  "$bin" "$@"
}

# rss_mb PID prints the resident memory of PID in MiB.
rss_mb() { awk '/VmRSS/ {printf "%d", $2/1024}' "/proc/$1/status" 2>/dev/null || echo "?"; }
