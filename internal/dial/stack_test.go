package dial

import (
	"context"
	"errors"
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
