package archivesource_test

import (
	"bufio"
	"context"
	"database/sql"
	"fmt"
	mrand "math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	_ "github.com/go-sql-driver/mysql"

	"github.com/sysblocks/sysblocks/archive"
	"github.com/sysblocks/sysblocks/archive/cqlstore"
	"github.com/sysblocks/sysblocks/internal/dial"
	"github.com/sysblocks/sysblocks/internal/testenv"
	"github.com/sysblocks/sysblocks/reservation"
	"github.com/sysblocks/sysblocks/reservation/archivesource"
	"github.com/sysblocks/sysblocks/reservation/sqlstore"
)

// The child process of TestArchiverKilled reads these.
const (
	envChild    = "ARCHIVESOURCE_TEST_CHILD" // kill point, see childStop
	envDSN      = "ARCHIVESOURCE_TEST_DSN"
	envHosts    = "ARCHIVESOURCE_TEST_CASSANDRA"
	envKeyspace = "ARCHIVESOURCE_TEST_KEYSPACE"
	envBatch    = "ARCHIVESOURCE_TEST_BATCH" // the batch at which to stop
)

// The clock of the crash test: bookings are made in January and March
// 2031; the archiver runs on March 10 with an Age of 30 days, so what
// finished in January is due and what finished in March is not.
var (
	janFirst   = time.Date(2031, time.January, 1, 9, 0, 0, 0, time.UTC)
	janFifth   = time.Date(2031, time.January, 5, 9, 0, 0, 0, time.UTC)
	marchFirst = time.Date(2031, time.March, 1, 9, 0, 0, 0, time.UTC)
	archiveAt  = time.Date(2031, time.March, 10, 0, 0, 0, 0, time.UTC)
	age        = 30 * 24 * time.Hour
	crashBatch = 16
)

func TestMain(m *testing.M) {
	if mode := os.Getenv(envChild); mode != "" {
		err := child(mode)
		if err != nil {
			fmt.Fprintln(os.Stderr, "child:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// stopper wraps the source and the cold store of a child and parks the
// process (prints "stop" and blocks until it is killed) at the kill point
// of its mode, in batch number stopAt:
//
//	put-mid       after half of the batch was written to Cassandra
//	after-put     after the whole batch was written, before the delete
//	after-delete  after the batch was deleted from MariaDB
//	run           never: it runs the archiver until the parent kills it
//	finish        never: it runs one pass to the end and exits 0
type stopper struct {
	mode   string
	stopAt int
	batch  atomic.Int64
	src    *archivesource.Source
	dst    archive.Store
}

func (s *stopper) park() {
	fmt.Println("stop")
	select {}
}

func (s *stopper) Due(ctx context.Context, cutoff time.Time, limit int) ([]archive.Record, error) {
	return s.src.Due(ctx, cutoff, limit)
}

func (s *stopper) Delete(ctx context.Context, ids []string) error { return s.src.Delete(ctx, ids) }

func (s *stopper) DeleteRecords(ctx context.Context, recs []archive.Record) error {
	if err := s.src.DeleteRecords(ctx, recs); err != nil {
		return err
	}
	n := s.batch.Add(1)
	fmt.Printf("batch %d\n", n)
	if s.mode == "after-delete" && int(n) == s.stopAt {
		s.park()
	}
	return nil
}

func (s *stopper) List(ctx context.Context, owner string, after archive.Cursor, limit int) ([]archive.Record, error) {
	return s.dst.List(ctx, owner, after, limit)
}

func (s *stopper) Put(ctx context.Context, recs []archive.Record) error {
	n := int(s.batch.Load()) + 1
	if s.mode == "put-mid" && n == s.stopAt {
		if err := s.dst.Put(ctx, recs[:len(recs)/2]); err != nil {
			return err
		}
		s.park()
	}
	if err := s.dst.Put(ctx, recs); err != nil {
		return err
	}
	if s.mode == "after-put" && n == s.stopAt {
		s.park()
	}
	return nil
}

func child(mode string) error {
	ctx := context.Background()
	db, err := sql.Open("mysql", os.Getenv(envDSN))
	if err != nil {
		return err
	}
	svc, err := reservation.New(sqlstore.New(db, nil), &reservation.Options{Now: func() time.Time { return archiveAt }})
	if err != nil {
		return err
	}
	sess, err := dial.CassandraSession(ctx, strings.Split(os.Getenv(envHosts), ","), os.Getenv(envKeyspace))
	if err != nil {
		return err
	}
	cold, err := cqlstore.New(sess, nil)
	if err != nil {
		return err
	}
	stopAt, _ := strconv.Atoi(os.Getenv(envBatch))
	w := &stopper{mode: mode, stopAt: stopAt, src: archivesource.New(svc), dst: cold}
	a, err := archive.New(w, w, &archive.Options{Age: age, Batch: crashBatch, Interval: time.Millisecond,
		Now: func() time.Time { return archiveAt }})
	if err != nil {
		return err
	}
	if mode == "run" {
		return a.Run(ctx) // until killed
	}
	n, err := a.RunOnce(ctx)
	fmt.Printf("moved %d\n", n)
	return err
}

// crashFixture holds the bookings of the crash test and what each must
// end as.
type crashFixture struct {
	svc   *reservation.Service
	cold  *cqlstore.Store
	users []string
	due   map[string]reservation.Booking // must move to Cassandra
	stay  map[string]reservation.Booking // must stay in MariaDB (live, or finished too recently)
}

// newCrashFixture makes, for each of 10 users, 24 bookings in January
// (Cancelled by a failed payment or by the guest, Completed, Booked,
// Reserved) and 2 cancelled in March.
func newCrashFixture(t *testing.T, db *sql.DB, cold *cqlstore.Store) *crashFixture {
	ctx := context.Background()
	var clock atomic.Pointer[time.Time]
	setClock := func(at time.Time) { clock.Store(&at) }
	setClock(janFirst)
	svc, err := reservation.New(sqlstore.New(db, nil), &reservation.Options{
		Now: func() time.Time { return *clock.Load() }, CompleteAfter: -1,
	})
	if err != nil {
		t.Fatal(err)
	}
	f := &crashFixture{svc: svc, cold: cold, due: map[string]reservation.Booking{}, stay: map[string]reservation.Booking{}}
	jan2, mar2 := reservation.DateOf(2031, time.January, 2), reservation.DateOf(2031, time.March, 2)
	if err := svc.SetInventory(ctx, "room", jan2, jan2+1, 10_000); err != nil {
		t.Fatal(err)
	}
	if err := svc.SetInventory(ctx, "room", mar2, mar2+1, 10_000); err != nil {
		t.Fatal(err)
	}
	hold := func(user string, in reservation.Date, i int) reservation.Booking {
		b, err := svc.Hold(ctx, reservation.HoldRequest{Key: fmt.Sprintf("%s-%s-%d", user, in, i), User: user, Room: "room",
			Quantity: 1, CheckIn: in, CheckOut: in + 1})
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	must := func(b reservation.Booking, err error) reservation.Booking {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	var toComplete []reservation.Booking
	for u := range 10 {
		user := fmt.Sprintf("user-%d", u)
		f.users = append(f.users, user)
		for i := range 24 {
			setClock(janFirst.Add(time.Duration(u*24+i) * time.Millisecond))
			b := hold(user, jan2, i)
			switch i % 6 {
			case 0, 1:
				f.due[b.ID] = must(svc.Fail(ctx, b.ID))
			case 2:
				f.due[b.ID] = must(svc.Cancel(ctx, b.ID))
			case 3:
				toComplete = append(toComplete, must(svc.Confirm(ctx, b.ID, reservation.Payment{ID: "pay-" + b.ID})))
			case 4:
				f.stay[b.ID] = must(svc.Confirm(ctx, b.ID, reservation.Payment{ID: "pay-" + b.ID}))
			case 5:
				f.stay[b.ID] = b
			}
		}
	}
	setClock(janFifth)
	for _, b := range toComplete {
		f.due[b.ID] = must(svc.Complete(ctx, b.ID))
	}
	for u, user := range f.users {
		for i := range 2 {
			setClock(marchFirst.Add(time.Duration(u*2+i) * time.Millisecond))
			b := hold(user, mar2, i)
			f.stay[b.ID] = must(svc.Fail(ctx, b.ID))
		}
	}
	return f
}

// check verifies the state after a kill: every booking is listed exactly
// once by Merge, with its own data; no live or recent booking left
// MariaDB; every due booking is in MariaDB, in Cassandra, or in both. It
// returns how many due bookings are in Cassandra, and how many in both.
func (f *crashFixture) check(t *testing.T, final bool) (cold, both int) {
	t.Helper()
	ctx := context.Background()
	src := archivesource.New(f.svc)
	seen := map[string]bool{}
	for _, user := range f.users {
		live, err := allOf(ctx, src, user)
		if err != nil {
			t.Fatal(err)
		}
		archived, err := allOf(ctx, f.cold, user)
		if err != nil {
			t.Fatal(err)
		}
		inLive := map[string]bool{}
		for _, r := range live {
			inLive[r.ID] = true
		}
		for _, r := range archived {
			if _, ok := f.stay[r.ID]; ok {
				t.Fatalf("booking %s, which must stay live, is in Cassandra", r.ID)
			}
			cold++
			if inLive[r.ID] {
				both++
			}
		}
		size := 1 + mrand.IntN(7)
		var after archive.Cursor
		for {
			page, next, err := archive.Merge(ctx, user, after, size, src, f.cold)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range page {
				if seen[r.ID] {
					t.Fatalf("Merge(%s, pages of %d) lists booking %s twice", user, size, r.ID)
				}
				seen[r.ID] = true
				got, err := archivesource.Decode(r)
				if err != nil {
					t.Fatal(err)
				}
				want, ok := f.due[r.ID]
				if !ok {
					want, ok = f.stay[r.ID]
				}
				if !ok {
					t.Fatalf("Merge lists unknown booking %s", r.ID)
				}
				if got != want {
					t.Fatalf("Merge lists %+v;\nwant %+v", got, want)
				}
			}
			if next.IsZero() {
				break
			}
			after = next
		}
	}
	for id := range f.due {
		if !seen[id] {
			t.Fatalf("due booking %s is lost: in neither MariaDB nor Cassandra", id)
		}
	}
	for id := range f.stay {
		if !seen[id] {
			t.Fatalf("live booking %s is lost", id)
		}
		if _, err := f.svc.Get(ctx, id); err != nil {
			t.Fatalf("live booking %s left MariaDB: %v", id, err)
		}
	}
	if final {
		if cold != len(f.due) || both != 0 {
			t.Fatalf("after the last pass: %d bookings in Cassandra, %d of them also in MariaDB; want %d and 0", cold, both, len(f.due))
		}
	}
	return cold, both
}

func allOf(ctx context.Context, l archive.Lister, owner string) ([]archive.Record, error) {
	var out []archive.Record
	var after archive.Cursor
	for {
		page, err := l.List(ctx, owner, after, 100)
		if err != nil {
			return nil, err
		}
		out = append(out, page...)
		if len(page) < 100 {
			return out, nil
		}
		after = archive.Of(page[len(page)-1])
	}
}

// startChild starts the test binary as an archiver child in mode and
// returns it with a channel of its stdout lines.
func startChild(t *testing.T, env []string, mode string, stopAt int) (*exec.Cmd, <-chan string) {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), env...)
	cmd.Env = append(cmd.Env, envChild+"="+mode, envBatch+"="+strconv.Itoa(stopAt))
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	lines := make(chan string, 1000)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	return cmd, lines
}

// kill sends SIGKILL to the child and waits for it to die.
func kill(t *testing.T, cmd *exec.Cmd) {
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	err := cmd.Wait()
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("child ended with %v; want killed by SIGKILL", err)
	}
}

// waitFor reads lines until one equals want, failing after a minute.
func waitFor(t *testing.T, lines <-chan string, want string) {
	t.Helper()
	timeout := time.After(2 * time.Minute)
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("child exited before printing %q", want)
			}
			if l == want {
				return
			}
		case <-timeout:
			t.Fatalf("child did not print %q within 2 minutes", want)
		}
	}
}

// TestArchiverKilled moves bookings from MariaDB to Cassandra in child
// processes killed with SIGKILL in every window of a batch (half written
// to Cassandra; written but not deleted; deleted, before the next batch;
// and at an arbitrary instant of a running archiver), checks after each
// kill that every booking is listed once and none is lost, then lets a
// last child finish: every due booking ends exactly once, in Cassandra,
// and every other booking is still in MariaDB.
func TestArchiverKilled(t *testing.T) {
	my := testenv.MySQL(t)
	cass := testenv.Cassandra(t)
	ctx := context.Background()
	if err := sqlstore.New(my.DB, nil).CreateSchema(ctx); err != nil {
		t.Fatal(err)
	}
	cold, err := cqlstore.New(cass.Session, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := cold.CreateSchema(ctx); err != nil {
		t.Fatal(err)
	}
	f := newCrashFixture(t, my.DB, cold)
	if len(f.due) != 160 || len(f.stay) != 100 {
		t.Fatalf("fixture has %d due and %d other bookings; want 160 and 100", len(f.due), len(f.stay))
	}
	f.check(t, false)
	env := []string{envDSN + "=" + my.DSN, envHosts + "=" + strings.Join(cass.Hosts, ","), envKeyspace + "=" + cass.Keyspace}

	lastCold := 0
	for _, round := range []struct {
		mode   string
		stopAt int
	}{
		{"put-mid", 1},
		{"after-put", 2}, // batch 1 again, then batch 2 written and not deleted
		{"after-delete", 2},
		{"put-mid", 3},
		{"after-put", 1},
	} {
		cmd, lines := startChild(t, env, round.mode, round.stopAt)
		waitFor(t, lines, "stop")
		kill(t, cmd)
		cold, both := f.check(t, false)
		t.Logf("killed %s in batch %d: %d bookings in Cassandra, %d of them still in MariaDB", round.mode, round.stopAt, cold, both)
		if round.mode == "after-put" && both == 0 {
			t.Fatalf("killed after a Put, before its Delete: no booking is in both stores; the kill missed its window")
		}
		if cold < lastCold {
			t.Fatalf("Cassandra went from %d to %d bookings", lastCold, cold)
		}
		lastCold = cold
	}
	// A running archiver killed at an arbitrary instant, after its first
	// batch (the rest runs on the real scheduler).
	cmd, lines := startChild(t, env, "run", 0)
	waitFor(t, lines, "batch 1")
	time.Sleep(time.Duration(mrand.IntN(20)) * time.Millisecond)
	kill(t, cmd)
	cold2, both := f.check(t, false)
	t.Logf("killed a running archiver: %d bookings in Cassandra, %d of them still in MariaDB", cold2, both)

	cmd, lines = startChild(t, env, "finish", 0)
	var moved string
	for l := range lines {
		if strings.HasPrefix(l, "moved ") {
			moved = l
		}
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("last archiver: %v", err)
	}
	t.Logf("last archiver: %s", moved)
	f.check(t, true)
}

// TestConcurrentArchivers runs 6 archivers at once on the same MariaDB
// database and Cassandra table: they copy and delete the same batches
// concurrently, and every due booking still ends exactly once, in
// Cassandra.
func TestConcurrentArchivers(t *testing.T) {
	my := testenv.MySQL(t)
	cass := testenv.Cassandra(t)
	ctx := context.Background()
	if err := sqlstore.New(my.DB, nil).CreateSchema(ctx); err != nil {
		t.Fatal(err)
	}
	cold, err := cqlstore.New(cass.Session, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := cold.CreateSchema(ctx); err != nil {
		t.Fatal(err)
	}
	f := newCrashFixture(t, my.DB, cold)
	errs := make(chan error, 6)
	var total atomic.Int64
	var wg sync.WaitGroup
	for range 6 {
		db, err := sql.Open("mysql", my.DSN) // a pool per archiver, as separate processes
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = db.Close() })
		svc, err := reservation.New(sqlstore.New(db, nil), &reservation.Options{Now: func() time.Time { return archiveAt }})
		if err != nil {
			t.Fatal(err)
		}
		a, err := archive.New(archivesource.New(svc), cold, &archive.Options{Age: age, Batch: 8, Now: func() time.Time { return archiveAt }})
		if err != nil {
			t.Fatal(err)
		}
		wg.Go(func() {
			n, err := a.RunOnce(ctx)
			total.Add(int64(n))
			if err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	t.Logf("6 archivers copied %d records for %d due bookings", total.Load(), len(f.due))
	f.check(t, true)
}
