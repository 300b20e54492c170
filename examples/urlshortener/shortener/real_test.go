package shortener_test

import (
	"context"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/sysblocks/sysblocks/examples/urlshortener/backends"
	"github.com/sysblocks/sysblocks/internal/testenv"
)

// realStack is the real setup on the test servers: token ranges in a fresh
// MariaDB database, links and counts in a fresh Cassandra keyspace, the
// cache in Redis under the test's prefix, clicks through a new Kafka topic.
func realStack(t *testing.T, s backends.Settings) *backends.Stack {
	// testenv's topic helpers use kafka-go's default transport; close its
	// connections after they are done (cleanups run last registered first).
	t.Cleanup(func() {
		if tr, ok := kafka.DefaultTransport.(*kafka.Transport); ok {
			tr.CloseIdleConnections()
		}
	})
	my := testenv.MySQL(t)
	rd := testenv.Redis(t)
	cs := testenv.Cassandra(t)
	kf := testenv.Kafka(t)
	s.Topic = kf.Topic(3)
	s.Group = s.Topic + "-counter"
	s.RedisPrefix = rd.Key("link") + ":"
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	st, err := backends.Real(ctx, backends.Clients{MySQL: my.DB, Redis: rd.Client, Cassandra: cs.Session, Brokers: kf.Brokers}, s)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// TestAPIReal drives the service over HTTP on MariaDB, Cassandra, Redis and
// Kafka: the same cases as in memory.
func TestAPIReal(t *testing.T) { apiSuite(t, realStack) }
