// Package storetest is the conformance suite of the rides stores: every
// adapter (memstore, sqlstore, cqlstore) runs it against its backend.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sysblocks/sysblocks/archive"
	"github.com/sysblocks/sysblocks/examples/rides/rides"
)

// RunTrips runs the TripStore suite. newStore is called once per subtest
// and must return an empty store (a fresh database, or fresh memory).
func RunTrips(t *testing.T, newStore func(t *testing.T) rides.TripStore) {
	for _, c := range tripCases {
		t.Run(c.name, func(t *testing.T) { c.run(t, newStore(t)) })
	}
}

// RunLocations runs the Locations suite. newStore is called once per
// subtest and must return an empty store.
func RunLocations(t *testing.T, newStore func(t *testing.T) rides.Locations) {
	for _, c := range locationCases {
		t.Run(c.name, func(t *testing.T) { c.run(t, newStore(t)) })
	}
}

func ctxFor(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// base is a fixed time, to the millisecond as the stores keep it.
var base = time.Date(2025, 3, 1, 8, 0, 0, 0, time.UTC)

func trip(id, rider string, state rides.State, updated time.Time) rides.Trip {
	t := rides.Trip{
		ID: id, Rider: rider, State: state, Premium: true,
		PickupLat: 12.9716, PickupLng: 77.5946, DropLat: 12.9352, DropLng: 77.6245,
		Surge: 1.5, Fare: 231.25, PickupETA: 95 * time.Second,
		Created: updated.Add(-time.Minute), Updated: updated,
	}
	if state.Terminal() {
		t.Ended = updated
		t.Driver = "driver-" + id
		t.Reason = rides.ReasonRider
	}
	return t
}

// sameTrip compares every field, times with Equal.
func sameTrip(t *testing.T, what string, got, want rides.Trip) {
	t.Helper()
	g, w := got, want
	if !g.Created.Equal(w.Created) || !g.Updated.Equal(w.Updated) || !g.Ended.Equal(w.Ended) {
		t.Errorf("%s: times got created %v updated %v ended %v; want %v %v %v", what,
			g.Created, g.Updated, g.Ended, w.Created, w.Updated, w.Ended)
	}
	g.Created, g.Updated, g.Ended = time.Time{}, time.Time{}, time.Time{}
	w.Created, w.Updated, w.Ended = time.Time{}, time.Time{}, time.Time{}
	if g != w {
		t.Errorf("%s:\ngot  %+v\nwant %+v", what, g, w)
	}
}

type tripCase struct {
	name string
	run  func(t *testing.T, s rides.TripStore)
}

var tripCases = []tripCase{
	{"CreateGet", func(t *testing.T, s rides.TripStore) {
		// A created trip reads back with every field and version 1.
		ctx := ctxFor(t)
		want := trip("t1", "r1", rides.Requested, base)
		if err := s.Create(ctx, want); err != nil {
			t.Fatal(err)
		}
		got, err := s.Get(ctx, "t1")
		if err != nil {
			t.Fatal(err)
		}
		want.Version = 1
		sameTrip(t, "Get", got, want)
	}},
	{"CreateExists", func(t *testing.T, s rides.TripStore) {
		// A second Create of the same id fails with ErrExists and changes nothing.
		ctx := ctxFor(t)
		if err := s.Create(ctx, trip("t1", "r1", rides.Requested, base)); err != nil {
			t.Fatal(err)
		}
		other := trip("t1", "r2", rides.Cancelled, base)
		if err := s.Create(ctx, other); !errors.Is(err, rides.ErrExists) {
			t.Fatalf("Create duplicate: got %v; want ErrExists", err)
		}
		got, _ := s.Get(ctx, "t1")
		if got.Rider != "r1" || got.State != rides.Requested {
			t.Errorf("after duplicate: got rider %s state %s; want r1 requested", got.Rider, got.State)
		}
	}},
	{"GetUnknown", func(t *testing.T, s rides.TripStore) {
		if _, err := s.Get(ctxFor(t), "nope"); !errors.Is(err, rides.ErrNotFound) {
			t.Fatalf("Get unknown: got %v; want ErrNotFound", err)
		}
	}},
	{"RiderBusy", func(t *testing.T, s rides.TripStore) {
		// One active trip per rider; a terminal trip frees the rider.
		ctx := ctxFor(t)
		first := trip("t1", "r1", rides.Offered, base)
		if err := s.Create(ctx, first); err != nil {
			t.Fatal(err)
		}
		if err := s.Create(ctx, trip("t2", "r1", rides.Requested, base)); !errors.Is(err, rides.ErrRiderBusy) {
			t.Fatalf("second active trip: got %v; want ErrRiderBusy", err)
		}
		if _, err := s.Get(ctx, "t2"); !errors.Is(err, rides.ErrNotFound) {
			t.Fatalf("refused trip stored: got %v; want ErrNotFound", err)
		}
		if err := s.Create(ctx, trip("t3", "r1", rides.Completed, base)); err != nil {
			t.Fatalf("terminal trip of a busy rider: %v", err)
		}
		if err := s.Create(ctx, trip("t4", "r2", rides.Requested, base)); err != nil {
			t.Fatalf("another rider: %v", err)
		}
		first.Version = 1
		first.State, first.Ended, first.Reason = rides.Cancelled, base, rides.ReasonRider
		if _, err := s.Update(ctx, first); err != nil {
			t.Fatal(err)
		}
		if err := s.Create(ctx, trip("t2", "r1", rides.Requested, base)); err != nil {
			t.Fatalf("after the first trip ended: %v", err)
		}
	}},
	{"UpdateVersion", func(t *testing.T, s rides.TripStore) {
		// Update bumps the version; a stale version is refused and changes nothing.
		ctx := ctxFor(t)
		tr := trip("t1", "r1", rides.Requested, base)
		if err := s.Create(ctx, tr); err != nil {
			t.Fatal(err)
		}
		tr.Version = 1
		tr.State, tr.Driver, tr.Updated = rides.Accepted, "d1", base.Add(time.Second)
		got, err := s.Update(ctx, tr)
		if err != nil {
			t.Fatal(err)
		}
		if got.Version != 2 {
			t.Errorf("version after update: got %d; want 2", got.Version)
		}
		stale := tr // version 1
		stale.State, stale.Driver = rides.Cancelled, "d2"
		if _, err := s.Update(ctx, stale); !errors.Is(err, rides.ErrConflict) {
			t.Fatalf("stale update: got %v; want ErrConflict", err)
		}
		stored, err := s.Get(ctx, "t1")
		if err != nil {
			t.Fatal(err)
		}
		tr.Version = 2
		sameTrip(t, "after stale update", stored, tr)
		if _, err := s.Update(ctx, trip("nope", "r1", rides.Accepted, base)); !errors.Is(err, rides.ErrNotFound) {
			t.Fatalf("update unknown: got %v; want ErrNotFound", err)
		}
	}},
	{"ConcurrentUpdate", func(t *testing.T, s rides.TripStore) {
		// Of N updates based on the same version exactly one wins.
		ctx := ctxFor(t)
		if err := s.Create(ctx, trip("t1", "r1", rides.Offered, base)); err != nil {
			t.Fatal(err)
		}
		const n = 20
		var wins, conflicts atomic.Int32
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range n {
			wg.Go(func() {
				tr := trip("t1", "r1", rides.Accepted, base)
				tr.Version, tr.Driver = 1, fmt.Sprintf("d%d", i)
				<-start
				_, err := s.Update(ctx, tr)
				switch {
				case err == nil:
					wins.Add(1)
				case errors.Is(err, rides.ErrConflict):
					conflicts.Add(1)
				default:
					t.Errorf("update %d: %v", i, err)
				}
			})
		}
		close(start)
		wg.Wait()
		if wins.Load() != 1 || conflicts.Load() != n-1 {
			t.Fatalf("got %d wins and %d conflicts; want 1 and %d", wins.Load(), conflicts.Load(), n-1)
		}
		got, _ := s.Get(ctx, "t1")
		if got.Version != 2 || got.Driver == "" {
			t.Errorf("stored: version %d driver %q; want 2 and the winner", got.Version, got.Driver)
		}
	}},
	{"ConcurrentCreateSameRider", func(t *testing.T, s rides.TripStore) {
		// Of N concurrent bookings of one rider exactly one is stored.
		ctx := ctxFor(t)
		const n = 20
		var wins, busy atomic.Int32
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range n {
			wg.Go(func() {
				<-start
				err := s.Create(ctx, trip(fmt.Sprintf("t%d", i), "r1", rides.Requested, base))
				switch {
				case err == nil:
					wins.Add(1)
				case errors.Is(err, rides.ErrRiderBusy):
					busy.Add(1)
				default:
					t.Errorf("create %d: %v", i, err)
				}
			})
		}
		close(start)
		wg.Wait()
		if wins.Load() != 1 || busy.Load() != n-1 {
			t.Fatalf("got %d created and %d busy; want 1 and %d", wins.Load(), busy.Load(), n-1)
		}
	}},
	{"List", func(t *testing.T, s rides.TripStore) {
		// List filters by state and update time, oldest first, up to limit.
		ctx := ctxFor(t)
		for i, st := range []rides.State{rides.Completed, rides.Cancelled, rides.Offered, rides.Completed, rides.Completed} {
			if err := s.Create(ctx, trip(fmt.Sprintf("t%d", i), fmt.Sprintf("r%d", i), st, base.Add(time.Duration(4-i)*time.Minute))); err != nil {
				t.Fatal(err)
			}
		}
		// t4 (base), t3 (+1m), t1 (+3m), t0 (+4m) are terminal; t0 is too new.
		got, err := s.List(ctx, []rides.State{rides.Completed, rides.Cancelled}, base.Add(4*time.Minute), 10)
		if err != nil {
			t.Fatal(err)
		}
		if ids := idsOf(got); ids != "t4 t3 t1" {
			t.Errorf("List terminal: got %q; want \"t4 t3 t1\"", ids)
		}
		got, _ = s.List(ctx, []rides.State{rides.Completed, rides.Cancelled}, base.Add(time.Hour), 2)
		if ids := idsOf(got); ids != "t4 t3" {
			t.Errorf("List limit 2: got %q; want \"t4 t3\"", ids)
		}
		got, _ = s.List(ctx, []rides.State{rides.Requested, rides.Offered}, base.Add(time.Hour), 10)
		if ids := idsOf(got); ids != "t2" {
			t.Errorf("List dispatching: got %q; want \"t2\"", ids)
		}
	}},
	{"DeleteEnded", func(t *testing.T, s rides.TripStore) {
		// DeleteEnded removes ended trips only; absent ids and trips in
		// progress are skipped; deleting again is a no-op.
		ctx := ctxFor(t)
		for _, tr := range []rides.Trip{
			trip("t1", "r1", rides.Completed, base), trip("t2", "r2", rides.Cancelled, base), trip("t3", "r3", rides.Started, base),
		} {
			if err := s.Create(ctx, tr); err != nil {
				t.Fatal(err)
			}
		}
		for range 2 {
			if err := s.DeleteEnded(ctx, []string{"t1", "t2", "t3", "nope"}); err != nil {
				t.Fatal(err)
			}
		}
		for _, id := range []string{"t1", "t2"} {
			if _, err := s.Get(ctx, id); !errors.Is(err, rides.ErrNotFound) {
				t.Errorf("Get %s after DeleteEnded: got %v; want ErrNotFound", id, err)
			}
		}
		if got, err := s.Get(ctx, "t3"); err != nil || got.State != rides.Started {
			t.Fatalf("trip in progress after DeleteEnded: got %+v, %v; want it kept", got, err)
		}
		if err := s.DeleteEnded(ctx, nil); err != nil {
			t.Fatalf("DeleteEnded(nil): %v", err)
		}
		// The rider of the trip in progress is still busy.
		if err := s.Create(ctx, trip("t4", "r3", rides.Requested, base)); !errors.Is(err, rides.ErrRiderBusy) {
			t.Fatalf("rider of a kept trip: got %v; want ErrRiderBusy", err)
		}
	}},
	{"DeleteEndedMany", func(t *testing.T, s rides.TripStore) {
		// More ids than one statement carries.
		ctx := ctxFor(t)
		var ids []string
		for i := range 1200 {
			id := fmt.Sprintf("t%04d", i)
			if i%400 == 0 {
				if err := s.Create(ctx, trip(id, "r1", rides.Completed, base)); err != nil {
					t.Fatal(err)
				}
			}
			ids = append(ids, id)
		}
		if err := s.DeleteEnded(ctx, ids); err != nil {
			t.Fatal(err)
		}
		if got, _ := s.Ended(ctx, "r1", archive.Cursor{}, 10); len(got) != 0 {
			t.Errorf("after DeleteEnded: %s left", idsOf(got))
		}
	}},
	{"Ended", func(t *testing.T, s rides.TripStore) {
		// Ended lists one rider's ended trips, latest end first (equal
		// ends: greater ID first), strictly after a cursor, up to limit.
		ctx := ctxFor(t)
		for _, tr := range []rides.Trip{
			trip("a", "r1", rides.Completed, base),
			trip("b", "r1", rides.Cancelled, base.Add(time.Minute)),
			trip("c", "r1", rides.Completed, base.Add(time.Minute)),
			trip("c1", "r1", rides.Completed, base.Add(time.Minute)),
			trip("d", "r1", rides.Accepted, base.Add(time.Hour)),  // in progress: not listed
			trip("e", "r2", rides.Completed, base.Add(time.Hour)), // another rider
			trip("f", "r1", rides.Completed, base.Add(2*time.Minute)),
		} {
			if err := s.Create(ctx, tr); err != nil {
				t.Fatal(err)
			}
		}
		got, err := s.Ended(ctx, "r1", archive.Cursor{}, 10)
		if err != nil {
			t.Fatal(err)
		}
		if ids := idsOf(got); ids != "f c1 c b a" {
			t.Fatalf("Ended: got %q; want \"f c b C a\"", ids)
		}
		sameTrip(t, "listed trip", got[0], func() rides.Trip {
			w := trip("f", "r1", rides.Completed, base.Add(2*time.Minute))
			w.Version = 1
			return w
		}())
		// Paging by the last (Ended, ID) of each page.
		var all []string
		var after archive.Cursor
		for range 10 {
			page, err := s.Ended(ctx, "r1", after, 2)
			if err != nil {
				t.Fatal(err)
			}
			for _, tr := range page {
				all = append(all, tr.ID)
			}
			if len(page) < 2 {
				break
			}
			last := page[len(page)-1]
			after = archive.Cursor{At: last.Ended, ID: last.ID}
		}
		if fmt.Sprint(all) != "[f c1 c b a]" {
			t.Errorf("paged: got %v; want [f c1 c b a]", all)
		}
		// A position inside a millisecond: trips that ended at the start
		// of that millisecond come after it, those of the next one before.
		got, _ = s.Ended(ctx, "r1", archive.Cursor{At: base.Add(time.Minute + time.Microsecond), ID: "a"}, 10)
		if ids := idsOf(got); ids != "c1 c b a" {
			t.Errorf("Ended after 1µs past a millisecond: got %q; want \"c1 c b a\"", ids)
		}
		got, _ = s.Ended(ctx, "r1", archive.Cursor{At: base.Add(time.Minute - time.Microsecond), ID: "zz"}, 10)
		if ids := idsOf(got); ids != "a" {
			t.Errorf("Ended after 1µs before a millisecond: got %q; want \"a\"", ids)
		}
		if got, err := s.Ended(ctx, "nobody", archive.Cursor{}, 10); err != nil || len(got) != 0 {
			t.Errorf("unknown rider: got %d, %v; want none", len(got), err)
		}
	}},
	{"Cancelled", func(t *testing.T, s rides.TripStore) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if err := s.Create(ctx, trip("t1", "r1", rides.Requested, base)); err == nil {
			t.Fatal("Create on a cancelled context: got nil; want an error")
		}
	}},
}

func idsOf(ts []rides.Trip) string {
	s := ""
	for i, t := range ts {
		if i > 0 {
			s += " "
		}
		s += t.ID
	}
	return s
}

type locationCase struct {
	name string
	run  func(t *testing.T, l rides.Locations)
}

var locationCases = []locationCase{
	{"AppendList", func(t *testing.T, l rides.Locations) {
		// List returns one UTC day of one driver, latest first, up to limit.
		ctx := ctxFor(t)
		day := time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)
		pings := []rides.Ping{
			{Driver: "d1", Lat: 12.97, Lng: 77.59, At: day.Add(-time.Millisecond)}, // previous day
			{Driver: "d1", Lat: 12.98, Lng: 77.60, At: day},
			{Driver: "d1", Lat: 12.99, Lng: 77.61, At: day.Add(5 * time.Second)},
			{Driver: "d1", Lat: 13.00, Lng: 77.62, At: day.Add(24*time.Hour - time.Millisecond)},
			{Driver: "d1", Lat: 13.01, Lng: 77.63, At: day.Add(24 * time.Hour)}, // next day
			{Driver: "d2", Lat: -33.86, Lng: 151.2, At: day.Add(time.Hour)},
		}
		for _, p := range pings {
			if err := l.Append(ctx, p); err != nil {
				t.Fatal(err)
			}
		}
		got, err := l.List(ctx, "d1", day.Add(13*time.Hour), 10)
		if err != nil {
			t.Fatal(err)
		}
		want := []rides.Ping{pings[3], pings[2], pings[1]}
		if len(got) != len(want) {
			t.Fatalf("List: got %d pings %v; want %d", len(got), got, len(want))
		}
		for i := range want {
			if got[i].Driver != want[i].Driver || got[i].Lat != want[i].Lat || got[i].Lng != want[i].Lng || !got[i].At.Equal(want[i].At) {
				t.Errorf("ping %d: got %+v; want %+v", i, got[i], want[i])
			}
		}
		got, _ = l.List(ctx, "d1", day, 1)
		if len(got) != 1 || !got[0].At.Equal(pings[3].At) {
			t.Errorf("List limit 1: got %v; want the latest ping", got)
		}
	}},
	{"Idempotent", func(t *testing.T, l rides.Locations) {
		// A redelivered ping (same driver and time) is stored once.
		ctx := ctxFor(t)
		p := rides.Ping{Driver: "d1", Lat: 1, Lng: 2, At: base}
		for range 3 {
			if err := l.Append(ctx, p); err != nil {
				t.Fatal(err)
			}
		}
		got, _ := l.List(ctx, "d1", base, 10)
		if len(got) != 1 {
			t.Fatalf("after 3 appends: got %d; want 1", len(got))
		}
	}},
}
