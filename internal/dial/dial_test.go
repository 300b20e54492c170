package dial

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/segmentio/kafka-go"
	"github.com/sysblocks/sysblocks/internal/testenv"
)

func TestValidKeyspace(t *testing.T) {
	for s, want := range map[string]bool{"links": true, "a_1": true, "": false, "a-b": false, "x;DROP": false,
		strings.Repeat("k", 48): true, strings.Repeat("k", 49): false, "é": false} {
		if got := ValidKeyspace(s); got != want {
			t.Errorf("ValidKeyspace(%q) = %v; want %v", s, got, want)
		}
	}
}

// TestCassandraSession creates a keyspace twice (idempotent) on the real
// server and writes through the session it returns.
func TestCassandraSession(t *testing.T) {
	c := testenv.Cassandra(t) // for the hosts, and a keyspace name that is dropped after
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	ks := testenv.Name(t, "dial")
	t.Cleanup(func() { _ = c.Session.Query(`DROP KEYSPACE IF EXISTS ` + ks).Exec() })
	for range 2 {
		s, err := CassandraSession(ctx, c.Hosts, ks)
		if err != nil {
			t.Fatal(err)
		}
		err = s.Query(`CREATE TABLE IF NOT EXISTS kv (k text PRIMARY KEY, v text)`).ExecContext(ctx)
		if err == nil {
			err = s.Query(`INSERT INTO kv (k, v) VALUES ('a', 'b')`).ExecContext(ctx)
		}
		s.Close()
		if err != nil {
			t.Fatal(err)
		}
	}
	if _, err := CassandraSession(ctx, c.Hosts, "bad-name"); err == nil || !strings.Contains(err.Error(), "keyspace") {
		t.Fatalf("bad keyspace name: err = %v; want a keyspace error", err)
	}
}

// TestCreateTopic creates a topic twice on the real broker: the second call
// finds it and succeeds.
func TestCreateTopic(t *testing.T) {
	k := testenv.Kafka(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	topic := testenv.Name(t, "dial")
	t.Cleanup(func() {
		tr := &kafka.Transport{}
		defer tr.CloseIdleConnections()
		c := &kafka.Client{Addr: kafka.TCP(k.Brokers...), Transport: tr}
		_, _ = c.DeleteTopics(context.Background(), &kafka.DeleteTopicsRequest{Topics: []string{topic}})
	})
	for range 2 {
		if err := CreateTopic(ctx, k.Brokers, topic, 2); err != nil {
			t.Fatal(err)
		}
	}
}

func TestSplitAndMissing(t *testing.T) {
	if got := Split(" a, ,b,,c "); strings.Join(got, "|") != "a|b|c" {
		t.Errorf("Split = %q; want [a b c]", got)
	}
	if got := Split(""); got != nil {
		t.Errorf("Split(\"\") = %q; want nil", got)
	}
	e := Env{RedisAddr: "r", CassandraHosts: []string{"c"}}
	if got := strings.Join(e.Missing(), ","); got != "SYSBLOCKS_MYSQL_DSN,SYSBLOCKS_KAFKA_BROKERS" {
		t.Errorf("Missing = %s", got)
	}
	if _, err := Open(context.Background(), e, nil); err == nil || !strings.Contains(err.Error(), "SYSBLOCKS_MYSQL_DSN") {
		t.Errorf("Open with variables missing = %v; want an error naming them", err)
	}
}

// TestOpen opens every client on the real servers, and refuses a bad DSN
// and an unreachable Redis with an error (closing what it opened).
func TestOpen(t *testing.T) {
	r, m, c := testenv.Redis(t), testenv.MySQL(t), testenv.Cassandra(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	e := Env{RedisAddr: r.Addr, MySQLDSN: m.DSN, CassandraHosts: c.Hosts, KafkaBrokers: []string{"unused:9092"},
		Keyspace: c.Keyspace}
	tuned := false
	conns, err := Open(ctx, e, func(cfg *mysql.Config) { cfg.ParseTime = true; tuned = true })
	if err != nil {
		t.Fatal(err)
	}
	var now time.Time // a DATETIME scans into time.Time only with ParseTime
	if err := conns.MySQL.QueryRowContext(ctx, `SELECT NOW()`).Scan(&now); err != nil || !tuned {
		t.Errorf("MySQL with ParseTime: %v (tuned %v)", err, tuned)
	}
	if err := conns.Redis.Ping(ctx).Err(); err != nil {
		t.Error(err)
	}
	if err := conns.Cassandra.Query(`SELECT release_version FROM system.local`).ExecContext(ctx); err != nil {
		t.Error(err)
	}
	if err := conns.Close(); err != nil {
		t.Errorf("Close = %v", err)
	}

	bad := e
	bad.MySQLDSN = "not a dsn"
	if _, err := Open(ctx, bad, nil); err == nil || !strings.Contains(err.Error(), "SYSBLOCKS_MYSQL_DSN") {
		t.Errorf("Open with a bad DSN = %v; want an error naming the variable", err)
	}
	bad = e
	bad.RedisAddr = "127.0.0.1:1"
	if _, err := Open(ctx, bad, nil); err == nil || !strings.Contains(err.Error(), "redis") {
		t.Errorf("Open with Redis unreachable = %v; want a redis error", err)
	}
}
