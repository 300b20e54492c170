package sqlstore_test

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"testing"
	"time"
	_ "time/tzdata" // the zone below, on machines without zoneinfo

	"github.com/go-sql-driver/mysql"

	"github.com/sysblocks/sysblocks/internal/testenv"
	"github.com/sysblocks/sysblocks/reservation"
	"github.com/sysblocks/sysblocks/reservation/sqlstore"
	"github.com/sysblocks/sysblocks/reservation/storetest"
)

// envDSN carries the test database to child processes.
const envDSN = "RESERVATION_SQLSTORE_TEST_DSN"

func TestMain(m *testing.M) {
	if storetest.IsChild() {
		storetest.ChildMain(func(ctx context.Context) (reservation.Store, error) {
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
// opens a new handle (its own connection pool) on it with the DSN changed
// by edit (nil for none).
func setup(t testing.TB, edit func(*mysql.Config)) (*testenv.MySQLEnv, func(tb testing.TB) reservation.Store) {
	env := testenv.MySQL(t)
	if err := sqlstore.New(env.DB, nil).CreateSchema(context.Background()); err != nil {
		t.Fatal(err)
	}
	dsn := env.DSN
	if edit != nil {
		cfg, err := mysql.ParseDSN(dsn)
		if err != nil {
			t.Fatal(err)
		}
		edit(cfg)
		dsn = cfg.FormatDSN()
	}
	open := func(tb testing.TB) reservation.Store {
		db, err := sql.Open("mysql", dsn)
		if err != nil {
			tb.Fatal(err)
		}
		tb.Cleanup(func() { _ = db.Close() })
		return sqlstore.New(db, nil)
	}
	return env, open
}

func TestConformance(t *testing.T) {
	_, open := setup(t, nil)
	storetest.Run(t, storetest.Config{Open: open})
}

// TestConformanceConnectionSettings runs the suite without parseTime and
// with interpolated parameters, and with parseTime in a zone far from UTC:
// the store's times and dates must not depend on either.
func TestConformanceConnectionSettings(t *testing.T) {
	t.Run("NoParseTimeInterpolated", func(t *testing.T) {
		_, open := setup(t, func(c *mysql.Config) { c.ParseTime, c.InterpolateParams = false, true })
		storetest.Run(t, storetest.Config{Open: open, Goroutines: 50})
	})
	t.Run("ParseTimeLocalZone", func(t *testing.T) {
		loc, err := time.LoadLocation("Pacific/Pago_Pago") // UTC-11
		if err != nil {
			t.Fatal(err)
		}
		_, open := setup(t, func(c *mysql.Config) { c.ParseTime, c.Loc = true, loc })
		storetest.Run(t, storetest.Config{Open: open, Goroutines: 50})
	})
}

func TestProcesses(t *testing.T) {
	env, open := setup(t, nil)
	storetest.RunProcesses(t, storetest.ProcessConfig{Open: open, Env: []string{envDSN + "=" + env.DSN}})
}

// TestCreateSchemaTwice checks that CreateSchema is idempotent and keeps
// the data.
func TestCreateSchemaTwice(t *testing.T) {
	env, open := setup(t, nil)
	ctx := context.Background()
	s := open(t)
	d := storetest.D0
	if err := s.SetInventory(ctx, "r1", d, d+1, 4, time.Now()); err != nil {
		t.Fatal(err)
	}
	if err := sqlstore.New(env.DB, nil).CreateSchema(ctx); err != nil {
		t.Fatalf("second CreateSchema: %v", err)
	}
	if n, err := s.Inventory(ctx, "r1", d, d+1, time.Now()); err != nil || len(n) != 1 || n[0].Available != 4 {
		t.Fatalf("Inventory after the second CreateSchema = %v, %v", n, err)
	}
}

// TestLockTimeoutIsConflict holds a night's row locked from another
// transaction: a hold on a Store with a 1-second LockTimeout returns
// ErrConflict and changes nothing; once the lock is gone the Service's
// retry succeeds.
func TestLockTimeoutIsConflict(t *testing.T) {
	env, _ := setup(t, nil)
	ctx := context.Background()
	s := sqlstore.New(env.DB, &sqlstore.Options{LockTimeout: time.Second})
	d := storetest.D0
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	if err := s.SetInventory(ctx, "r1", d, d+2, 5, now); err != nil {
		t.Fatal(err)
	}
	b := reservation.Booking{ID: "bk1", Key: "k1", User: "u", Room: "r1", CheckIn: d, CheckOut: d + 2, Quantity: 1,
		State: reservation.Reserved, ExpiresAt: now.Add(time.Hour), Created: now, Updated: now, Version: 1}

	tx, err := env.DB.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec("SELECT available FROM reservation_inventory WHERE room_id = 'r1' AND night = ? FOR UPDATE", (d + 1).String()); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, _, err = s.Hold(ctx, b, "fp", now)
	waited := time.Since(start)
	if !errors.Is(err, reservation.ErrConflict) {
		t.Fatalf("Hold on a locked night: err %v; want ErrConflict", err)
	}
	t.Logf("lock wait ended after %v", waited.Round(time.Millisecond))
	if _, err := s.Get(ctx, "bk1"); !errors.Is(err, reservation.ErrNotFound) {
		t.Fatalf("Get after the conflict: %v; want ErrNotFound (nothing stored)", err)
	}
	if n, _ := s.Inventory(ctx, "r1", d, d+2, now); n[0].Available != 5 || n[1].Available != 5 {
		t.Fatalf("Inventory after the conflict = %v; want 5, 5", n)
	}
	_ = tx.Rollback()
	svc, err := reservation.New(s, &reservation.Options{Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Hold(ctx, reservation.HoldRequest{Key: "k1", User: "u", Room: "r1", Quantity: 1, CheckIn: d, CheckOut: d + 2}); err != nil {
		t.Fatalf("Hold after the lock is gone: %v", err)
	}
}

// TestCheckConstraint shows the schema's last line of defence: no
// statement can take available below zero or above initial.
func TestCheckConstraint(t *testing.T) {
	env, open := setup(t, nil)
	ctx := context.Background()
	d := storetest.D0
	if err := open(t).SetInventory(ctx, "r1", d, d+1, 2, time.Now()); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		"UPDATE reservation_inventory SET available = available - 3 WHERE room_id = 'r1'",
		"UPDATE reservation_inventory SET available = available + 1 WHERE room_id = 'r1'",
	} {
		var me *mysql.MySQLError
		if _, err := env.DB.ExecContext(ctx, q); !errors.As(err, &me) || me.Number != 4025 {
			t.Fatalf("%s: err %v; want CHECK constraint failure 4025", q, err)
		}
	}
}

func BenchmarkStore(b *testing.B) {
	_, open := setup(b, func(c *mysql.Config) { c.InterpolateParams = true })
	storetest.Benchmark(b, storetest.Config{Open: open})
}

// TestCreateSchemaAddsRoomIndex drops the index of ByRoom, as a table
// created by an earlier schema lacks it: CreateSchema adds it back, and
// a ByRoom range can use it.
func TestCreateSchemaAddsRoomIndex(t *testing.T) {
	env, _ := setup(t, nil)
	ctx := context.Background()
	if _, err := env.DB.ExecContext(ctx, "ALTER TABLE reservation_booking DROP KEY reservation_booking_room"); err != nil {
		t.Fatal(err)
	}
	if err := sqlstore.New(env.DB, nil).CreateSchema(ctx); err != nil {
		t.Fatalf("CreateSchema on the old table: %v", err)
	}
	var n int
	if err := env.DB.QueryRowContext(ctx, "SELECT COUNT(*) FROM information_schema.statistics"+
		" WHERE table_schema = DATABASE() AND table_name = 'reservation_booking' AND index_name = 'reservation_booking_room'").Scan(&n); err != nil || n == 0 {
		t.Fatalf("index reservation_booking_room: %d columns, %v; want it added", n, err)
	}
	rows, err := env.DB.QueryContext(ctx, "EXPLAIN SELECT id FROM reservation_booking FORCE INDEX (reservation_booking_room)"+
		" WHERE room_id = 'r' AND state = 'booked' AND check_in < '2030-02-01' AND check_out > '2030-01-01' ORDER BY check_in, id LIMIT 10")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	found := false
	for rows.Next() {
		vals := make([]sql.NullString, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		for i, c := range cols {
			if c == "key" && vals[i].String == "reservation_booking_room" {
				found = true
			}
		}
	}
	if !found {
		t.Fatal("EXPLAIN of a ByRoom range does not use reservation_booking_room")
	}
}
