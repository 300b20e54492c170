package dial

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/sysblocks/sysblocks/internal/testenv"
)

// TestClosers closes last opened first, joins the errors and closes once.
func TestClosers(t *testing.T) {
	var order []int
	bad := errors.New("bad")
	c := Closers{
		func() error { order = append(order, 1); return nil },
		func() error { order = append(order, 2); return bad },
	}
	if err := c.Close(); !errors.Is(err, bad) {
		t.Fatalf("Close: %v; want bad", err)
	}
	if err := c.Close(); err != nil || len(order) != 2 || order[0] != 2 || order[1] != 1 {
		t.Fatalf("second Close: %v, order %v; want nil and [2 1]", err, order)
	}
}

// TestChecks runs the health checks against the real servers.
func TestChecks(t *testing.T) {
	r := testenv.Redis(t)
	m := testenv.MySQL(t)
	c := testenv.Cassandra(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	checks := Checks(r.Client, m.DB, c.Session, nil)
	if len(checks) != 3 {
		t.Fatalf("%d checks; want redis, mysql, cassandra", len(checks))
	}
	for name, check := range checks {
		if err := check(ctx); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// TestStack defaults the keyspace, hands the connections to real, closes
// them when real fails, and prefixes connection errors.
func TestStack(t *testing.T) {
	if _, err := Stack(context.Background(), Env{}, "ks", nil, func(*Conns) (int, error) { return 1, nil }); err == nil ||
		!strings.HasPrefix(err.Error(), "backends: dial: real mode: set SYSBLOCKS_REDIS_ADDR") {
		t.Fatalf("no servers: %v", err)
	}
	r, m, c := testenv.Redis(t), testenv.MySQL(t), testenv.Cassandra(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	e := Env{RedisAddr: r.Addr, MySQLDSN: m.DSN, CassandraHosts: c.Hosts, KafkaBrokers: []string{"unused:9092"}}
	failed := errors.New("real failed")
	var kept *Conns
	if _, err := Stack(ctx, e, c.Keyspace, nil, func(cs *Conns) (int, error) { kept = cs; return 0, failed }); !errors.Is(err, failed) {
		t.Fatalf("real failing: %v", err)
	}
	if err := kept.MySQL.PingContext(ctx); err == nil {
		t.Fatal("connections still open after real failed")
	}
	n, err := Stack(ctx, e, c.Keyspace, nil, func(cs *Conns) (int, error) {
		kept = cs
		return 7, cs.Cassandra.Query(`SELECT release_version FROM system.local`).ExecContext(ctx)
	})
	if err != nil || n != 7 {
		t.Fatalf("Stack: %d, %v", n, err)
	}
	if err := kept.Close(); err != nil {
		t.Fatal(err)
	}
}
