package memindex_test

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/sysblocks/sysblocks/geogrid"
	"github.com/sysblocks/sysblocks/geogrid/indextest"
	"github.com/sysblocks/sysblocks/geogrid/memindex"
)

func newIndex(t *testing.T, seg geogrid.Segmentation) *memindex.Index {
	x, err := memindex.New(&memindex.Options{Segmentation: seg})
	if err != nil {
		t.Fatal(err)
	}
	return x
}

func TestConformance(t *testing.T) {
	indextest.Run(t, indextest.Config{
		New:        func(t *testing.T, seg geogrid.Segmentation) geogrid.Index { return newIndex(t, seg) },
		Claims:     func(t *testing.T) geogrid.Claims { return newIndex(t, geogrid.Segmentation{}) },
		ClaimClock: true,
	})
}

// TestNewAllocatesLittle: New allocates no roots, whatever MinLevel is
// (there are 6*4^10 cells of level 10), and an empty index answers every
// call without visiting cells.
func TestNewAllocatesLittle(t *testing.T) {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	x, err := memindex.New(&memindex.Options{Segmentation: geogrid.Segmentation{MinLevel: 10}})
	runtime.ReadMemStats(&after)
	if err != nil {
		t.Fatal(err)
	}
	if got := after.TotalAlloc - before.TotalAlloc; got > 256<<10 {
		t.Fatalf("New with MinLevel 10 allocated %d bytes; want under 256 KiB (no root up front)", got)
	}
	ctx := context.Background()
	segs := 0
	must(t, x.Segments(ctx, func(geogrid.Segment) bool { segs++; return true }))
	if segs != 0 || x.Roots() != 0 {
		t.Fatalf("empty index: %d segments, %d roots; want 0 and 0", segs, x.Roots())
	}
	for _, m := range []float64{0, 5000, 1e6, 3e7} {
		must(t, x.Search(ctx, geogrid.Query{Lat: 10, Lng: 10, Meters: m, After: -1}, func(geogrid.Entry) bool {
			t.Fatalf("empty index: Search within %v m visited an entry", m)
			return false
		}))
	}
}

// TestRootsFollowEntries: a root exists while it holds an entry, and is
// freed when its last entry is removed, pruned or moves away.
func TestRootsFollowEntries(t *testing.T) {
	ctx := context.Background()
	x := newIndex(t, geogrid.Segmentation{MinLevel: 10, MaxPerCell: 4, MinPerCell: 2})
	roots := func(es map[string][2]float64) int {
		set := map[geogrid.Cell]bool{}
		for _, p := range es {
			c, err := geogrid.CellAt(p[0], p[1], 10)
			must(t, err)
			set[c] = true
		}
		return len(set)
	}
	model := map[string][2]float64{}
	r := rand.New(rand.NewPCG(7, 7))
	for i := range 200 {
		id := fmt.Sprint("d", i)
		p := [2]float64{40 + r.Float64(), 10 + r.Float64()} // ~100 km square: many level-10 roots, some shared
		must(t, x.Update(ctx, geogrid.Entry{ID: id, Lat: p[0], Lng: p[1], At: 1}))
		model[id] = p
	}
	if got, want := x.Roots(), roots(model); got != want {
		t.Fatalf("after inserts: %d roots; want %d", got, want)
	}
	for i := range 100 { // move half of them into one spot
		id := fmt.Sprint("d", i)
		p := [2]float64{-33.9 + float64(i)*1e-6, 151.2}
		must(t, x.Update(ctx, geogrid.Entry{ID: id, Lat: p[0], Lng: p[1], At: 2}))
		model[id] = p
	}
	if got, want := x.Roots(), roots(model); got != want {
		t.Fatalf("after moves: %d roots; want %d", got, want)
	}
	for i := 100; i < 150; i++ {
		id := fmt.Sprint("d", i)
		must(t, x.Remove(ctx, id))
		delete(model, id)
	}
	if got, want := x.Roots(), roots(model); got != want {
		t.Fatalf("after removes: %d roots; want %d", got, want)
	}
	n, err := x.Prune(ctx, 1) // the 50 entries still at At 1
	must(t, err)
	if n != 50 || x.Roots() != 1 {
		t.Fatalf("after pruning: %d pruned, %d roots; want 50 and 1", n, x.Roots())
	}
	n, err = x.Prune(ctx, 2)
	must(t, err)
	if n != 100 || x.Roots() != 0 || x.Len() != 0 {
		t.Fatalf("after pruning all: %d pruned, %d roots, %d entries; want 100, 0, 0", n, x.Roots(), x.Len())
	}
	st := x.Stats()
	if st.Moves != 100 || st.Splits == 0 || st.Merges == 0 || st.Entries != 0 {
		t.Fatalf("Stats: %+v; want 100 moves, some splits and merges, no entries", st)
	}
}

// TestFineRootsDifferential compares Nearby with a brute-force scan on
// grids with small roots (levels 10 and 13), with queries from a few
// meters to the whole sphere, before and after churn that creates and
// frees roots.
func TestFineRootsDifferential(t *testing.T) {
	for _, level := range []int{10, 13} {
		t.Run(fmt.Sprint("MinLevel", level), func(t *testing.T) {
			ctx := context.Background()
			x := newIndex(t, geogrid.Segmentation{MinLevel: level, MaxPerCell: 8})
			now := time.Unix(1_700_000_000, 0)
			g, err := geogrid.New(x, &geogrid.Options{TTL: time.Hour, Now: func() time.Time { return now }})
			must(t, err)
			r := rand.New(rand.NewPCG(uint64(level), 3))
			point := func() (float64, float64) {
				if r.IntN(3) == 0 { // anywhere on the sphere
					return math.Asin(2*r.Float64()-1) * 180 / math.Pi, r.Float64()*360 - 180
				}
				c := indextest.Clusters[r.IntN(len(indextest.Clusters))]
				lat := math.Max(-90, math.Min(90, c[0]+r.NormFloat64()*0.05))
				return lat, math.Remainder(c[1]+r.NormFloat64()*0.05, 360)
			}
			model := map[string]indextest.Fix{}
			at := now.Add(-time.Minute)
			for i := range 3000 {
				lat, lng := point()
				id := fmt.Sprint("d", i)
				must(t, g.Update(ctx, id, lat, lng, at))
				model[id] = indextest.Fix{Lat: lat, Lng: lng, At: at.UnixMicro()}
			}
			check := func(phase string) {
				for range 300 {
					lat, lng := point()
					radius := []float64{0, 10, 500, 5000, 50_000, 500_000, 5e6, 2.1e7}[r.IntN(8)]
					k := []int{0, 1, 10, 50}[r.IntN(4)]
					if radius >= 500_000 && k == 0 {
						k = 100
					}
					got, err := g.Nearby(ctx, lat, lng, radius, k, nil)
					must(t, err)
					if msg := indextest.CheckNearby(got, model, lat, lng, radius, k); msg != "" {
						t.Fatalf("%s: Nearby(%v, %v, %v m, k=%d): %s", phase, lat, lng, radius, k, msg)
					}
				}
			}
			check("after inserts")
			for id := range model {
				switch r.IntN(3) {
				case 0:
					must(t, g.Remove(ctx, id))
					delete(model, id)
				case 1:
					lat, lng := point()
					must(t, g.Update(ctx, id, lat, lng, at.Add(time.Second)))
					model[id] = indextest.Fix{Lat: lat, Lng: lng, At: at.Add(time.Second).UnixMicro()}
				}
			}
			check("after moves and removes")
		})
	}
}

// TestRootChurnConcurrent moves entries back and forth between small roots
// from many goroutines, so that roots are created and freed while other
// goroutines search, list segments and prune nothing. At the end every
// entry is where its last update put it and exactly the occupied roots
// exist.
func TestRootChurnConcurrent(t *testing.T) {
	ctx := context.Background()
	x := newIndex(t, geogrid.Segmentation{MinLevel: 16, MaxPerCell: 2, MinPerCell: 1, MaxLevel: 20}) // roots ~150 m
	const workers, ids, moves = 6, 20, 5000
	final := make([]map[string][2]float64, workers)
	var wg sync.WaitGroup
	stop := make(chan struct{})
	var readers sync.WaitGroup
	for range 2 {
		readers.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				_ = x.Search(ctx, geogrid.Query{Lat: 48.8566, Lng: 2.3522, Meters: 300, After: -1}, func(geogrid.Entry) bool { return true })
				_ = x.Search(ctx, geogrid.Query{Lat: 48.8566, Lng: 2.3522, Meters: 5000, After: -1}, func(geogrid.Entry) bool { return true })
				_ = x.Segments(ctx, func(geogrid.Segment) bool { return true })
				_, _ = x.Prune(ctx, 0)
			}
		})
	}
	for w := range workers {
		final[w] = map[string][2]float64{}
		wg.Go(func() {
			r := rand.New(rand.NewPCG(uint64(w), 5))
			for i := range moves {
				id := fmt.Sprintf("w%d-%d", w, r.IntN(ids))
				// A 1 km square around Paris: a few dozen roots.
				p := [2]float64{48.8566 + (r.Float64()-0.5)*0.01, 2.3522 + (r.Float64()-0.5)*0.014}
				if r.IntN(10) == 0 {
					if err := x.Remove(ctx, id); err == nil {
						delete(final[w], id)
					}
					continue
				}
				if err := x.Update(ctx, geogrid.Entry{ID: id, Lat: p[0], Lng: p[1], At: int64(i + 1)}); err != nil {
					t.Error(err)
					return
				}
				final[w][id] = p
			}
		})
	}
	wg.Wait()
	close(stop)
	readers.Wait()
	model := map[string]indextest.Fix{}
	occupied := map[geogrid.Cell]bool{}
	for _, m := range final {
		for id, p := range m {
			model[id] = indextest.Fix{Lat: p[0], Lng: p[1]}
			c, _ := geogrid.CellAt(p[0], p[1], 16)
			occupied[c] = true
			e, err := x.Get(ctx, id)
			must(t, err)
			if e.Lat != p[0] || e.Lng != p[1] {
				t.Fatalf("%s: at (%v, %v); want (%v, %v)", id, e.Lat, e.Lng, p[0], p[1])
			}
		}
	}
	if x.Len() != len(model) || x.Roots() != len(occupied) {
		t.Fatalf("%d entries in %d roots; want %d in %d", x.Len(), x.Roots(), len(model), len(occupied))
	}
	got := map[string]bool{}
	must(t, x.Search(ctx, geogrid.Query{Lat: 48.8566, Lng: 2.3522, Meters: 2000, After: -1}, func(e geogrid.Entry) bool {
		got[e.ID] = true
		return true
	}))
	if len(got) != len(model) {
		t.Fatalf("Search found %d entries; want all %d", len(got), len(model))
	}
	total := 0
	must(t, x.Segments(ctx, func(s geogrid.Segment) bool { total += s.Count; return true }))
	if total != len(model) {
		t.Fatalf("Segments count %d entries; want %d", total, len(model))
	}
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestUpdateInLeafAllocatesNothing: a fix a few metres from the last one
// rewrites the entry in place: no allocation, no move, no split.
func TestUpdateInLeafAllocatesNothing(t *testing.T) {
	ctx := context.Background()
	x := newIndex(t, geogrid.Segmentation{})
	for i := range 1000 {
		must(t, x.Update(ctx, geogrid.Entry{ID: fmt.Sprint("d", i), Lat: 48.85 + float64(i%40)*1e-3, Lng: 2.35 + float64(i/40)*1e-3, At: 1}))
	}
	before := x.Stats()
	id := string([]byte("d517")) // not the string the index stored
	at := int64(1)
	allocs := testing.AllocsPerRun(1000, func() {
		at++
		lat := 48.85 + 37e-3 + float64(at%7)*1e-6 // within a metre
		must(t, x.Update(ctx, geogrid.Entry{ID: id, Lat: lat, Lng: 2.35 + 12e-3, At: at}))
	})
	if allocs != 0 {
		t.Fatalf("an update within the leaf allocated %v times", allocs)
	}
	after := x.Stats()
	if after.Moves != before.Moves || after.Splits != before.Splits || after.Entries != 1000 {
		t.Fatalf("in-leaf updates changed the grid: %+v -> %+v", before, after)
	}
	e, err := x.Get(ctx, id)
	must(t, err)
	if e.At != at || e.Lat != 48.85+37e-3+float64(at%7)*1e-6 {
		t.Fatalf("get %q = %+v, want the last fix (at %d)", id, e, at)
	}
}
