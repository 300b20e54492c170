package dial

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	gocql "github.com/apache/cassandra-gocql-driver/v2"
	"github.com/go-sql-driver/mysql"
	"github.com/redis/go-redis/v9"
	"github.com/segmentio/kafka-go"

	"github.com/sysblocks/sysblocks/internal/ops"
)

// Closers are what an example's stack opened, in opening order.
type Closers []func() error

// Close calls every closer, last opened first, forgets them and returns
// their errors joined.
func (c *Closers) Close() error {
	var errs []error
	for i := len(*c) - 1; i >= 0; i-- {
		errs = append(errs, (*c)[i]())
	}
	*c = nil
	return errors.Join(errs...)
}

// CloseWriter returns a closer of a Kafka writer and of its transport's
// idle connections.
func CloseWriter(w *kafka.Writer, tr *kafka.Transport) func() error {
	return func() error {
		err := w.Close()
		tr.CloseIdleConnections()
		return err
	}
}

// KafkaTopic is what the Kafka health check asks about: the metadata of
// Topic on Brokers, through Transport.
type KafkaTopic struct {
	Brokers   []string
	Transport *kafka.Transport
	Topic     string
}

// Checks returns the health checks of a real stack: "redis" (PING),
// "mysql" (ping), "cassandra" (a query of system.local) and, when k is not
// nil, "kafka" (a metadata request).
func Checks(rd redis.UniversalClient, db *sql.DB, cs *gocql.Session, k *KafkaTopic) map[string]ops.Check {
	checks := map[string]ops.Check{
		"redis": func(ctx context.Context) error { return rd.Ping(ctx).Err() },
		"mysql": db.PingContext,
		"cassandra": func(ctx context.Context) error {
			return cs.Query(`SELECT release_version FROM system.local`).ExecContext(ctx)
		},
	}
	if k != nil {
		checks["kafka"] = func(ctx context.Context) error {
			_, err := (&kafka.Client{Addr: kafka.TCP(k.Brokers...), Transport: k.Transport}).Metadata(ctx, &kafka.MetadataRequest{Topics: []string{k.Topic}})
			return err
		}
	}
	return checks
}

// Stack connects to the servers of e with Open (an empty e.Keyspace means
// keyspace) and builds an example's backends stack on them with real. If
// real fails, the connections are closed again; otherwise real hands them
// to the stack, which closes them. Errors are prefixed "backends: ", as
// the examples' backends packages report them.
func Stack[S any](ctx context.Context, e Env, keyspace string, tune func(*mysql.Config), real func(c *Conns) (S, error)) (S, error) {
	if e.Keyspace == "" {
		e.Keyspace = keyspace
	}
	c, err := Open(ctx, e, tune)
	if err != nil {
		var zero S
		return zero, fmt.Errorf("backends: %w", err)
	}
	st, err := real(c)
	if err != nil {
		_ = c.Close()
	}
	return st, err
}
