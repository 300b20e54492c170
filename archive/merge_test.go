package archive_test

import (
	"context"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/sysblocks/sysblocks/archive"
	"github.com/sysblocks/sysblocks/archive/memstore"
)

// randomSets returns a live source and a cold store for owner with n
// records in all: some only live, some only cold, some in both (the cold
// copy with other Data); At values collide often, so ties are common.
// want is the sorted, deduplicated union with the live copies.
func randomSets(t *testing.T, r *mrand.Rand, owner string, n int) (*source, *memstore.Store, []archive.Record) {
	cold := memstore.New()
	live := newSource(cold)
	var want, coldRecs []archive.Record
	for i := range n {
		rec := archive.Record{Owner: owner, ID: fmt.Sprintf("id%02d", r.IntN(1000)*100+i),
			At: t0.Add(time.Duration(r.IntN(n/2+1)) * time.Second), Data: []byte("live")}
		// Another owner's records are never listed.
		other := rec
		other.Owner = owner + "-other"
		switch r.IntN(3) {
		case 0:
			live.recs[rec.ID] = liveRec{rec: rec}
		case 1: // only in cold, with the same Data as want
			coldRecs = append(coldRecs, rec)
		default:
			live.recs[rec.ID] = liveRec{rec: rec}
			c := rec
			c.Data = []byte("cold copy")
			coldRecs = append(coldRecs, c)
		}
		coldRecs = append(coldRecs, other)
		want = append(want, rec)
	}
	if err := cold.Put(context.Background(), coldRecs); err != nil {
		t.Fatal(err)
	}
	slices.SortFunc(want, archive.Compare)
	return live, cold, want
}

func mergeAll(t *testing.T, owner string, size int, live, cold archive.Lister, between func()) []archive.Record {
	t.Helper()
	var all []archive.Record
	var after archive.Cursor
	for pages := 0; ; pages++ {
		if pages > 1000 {
			t.Fatal("Merge does not end")
		}
		page, next, err := archive.Merge(context.Background(), owner, after, size, live, cold)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) > size {
			t.Fatalf("Merge(limit %d) returned %d records", size, len(page))
		}
		all = append(all, page...)
		if next.IsZero() {
			return all
		}
		if len(page) != size {
			t.Fatalf("Merge returned a short page of %d (limit %d) with a next cursor", len(page), size)
		}
		if next != archive.Of(page[len(page)-1]) {
			t.Fatalf("next = %v; want the position of the last record", next)
		}
		after = next
		if between != nil {
			between()
		}
	}
}

func sameRecords(got, want []archive.Record) bool {
	return slices.EqualFunc(got, want, func(a, b archive.Record) bool {
		return a.Owner == b.Owner && a.ID == b.ID && a.At.Equal(b.At) && string(a.Data) == string(b.Data)
	})
}

func ids(recs []archive.Record) []string {
	out := make([]string, len(recs))
	for i, r := range recs {
		out[i] = r.ID
	}
	return out
}

// Property: for random live and cold sets with overlaps and ties, the
// pages of every size from 1 to 7 concatenate to the sorted union with
// each record once, as its live copy where it has one.
func TestMergeProperty(t *testing.T) {
	for seed := range uint64(300) {
		r := mrand.New(mrand.NewPCG(seed, 1))
		n := r.IntN(40)
		live, cold, want := randomSets(t, r, "ann", n)
		for size := 1; size <= 7; size++ {
			got := mergeAll(t, "ann", size, live, cold, nil)
			if !sameRecords(got, want) {
				t.Fatalf("seed %d, %d records, pages of %d:\ngot  %v\nwant %v", seed, n, size, ids(got), ids(want))
			}
		}
	}
}

// Property: records moving from live to cold between page reads (copied,
// then deleted, as the archiver does) are neither skipped nor repeated.
func TestMergeWhileMoving(t *testing.T) {
	for seed := range uint64(200) {
		r := mrand.New(mrand.NewPCG(seed, 2))
		n := 5 + r.IntN(40)
		live, cold, want := randomSets(t, r, "ann", n)
		size := 1 + r.IntN(7)
		move := func() {
			for id, lr := range live.recs {
				switch r.IntN(4) {
				case 0: // copied and deleted
					if err := cold.Put(context.Background(), []archive.Record{lr.rec}); err != nil {
						t.Fatal(err)
					}
					delete(live.recs, id)
				case 1: // copied, not yet deleted
					if err := cold.Put(context.Background(), []archive.Record{lr.rec}); err != nil {
						t.Fatal(err)
					}
				}
			}
		}
		got := mergeAll(t, "ann", size, live, cold, move)
		if !slices.Equal(ids(got), ids(want)) {
			t.Fatalf("seed %d, pages of %d while moving:\ngot  %v\nwant %v", seed, size, ids(got), ids(want))
		}
	}
}

func TestMergeInvalid(t *testing.T) {
	cold := memstore.New()
	live := newSource(cold)
	for name, call := range map[string]func() error{
		"limit 0": func() error {
			_, _, err := archive.Merge(t.Context(), "a", archive.Cursor{}, 0, live, cold)
			return err
		},
		"limit 1001": func() error {
			_, _, err := archive.Merge(t.Context(), "a", archive.Cursor{}, 1001, live, cold)
			return err
		},
		"no owner":   func() error { _, _, err := archive.Merge(t.Context(), "", archive.Cursor{}, 1, live, cold); return err },
		"nil lister": func() error { _, _, err := archive.Merge(t.Context(), "a", archive.Cursor{}, 1, nil, cold); return err },
	} {
		if err := call(); !errors.Is(err, archive.ErrInvalid) {
			t.Errorf("Merge(%s) err = %v; want ErrInvalid", name, err)
		}
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, _, err := archive.Merge(ctx, "a", archive.Cursor{}, 1, cold, cold); !errors.Is(err, context.Canceled) {
		t.Errorf("Merge(cancelled) err = %v; want context.Canceled", err)
	}
}

func TestCompareAndCursor(t *testing.T) {
	a := archive.Record{ID: "b", At: t0.Add(time.Second)}
	b := archive.Record{ID: "c", At: t0}
	c := archive.Record{ID: "a", At: t0}
	if archive.Compare(a, b) >= 0 || archive.Compare(b, c) >= 0 || archive.Compare(c, c) != 0 || archive.Compare(c, a) <= 0 {
		t.Fatal("Compare does not order At descending, then ID descending")
	}
	if !(archive.Cursor{}).After(a) || archive.Of(b).After(b) || !archive.Of(b).After(c) || archive.Of(b).After(a) {
		t.Fatal("Cursor.After is not strictly after in listing order")
	}
}

// BenchmarkMerge reads pages of 20 from 200 live and 2,000 archived
// records (memory stores on both sides).
func BenchmarkMerge(b *testing.B) {
	ctx := context.Background()
	live, cold := memstore.New(), memstore.New()
	var recs []archive.Record
	for i := range 2200 {
		recs = append(recs, archive.Record{Owner: "ann", ID: fmt.Sprintf("r%05d", i), At: t0.Add(time.Duration(i) * time.Second), Data: []byte("{}")})
	}
	if err := cold.Put(ctx, recs[:2000]); err != nil {
		b.Fatal(err)
	}
	if err := live.Put(ctx, recs[1990:]); err != nil { // 10 in both
		b.Fatal(err)
	}
	var after archive.Cursor
	b.ReportAllocs()
	for b.Loop() {
		_, next, err := archive.Merge(ctx, "ann", after, 20, live, cold)
		if err != nil {
			b.Fatal(err)
		}
		after = next
	}
}

// hookLister calls before and after around the List of its Lister.
type hookLister struct {
	archive.Lister
	before, after func()
}

func (h hookLister) List(ctx context.Context, owner string, after archive.Cursor, limit int) ([]archive.Record, error) {
	if h.before != nil {
		h.before()
	}
	recs, err := h.Lister.List(ctx, owner, after, limit)
	if h.after != nil {
		h.after()
	}
	return recs, err
}

// Merge reads the live list to the end before it starts the cold one, and
// so finds a record that an archiver moved between the two reads.
func TestMergeReadsLiveFirst(t *testing.T) {
	ctx := context.Background()
	cold := memstore.New()
	src := newSource(cold)
	for i := range 5 {
		src.add("ann", i, true, t0)
	}
	var events []string
	log := func(e string) func() { return func() { events = append(events, e) } }
	moveAll := func() {
		for id, r := range src.recs {
			if err := cold.Put(ctx, []archive.Record{r.rec}); err != nil {
				t.Fatal(err)
			}
			delete(src.recs, id)
		}
	}
	live := hookLister{Lister: src, before: log("live start"), after: log("live end")}
	coldL := hookLister{Lister: cold, before: func() { log("cold start")(); moveAll() }, after: log("cold end")}
	page, _, err := archive.Merge(ctx, "ann", archive.Cursor{}, 10, live, coldL)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"live start", "live end", "cold start", "cold end"}; !slices.Equal(events, want) {
		t.Fatalf("reads in the order %v; want %v", events, want)
	}
	if len(page) != 5 {
		t.Fatalf("Merge found %d of 5 records moved between its reads", len(page))
	}
}
