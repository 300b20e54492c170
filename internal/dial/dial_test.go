package dial

import (
	"context"
	"strings"
	"testing"
	"time"

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
