package rides_test

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sysblocks/sysblocks/archive"
	"github.com/sysblocks/sysblocks/examples/rides/backends"
	"github.com/sysblocks/sysblocks/examples/rides/rides"
)

// flakyTrips is a TripStore whose DeleteEnded fails while failDelete is
// set: the archiver stops after writing the cold copy and before deleting
// the live one, as a process killed in that window does.
type flakyTrips struct {
	rides.TripStore
	failDelete atomic.Bool
}

func (f *flakyTrips) DeleteEnded(ctx context.Context, ids []string) error {
	if f.failDelete.Load() {
		return errors.New("killed before the delete")
	}
	return f.TripStore.DeleteEnded(ctx, ids)
}

// flakyCold is an archive store whose Put fails while failPut is set.
type flakyCold struct {
	archive.Store
	failPut atomic.Bool
}

func (f *flakyCold) Put(ctx context.Context, recs []archive.Record) error {
	if f.failPut.Load() {
		return errors.New("cold store down")
	}
	return f.Store.Put(ctx, recs)
}

// history reads a rider's whole history through the API, limit trips a
// page, following the cursors.
func (e *env) history(rider string, limit int) []tripJSON {
	e.t.Helper()
	var all []tripJSON
	cursor := ""
	for range 1000 {
		page, next := e.historyPage(rider, cursor, limit)
		all = append(all, page...)
		if next == "" {
			return all
		}
		cursor = next
	}
	e.t.Fatalf("history of %s: more than 1000 pages", rider)
	return nil
}

func (e *env) historyPage(rider, cursor string, limit int) ([]tripJSON, string) {
	e.t.Helper()
	r := e.do("GET", fmt.Sprintf("/v1/riders/%s/trips?limit=%d&cursor=%s", rider, limit, url.QueryEscape(cursor)), "")
	if r.status != 200 {
		e.t.Fatalf("history of %s: got %d %s", rider, r.status, r.body)
	}
	var h struct {
		Trips []tripJSON
		Next  string
	}
	r.json(e.t, &h)
	if len(h.Trips) > limit || (h.Next != "" && len(h.Trips) != limit) {
		e.t.Fatalf("history page of %s: %d trips with next %q for a limit of %d", rider, len(h.Trips), h.Next, limit)
	}
	return h.Trips, h.Next
}

func idList(ts []tripJSON) []string {
	out := make([]string, len(ts))
	for i, t := range ts {
		out[i] = t.ID
	}
	return out
}

// TestHistoryOnce: in memory.
func TestHistoryOnce(t *testing.T) { historyOnce(t, memoryStack) }

// TestHistoryOnceReal: current trips in MariaDB, archived trips in
// Cassandra.
func TestHistoryOnceReal(t *testing.T) {
	real, _, m, c := realSetup(t)
	historyOnce(t, real)
	if t.Failed() {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var archived, live int
	if err := c.Session.Query(`SELECT count(*) FROM `+backends.ArchiveTable+` WHERE owner = ?`, "once").ScanContext(ctx, &archived); err != nil || archived != 5 {
		t.Errorf("Cassandra %s of rider once: got %d, %v; want 5", backends.ArchiveTable, archived, err)
	}
	if err := m.DB.QueryRowContext(ctx, `SELECT COUNT(*) FROM rides_trips WHERE rider = ?`, "once").Scan(&live); err != nil || live != 2 {
		t.Errorf("MariaDB rides_trips of rider once: got %d, %v; want 2 (the recent end and the trip in progress)", live, err)
	}
}

// historyOnce checks that every ended trip of a rider is listed exactly
// once, in order, before archiving, while the cold store is down, in the
// window where the archiver wrote the cold copy but did not delete the
// live one, and after archiving; and that a history read page by page
// across the move neither repeats nor skips a trip.
func historyOnce(t *testing.T, newStack stackFunc) {
	var trips *flakyTrips
	var cold *flakyCold
	e := start(t, newStack, rides.Config{ArchiveInterval: 24 * time.Hour}, func(c *rides.Config) {
		trips = &flakyTrips{TripStore: c.Trips}
		cold = &flakyCold{Store: c.Archive}
		c.Trips, c.Archive = trips, cold
	})
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()

	// Five trips that ended an hour ago (due), one that just ended (not
	// due) and one in progress (never listed, never archived).
	now := e.clock.Now().UTC().Truncate(time.Millisecond)
	var want []string // newest end first
	mk := func(id string, st rides.State, ended time.Time) rides.Trip {
		tr := rides.Trip{ID: id, Rider: "once", Driver: "d-" + id, State: st, PickupLat: pickLat, PickupLng: pickLng,
			DropLat: dropLat, DropLng: dropLng, Surge: 1, Fare: 120, PickupETA: 90 * time.Second,
			Created: ended.Add(-20 * time.Minute), Updated: ended}
		if st.Terminal() {
			tr.Ended = ended
			if st == rides.Cancelled {
				tr.Reason = rides.ReasonRider
			}
		}
		return tr
	}
	create := func(tr rides.Trip) {
		if err := e.stack.Trips.Create(ctx, tr); err != nil {
			t.Fatal(err)
		}
	}
	create(mk("t_recent", rides.Completed, now))
	want = append(want, "t_recent")
	old := now.Add(-time.Hour)
	for i := range 5 {
		st := rides.Completed
		if i == 2 {
			st = rides.Cancelled
		}
		// t_old3 and t_old4 end in the same millisecond: the ID breaks the tie.
		ended := old.Add(-time.Duration(min(i, 3)) * time.Minute)
		create(mk(fmt.Sprintf("t_old%d", i), st, ended))
		want = append(want, fmt.Sprintf("t_old%d", i))
	}
	slices.SortStableFunc(want[4:], func(a, b string) int { return strings.Compare(b, a) })
	create(mk("t_riding", rides.Started, now))

	check := func(stage string) {
		t.Helper()
		for _, limit := range []int{1, 2, 4, 100} {
			if got := idList(e.history("once", limit)); !slices.Equal(got, want) {
				t.Errorf("%s, pages of %d: got %v; want %v", stage, limit, got, want)
			}
		}
	}
	check("before archiving")

	// The cold store is down: the pass fails, nothing moves.
	cold.failPut.Store(true)
	if n, err := e.svc.Archive(ctx); err == nil || n != 0 {
		t.Fatalf("Archive with the cold store down: got %d, %v; want 0 and an error", n, err)
	}
	cold.failPut.Store(false)
	check("cold store down")

	// Killed between Put and Delete: every old trip is in both stores.
	trips.failDelete.Store(true)
	if n, err := e.svc.Archive(ctx); err == nil || n != 0 {
		t.Fatalf("Archive killed before the delete: got %d, %v; want 0 and an error", n, err)
	}
	recs, err := cold.List(ctx, "once", archive.Cursor{}, 100)
	if err != nil || len(recs) != 5 {
		t.Fatalf("cold store in the window: got %d records, %v; want 5", len(recs), err)
	}
	for _, r := range recs {
		if got := e.trip(r.ID); got.State != "completed" && got.State != "cancelled" {
			t.Fatalf("live copy of %s in the window: got %+v", r.ID, got)
		}
	}
	check("between put and delete")

	// A reader takes page one in the window and the rest after the move.
	page1, next := e.historyPage("once", "", 3)
	trips.failDelete.Store(false)
	if n, err := e.svc.Archive(ctx); err != nil || n != 5 {
		t.Fatalf("Archive: got %d, %v; want 5, nil", n, err)
	}
	if next == "" {
		t.Fatal("history page one: no next cursor")
	}
	p2, _ := e.historyPage("once", next, 100)
	if got := idList(append(page1, p2...)); !slices.Equal(got, want) {
		t.Errorf("paged across the move: got %v; want %v", got, want)
	}
	check("after archiving")

	// The old trips left the current store; the others stayed.
	for i := range 5 {
		e.want(e.do("GET", fmt.Sprintf("/v1/trips/t_old%d", i), ""), 404, "not_found", "archived trip")
	}
	if got := e.trip("t_recent"); got.State != "completed" {
		t.Errorf("recent trip: got %+v; want it in the current store", got)
	}
	if got := e.trip("t_riding"); got.State != "started" {
		t.Errorf("trip in progress: got %+v; want it kept", got)
	}
	// An archived trip reads back with its fields.
	h := e.history("once", 100)
	if tr := h[len(h)-1]; tr.State != "completed" || tr.Driver != "d-"+tr.ID || tr.Fare != 120 || tr.EndedAt == nil || tr.PickupETAS == nil || *tr.PickupETAS != 90 {
		t.Errorf("archived trip: got %+v", tr)
	}
	if tr := h[3]; tr.ID != "t_old2" || tr.State != "cancelled" || tr.Reason != rides.ReasonRider {
		t.Errorf("archived cancelled trip: got %+v", tr)
	}
	// A second pass finds nothing due.
	if n, err := e.svc.Archive(ctx); err != nil || n != 0 {
		t.Errorf("Archive again: got %d, %v; want 0, nil", n, err)
	}
	if st := e.svc.Stats(); st["archived"] != 5 || st["archive_errors"] != 2 {
		t.Errorf("stats: archived %v, archive_errors %v; want 5 and 2", st["archived"], st["archive_errors"])
	}

	// Bad cursors and limits are refused.
	for _, q := range []string{"cursor=nope", "cursor=" + rides.EncodeCursor(archive.Cursor{At: now, ID: "bad id"}), "limit=0", "limit=1001", "cursor=MTIzLg"} {
		e.want(e.do("GET", "/v1/riders/once/trips?"+q, ""), 400, "invalid_input", "history with "+q)
	}
}

func TestTripRecord(t *testing.T) {
	at := time.Date(2031, 5, 1, 9, 30, 0, 123_000_000, time.UTC)
	tr := rides.Trip{ID: "t_1", Rider: "ann", Driver: "d9", State: rides.Cancelled, Premium: true,
		PickupLat: 12.97, PickupLng: 77.59, DropLat: 12.93, DropLng: 77.62, Surge: 1.5, Fare: 231.25,
		PickupETA: 95 * time.Second, Reason: rides.ReasonNoDriver,
		Created: at.Add(-time.Minute), Updated: at, Ended: at, Version: 4}
	r, err := rides.EncodeTrip(tr)
	if err != nil {
		t.Fatal(err)
	}
	if r.Owner != "ann" || r.ID != "t_1" || !r.At.Equal(at) {
		t.Fatalf("EncodeTrip = %+v; want Owner ann, ID t_1, At = Ended", r)
	}
	if got, err := rides.DecodeTrip(r); err != nil || got != tr {
		t.Fatalf("DecodeTrip(EncodeTrip(t)) = %+v, %v;\nwant %+v", got, err, tr)
	}
	for name, bad := range map[string]rides.Trip{
		"in progress": {ID: "x", Rider: "a", State: rides.Started, Ended: at},
		"no end":      {ID: "x", Rider: "a", State: rides.Completed},
		"no rider":    {ID: "x", State: rides.Completed, Ended: at},
		"no id":       {Rider: "a", State: rides.Completed, Ended: at},
	} {
		if _, err := rides.EncodeTrip(bad); !errors.Is(err, archive.ErrInvalid) {
			t.Errorf("EncodeTrip(%s) err = %v; want ErrInvalid", name, err)
		}
	}
	edit := func(f func(*archive.Record)) archive.Record { c := r; f(&c); return c }
	for name, rec := range map[string]archive.Record{
		"not json":      edit(func(r *archive.Record) { r.Data = []byte("nope") }),
		"trailing data": edit(func(r *archive.Record) { r.Data = append(append([]byte{}, r.Data...), "{}"...) }),
		"other owner":   edit(func(r *archive.Record) { r.Owner = "bob" }),
		"other id":      edit(func(r *archive.Record) { r.ID = "t_2" }),
		"other at":      edit(func(r *archive.Record) { r.At = r.At.Add(time.Millisecond) }),
		"unknown field": edit(func(r *archive.Record) { r.Data = []byte(`{"id":"t_1","evil":1}`) }),
		"in progress": edit(func(r *archive.Record) {
			r.Data = []byte(strings.Replace(string(r.Data), `"cancelled"`, `"started"`, 1))
		}),
	} {
		if _, err := rides.DecodeTrip(rec); !errors.Is(err, archive.ErrInvalid) {
			t.Errorf("DecodeTrip(%s) err = %v; want ErrInvalid", name, err)
		}
	}
}

// FuzzDecodeTrip: DecodeTrip never panics, refuses with ErrInvalid, and a
// trip it accepts encodes back to a record that decodes to the same trip.
func FuzzDecodeTrip(f *testing.F) {
	at := time.Date(2031, 5, 1, 9, 30, 0, 0, time.UTC)
	good, _ := rides.EncodeTrip(rides.Trip{ID: "t_1", Rider: "ann", State: rides.Completed, Ended: at, Version: 2})
	f.Add(good.Owner, good.ID, good.At.UnixNano(), good.Data)
	f.Add("ann", "t_1", int64(0), []byte(`{"id":"t_1"}`))
	f.Add("", "", int64(-1), []byte(`null`))
	f.Fuzz(func(t *testing.T, owner, id string, at int64, data []byte) {
		r := archive.Record{Owner: owner, ID: id, At: time.Unix(0, at).UTC(), Data: data}
		tr, err := rides.DecodeTrip(r)
		if err != nil {
			if !errors.Is(err, archive.ErrInvalid) {
				t.Fatalf("DecodeTrip err = %v; want ErrInvalid", err)
			}
			return
		}
		r2, err := rides.EncodeTrip(tr)
		if err != nil {
			t.Fatalf("EncodeTrip of a decoded trip: %v", err)
		}
		tr2, err := rides.DecodeTrip(r2)
		if err != nil || tr2 != tr {
			t.Fatalf("round trip: got %+v, %v; want %+v", tr2, err, tr)
		}
	})
}

// FuzzDecodeCursor: any string is a cursor or refused with
// ErrInvalidInput; a cursor that parses encodes back to itself.
func FuzzDecodeCursor(f *testing.F) {
	f.Add(rides.EncodeCursor(archive.Cursor{At: time.Date(2031, 5, 1, 9, 30, 0, 0, time.UTC), ID: "t_0a1b"}))
	f.Add(rides.EncodeCursor(archive.Cursor{At: time.Unix(0, 1), ID: "a.b"}))
	for _, s := range []string{"", "nope", "MTIzLg", "LTEuYQ", "MDEuYQ", "K1.a", strings.Repeat("A", 200)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := rides.DecodeCursor(s)
		if err != nil {
			if !errors.Is(err, rides.ErrInvalidInput) {
				t.Fatalf("DecodeCursor(%q) err = %v; want ErrInvalidInput", s, err)
			}
			return
		}
		if got := rides.EncodeCursor(c); got != s {
			t.Fatalf("EncodeCursor(DecodeCursor(%q)) = %q", s, got)
		}
	})
}
