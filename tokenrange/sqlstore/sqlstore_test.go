package sqlstore_test

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"strings"
	"testing"

	_ "github.com/go-sql-driver/mysql"

	"github.com/sysblocks/sysblocks/internal/testenv"
	"github.com/sysblocks/sysblocks/tokenrange"
	"github.com/sysblocks/sysblocks/tokenrange/sqlstore"
	"github.com/sysblocks/sysblocks/tokenrange/storetest"
)

// envDSN carries the test database to child processes.
const envDSN = "TOKENRANGE_SQLSTORE_TEST_DSN"

func TestMain(m *testing.M) {
	if storetest.IsChild() {
		storetest.ChildMain(func(ctx context.Context) (tokenrange.Store, error) {
			db, err := sql.Open("mysql", os.Getenv(envDSN))
			if err != nil {
				return nil, err
			}
			return sqlstore.New(db, nil), nil
		})
	}
	os.Exit(m.Run())
}

// setup creates the schema in a fresh database and returns a function that
// opens a new handle (its own connection pool) on it.
func setup(t testing.TB) (*testenv.MySQLEnv, func(tb testing.TB) tokenrange.Store) {
	env := testenv.MySQL(t)
	if err := sqlstore.New(env.DB, nil).CreateSchema(context.Background()); err != nil {
		t.Fatal(err)
	}
	open := func(tb testing.TB) tokenrange.Store {
		db, err := sql.Open("mysql", env.DSN)
		if err != nil {
			tb.Fatal(err)
		}
		tb.Cleanup(func() { _ = db.Close() })
		return sqlstore.New(db, &sqlstore.Options{Owner: tb.Name()})
	}
	return env, open
}

func TestConformance(t *testing.T) {
	_, open := setup(t)
	storetest.Run(t, storetest.Config{Open: open})
}

func TestProcesses(t *testing.T) {
	env, open := setup(t)
	storetest.RunProcesses(t, storetest.ProcessConfig{Open: open, Env: []string{envDSN + "=" + env.DSN}})
}

// TestCreateSchemaTwice checks that CreateSchema is idempotent and keeps
// the counters.
func TestCreateSchemaTwice(t *testing.T) {
	env, _ := setup(t)
	s := sqlstore.New(env.DB, nil)
	ctx := context.Background()
	if _, err := s.Reserve(ctx, "links", 10, 100); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateSchema(ctx); err != nil {
		t.Fatalf("second CreateSchema: %v", err)
	}
	if c, err := s.Counter(ctx, "links"); err != nil || c != 10 {
		t.Fatalf("Counter after second CreateSchema = %d, %v; want 10", c, err)
	}
}

// TestAuditOwner checks that the audit rows name the owner.
func TestAuditOwner(t *testing.T) {
	env, _ := setup(t)
	s := sqlstore.New(env.DB, &sqlstore.Options{Owner: "web-7"})
	ctx := context.Background()
	if _, err := s.Reserve(ctx, "links", 5, 100); err != nil {
		t.Fatal(err)
	}
	var owner string
	var lo, hi uint64
	if err := env.DB.QueryRow("SELECT owner, lo, hi FROM tokenrange_issued WHERE namespace = 'links'").Scan(&owner, &lo, &hi); err != nil {
		t.Fatal(err)
	}
	if owner != "web-7" || lo != 0 || hi != 5 {
		t.Fatalf("audit row = (%q, %d, %d); want (web-7, 0, 5)", owner, lo, hi)
	}
}

// TestLockTimeoutIsConflict holds the counter row locked from another
// transaction: Reserve on a session with a 1-second lock wait returns
// ErrConflict and issues nothing; once the lock is released the Allocator's
// retry succeeds.
func TestLockTimeoutIsConflict(t *testing.T) {
	env, _ := setup(t)
	ctx := context.Background()
	s := sqlstore.New(env.DB, nil)
	if _, err := s.Reserve(ctx, "links", 10, 1000); err != nil {
		t.Fatal(err)
	}
	dsn := env.DSN + "&innodb_lock_wait_timeout=1"
	if !strings.Contains(env.DSN, "?") {
		dsn = env.DSN + "?innodb_lock_wait_timeout=1"
	}
	impatient, err := sql.Open("mysql", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer impatient.Close()
	blocked := sqlstore.New(impatient, nil)

	tx, err := env.DB.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	var c uint64
	if err := tx.QueryRow("SELECT next_token FROM tokenrange_counter WHERE namespace = 'links' FOR UPDATE").Scan(&c); err != nil {
		t.Fatal(err)
	}
	_, err = blocked.Reserve(ctx, "links", 10, 1000)
	if !errors.Is(err, tokenrange.ErrConflict) {
		t.Fatalf("Reserve on a locked row: err %v; want ErrConflict", err)
	}
	_ = tx.Rollback()
	if c, _ := s.Counter(ctx, "links"); c != 10 {
		t.Fatalf("Counter after the conflict = %d; want 10 (nothing issued)", c)
	}
	alloc, err := tokenrange.NewAllocator(blocked, nil)
	if err != nil {
		t.Fatal(err)
	}
	r, err := alloc.Allocate(ctx, "links", 10)
	if err != nil || r != (tokenrange.Range{Lo: 10, Hi: 20}) {
		t.Fatalf("Allocate after the lock is gone = %v, %v; want [10, 20)", r, err)
	}
}

// TestCounterMovedBack simulates a counter restored from an old backup: the
// audit table's primary key refuses to issue the same range again.
func TestCounterMovedBack(t *testing.T) {
	env, _ := setup(t)
	ctx := context.Background()
	s := sqlstore.New(env.DB, nil)
	if _, err := s.Reserve(ctx, "links", 10, 1000); err != nil {
		t.Fatal(err)
	}
	if _, err := env.DB.Exec("UPDATE tokenrange_counter SET next_token = 0 WHERE namespace = 'links'"); err != nil {
		t.Fatal(err)
	}
	if r, err := s.Reserve(ctx, "links", 10, 1000); err == nil || errors.Is(err, tokenrange.ErrConflict) {
		t.Fatalf("Reserve after the counter moved back = %v, %v; want a non-retryable error", r, err)
	}
	if c, _ := s.Counter(ctx, "links"); c != 0 {
		t.Fatalf("Counter = %d; want 0 (the failed transaction rolled back)", c)
	}
}

func BenchmarkStore(b *testing.B) {
	_, open := setup(b)
	storetest.Benchmark(b, storetest.Config{Open: open})
}

// BenchmarkTicketServer is the baseline: the Flickr ticket server, one
// MariaDB statement per ID (UPDATE ... SET id = LAST_INSERT_ID(id + 1),
// whose OK packet carries the new ID).
func BenchmarkTicketServer(b *testing.B) {
	env := testenv.MySQL(b)
	ctx := context.Background()
	if _, err := env.DB.Exec(`CREATE TABLE tickets (stub CHAR(1) NOT NULL PRIMARY KEY, id BIGINT UNSIGNED NOT NULL) ENGINE=InnoDB`); err != nil {
		b.Fatal(err)
	}
	if _, err := env.DB.Exec(`INSERT INTO tickets VALUES ('a', 0)`); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	var last int64
	for b.Loop() {
		res, err := env.DB.ExecContext(ctx, "UPDATE tickets SET id = LAST_INSERT_ID(id + 1) WHERE stub = 'a'")
		if err != nil {
			b.Fatal(err)
		}
		id, err := res.LastInsertId()
		if err != nil || id <= last {
			b.Fatalf("ticket %d after %d: %v", id, last, err)
		}
		last = id
	}
}
