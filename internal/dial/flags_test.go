package dial

import (
	"context"
	"flag"
	"io"
	"reflect"
	"strings"
	"testing"
)

// TestFlags checks the defaults from the SYSBLOCKS_* variables, the
// parsed values and the help words.
func TestFlags(t *testing.T) {
	t.Setenv("SYSBLOCKS_REDIS_ADDR", "r:1")
	t.Setenv("SYSBLOCKS_MYSQL_DSN", "dsn")
	t.Setenv("SYSBLOCKS_CASSANDRA_HOSTS", "c1, c2")
	t.Setenv("SYSBLOCKS_KAFKA_BROKERS", "k1")
	fs := flag.NewFlagSet("x", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	f := AddFlags(fs, "ks", Usage{MySQL: "MariaDB DSN for trips"})
	if err := fs.Parse(nil); err != nil {
		t.Fatal(err)
	}
	want := Env{RedisAddr: "r:1", MySQLDSN: "dsn", CassandraHosts: []string{"c1", "c2"}, KafkaBrokers: []string{"k1"}, Keyspace: "ks"}
	if got := f.Env(); !reflect.DeepEqual(got, want) {
		t.Fatalf("defaults: %+v; want %+v", got, want)
	}
	if err := fs.Parse([]string{"-redis-addr=r:2", "-kafka-brokers=a,,b", "-cassandra-keyspace=other"}); err != nil {
		t.Fatal(err)
	}
	want.RedisAddr, want.KafkaBrokers, want.Keyspace = "r:2", []string{"a", "b"}, "other"
	if got := f.Env(); !reflect.DeepEqual(got, want) {
		t.Fatalf("parsed: %+v; want %+v", got, want)
	}
	if u := fs.Lookup("mysql-dsn").Usage; u != "real mode: MariaDB DSN for trips (SYSBLOCKS_MYSQL_DSN)" {
		t.Errorf("mysql-dsn usage %q", u)
	}
	if u := fs.Lookup("redis-addr").Usage; !strings.HasPrefix(u, "real mode: Redis (") {
		t.Errorf("redis-addr usage %q", u)
	}
}

// TestBackend picks the memory or the real stack by name and rejects
// other names with the memory name the program uses.
func TestBackend(t *testing.T) {
	mem := func() (string, error) { return "mem", nil }
	real := func(ctx context.Context) (string, error) {
		if _, ok := ctx.Deadline(); !ok {
			t.Error("real: no deadline")
		}
		return "real", nil
	}
	for name, want := range map[string]string{"mem": "mem", "memory": "mem", "real": "real"} {
		if got, err := Backend(context.Background(), name, "mem", mem, real); err != nil || got != want {
			t.Errorf("Backend(%q) = %q, %v; want %q", name, got, err, want)
		}
	}
	if _, err := Backend(context.Background(), "mem", "memory", mem, real); err == nil || err.Error() != `-backend "mem": want memory or real` {
		t.Errorf("Backend(mem) with memName memory: %v", err)
	}
}
