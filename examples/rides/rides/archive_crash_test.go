package rides_test

import (
	"context"
	"fmt"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/sysblocks/sysblocks/archive"
	archcql "github.com/sysblocks/sysblocks/archive/cqlstore"
	"github.com/sysblocks/sysblocks/examples/rides/backends"
	"github.com/sysblocks/sysblocks/examples/rides/rides"
	"github.com/sysblocks/sysblocks/examples/rides/rides/sqlstore"
	"github.com/sysblocks/sysblocks/internal/testenv"
)

const archiveCrashEnv = "RIDES_ARCHIVE_CRASH_CHILD"

// stalledTrips is the child's trip store: DeleteEnded reports that the
// archiver reached it (the cold copy is written) and never returns.
type stalledTrips struct{ rides.TripStore }

func (stalledTrips) DeleteEnded(ctx context.Context, ids []string) error {
	fmt.Fprintf(os.Stdout, "PUT DONE %d\n", len(ids))
	time.Sleep(time.Hour) // until SIGKILL
	return nil
}

// TestArchiveKilledReal kills (SIGKILL) an archiving process on MariaDB
// and Cassandra after it wrote the cold copies and before it deleted the
// live trips. The rider's history lists every trip once in that state; a
// new archiver finishes the move, and every trip is then once in
// Cassandra and gone from MariaDB.
func TestArchiveKilledReal(t *testing.T) {
	if v := os.Getenv(archiveCrashEnv); v != "" {
		archiveCrashChild(t, v)
		return
	}
	m := testenv.MySQL(t)
	c := testenv.Cassandra(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	trips := sqlstore.New(m.DB)
	if err := trips.CreateSchema(ctx); err != nil {
		t.Fatal(err)
	}
	cold, err := archcql.New(c.Session, &archcql.Options{Table: backends.ArchiveTable})
	if err != nil {
		t.Fatal(err)
	}
	if err := cold.CreateSchema(ctx); err != nil {
		t.Fatal(err)
	}
	ended := time.Now().UTC().Add(-time.Hour).Truncate(time.Millisecond)
	var want []string
	for i := range 7 {
		id := fmt.Sprintf("t_k%d", i)
		tr := rides.Trip{ID: id, Rider: "killed", State: rides.Completed, Driver: "d1", PickupLat: 1, PickupLng: 2, DropLat: 1.01, DropLng: 2.01,
			Fare: 100, Created: ended.Add(-time.Minute), Updated: ended.Add(-time.Duration(i) * time.Second), Ended: ended.Add(-time.Duration(i) * time.Second)}
		if err := trips.Create(ctx, tr); err != nil {
			t.Fatal(err)
		}
		want = append(want, id)
	}
	if err := trips.Create(ctx, rides.Trip{ID: "t_busy", Rider: "killed", State: rides.Started, Created: ended, Updated: ended}); err != nil {
		t.Fatal(err)
	}
	src := rides.NewTripSource(trips)
	listed := func(stage string) {
		t.Helper()
		var got []string
		var after archive.Cursor
		for range 100 {
			recs, next, err := archive.Merge(ctx, "killed", after, 3, src, cold)
			if err != nil {
				t.Fatalf("%s: %v", stage, err)
			}
			for _, r := range recs {
				tr, err := rides.DecodeTrip(r)
				if err != nil {
					t.Fatalf("%s: %v", stage, err)
				}
				got = append(got, tr.ID)
			}
			if next.IsZero() {
				break
			}
			after = next
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s: history %v; want %v", stage, got, want)
		}
	}
	count := func() (live, archived int) {
		t.Helper()
		if err := m.DB.QueryRowContext(ctx, `SELECT COUNT(*) FROM rides_trips WHERE rider = 'killed' AND state = 'completed'`).Scan(&live); err != nil {
			t.Fatal(err)
		}
		if err := c.Session.Query(`SELECT count(*) FROM `+backends.ArchiveTable+` WHERE owner = 'killed'`).ScanContext(ctx, &archived); err != nil {
			t.Fatal(err)
		}
		return live, archived
	}
	listed("before archiving")

	child := startChild(t, "TestArchiveKilledReal", archiveCrashEnv,
		crashConfig{MySQLDSN: m.DSN, CassandraHosts: c.Hosts, Keyspace: c.Keyspace})
	if line := child.await("PUT DONE"); line != "PUT DONE 7" {
		t.Fatalf("child: got %q; want the delete of the 7 trips reached", line)
	}
	child.kill() // SIGKILL between Put and Delete

	if live, archived := count(); live != 7 || archived != 7 {
		t.Fatalf("after the kill: %d trips in MariaDB and %d in Cassandra; want 7 in both", live, archived)
	}
	listed("killed between put and delete")

	a, err := archive.New(src, cold, &archive.Options{Age: 10 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	if n, err := a.RunOnce(ctx); err != nil || n != 7 {
		t.Fatalf("archiver after the kill: moved %d, %v; want 7, nil", n, err)
	}
	if live, archived := count(); live != 0 || archived != 7 {
		t.Errorf("after the restart: %d trips in MariaDB and %d in Cassandra; want 0 and 7", live, archived)
	}
	if got, err := trips.Get(ctx, "t_busy"); err != nil || got.State != rides.Started {
		t.Errorf("trip in progress: got %+v, %v; want it kept", got, err)
	}
	listed("after archiving")
}

// archiveCrashChild runs one archiver pass whose delete never returns.
func archiveCrashChild(t *testing.T, config string) {
	_, db, sess := childClients(t, config)
	cold, err := archcql.New(sess, &archcql.Options{Table: backends.ArchiveTable})
	if err != nil {
		t.Fatal(err)
	}
	a, err := archive.New(rides.NewTripSource(stalledTrips{sqlstore.New(db)}), cold, &archive.Options{Age: 10 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	_, err = a.RunOnce(context.Background())
	t.Fatalf("RunOnce returned %v; it should have been killed", err)
}
