// Package testenv gives tests clients for the real services that sysblocks
// is built against: Redis, MariaDB (MySQL protocol), Kafka, Cassandra,
// ffmpeg, a TURN server (coturn) and Chromium.
//
// Each helper reads one environment variable. When it is unset the test is
// skipped with "set SYSBLOCKS_X to run"; when it is set but the service does
// not answer the test fails; and when SYSBLOCKS_INTEGRATION=require (as
// `make test` and CI set it) every skip becomes a failure, so a missing
// service can never pass for a green run.
//
// Every helper isolates the test: Redis keys live under a unique prefix and
// are deleted afterwards, MySQL and Cassandra get a fresh database or
// keyspace that is dropped afterwards, and Kafka topics get unique names.
// Nothing is flushed or dropped wholesale.
package testenv

import (
	"crypto/rand"
	"encoding/hex"
	"os"
	"strings"
	"testing"
	"unicode"
)

// Environment variables read by the helpers.
const (
	EnvIntegration = "SYSBLOCKS_INTEGRATION"     // "require": every skip fails
	EnvRedis       = "SYSBLOCKS_REDIS_ADDR"      // host:port
	EnvMySQL       = "SYSBLOCKS_MYSQL_DSN"       // go-sql-driver DSN of a user that may create sdk_* databases
	EnvKafka       = "SYSBLOCKS_KAFKA_BROKERS"   // comma-separated host:port list
	EnvCassandra   = "SYSBLOCKS_CASSANDRA_HOSTS" // comma-separated host[:port] list
	EnvTURN        = "SYSBLOCKS_TURN_ADDR"       // host:port of coturn with the static user
	EnvChromium    = "SYSBLOCKS_CHROMIUM"        // path of the chromium binary
	EnvFFmpeg      = "SYSBLOCKS_FFMPEG"          // optional directory holding ffmpeg and ffprobe; PATH otherwise
)

// Required reports whether SYSBLOCKS_INTEGRATION=require is set, in which
// case no integration test may skip.
func Required() bool { return os.Getenv(EnvIntegration) == "require" }

// Skip skips t with msg, or fails it when integration tests are required.
// Integration tests must skip only through this function.
func Skip(t testing.TB, msg string) {
	t.Helper()
	if Required() {
		t.Fatalf("%s (%s=require forbids skipping)", msg, EnvIntegration)
	}
	t.Skip(msg)
}

// lookup returns the value of env, skipping t (or failing it, see [Skip])
// when it is unset.
func lookup(t testing.TB, env string) string {
	t.Helper()
	v := strings.TrimSpace(os.Getenv(env))
	if v == "" {
		Skip(t, "set "+env+" to run")
	}
	return v
}

// Name returns a name unique to this test and run, made of lowercase
// letters, digits and underscores, at most 48 bytes long, starting with
// prefix. It suits keyspaces, databases, topics and key prefixes.
func Name(t testing.TB, prefix string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(t.Name()) {
		if r < unicode.MaxASCII && (unicode.IsLetter(r) || unicode.IsDigit(r)) {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	base := b.String()
	suffix := randHex(4)
	max := 48 - len(prefix) - len(suffix) - 2
	if len(base) > max {
		base = base[len(base)-max:]
	}
	return prefix + "_" + strings.Trim(base, "_") + "_" + suffix
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
