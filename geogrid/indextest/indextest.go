package indextest

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang/geo/s2"

	"github.com/sysblocks/sysblocks/geogrid"
)

// Config tells the suite how to build the adapter under test.
type Config struct {
	// New returns an empty index with the given segmentation, private to t.
	New func(t *testing.T, seg geogrid.Segmentation) geogrid.Index
	// Claims returns an empty claim store private to t.
	Claims func(t *testing.T) geogrid.Claims
	// ClaimClock is true when claims expire by the now passed in (memory);
	// false when the backend's own clock expires them (Redis TTLs).
	ClaimClock bool
	// Scale multiplies the sizes of the randomized tests; zero means 1.
	// Use less than 1 for backends with a network round trip per call.
	Scale float64
}

func (c Config) n(base int) int {
	s := c.Scale
	if s == 0 {
		s = 1
	}
	return max(1, int(float64(base)*s))
}

// base is the time of the first fix in every test; queries run one minute
// later with a TTL of one hour unless a test says otherwise.
var base = time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC)

func grid(t *testing.T, idx geogrid.Index, now *time.Time, ttl time.Duration) *geogrid.Grid {
	t.Helper()
	g, err := geogrid.New(idx, &geogrid.Options{TTL: ttl, Now: func() time.Time { return *now }})
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// Run runs the whole suite.
func Run(t *testing.T, c Config) {
	t.Run("UpdateGetRemove", func(t *testing.T) { testUpdateGetRemove(t, c) })
	t.Run("InvalidInput", func(t *testing.T) { testInvalidInput(t, c) })
	t.Run("TTLBoundary", func(t *testing.T) { testTTL(t, c) })
	t.Run("Prune", func(t *testing.T) { testPrune(t, c) })
	t.Run("Differential", func(t *testing.T) { testDifferential(t, c) })
	t.Run("SplitMerge", func(t *testing.T) { testSplitMerge(t, c) })
	t.Run("Concurrent", func(t *testing.T) { testConcurrent(t, c) })
	t.Run("ClaimRace", func(t *testing.T) { testClaimRace(t, c) })
	t.Run("ClaimRelease", func(t *testing.T) { testClaimRelease(t, c) })
	t.Run("DispatchRace", func(t *testing.T) { testDispatchRace(t, c) })
}

func testUpdateGetRemove(t *testing.T, c Config) {
	ctx := context.Background()
	idx := c.New(t, geogrid.Segmentation{})
	at := base.UnixMicro()
	if _, err := idx.Get(ctx, "d1"); !errors.Is(err, geogrid.ErrNotFound) {
		t.Fatalf("Get of unknown id: got %v; want ErrNotFound", err)
	}
	if err := idx.Remove(ctx, "d1"); !errors.Is(err, geogrid.ErrNotFound) {
		t.Fatalf("Remove of unknown id: got %v; want ErrNotFound", err)
	}
	must(t, idx.Update(ctx, geogrid.Entry{ID: "d1", Lat: 51.5, Lng: -0.12, At: at}))
	must(t, idx.Update(ctx, geogrid.Entry{ID: "d1", Lat: 51.6, Lng: -0.13, At: at + 10}))
	// An older fix arriving late changes nothing.
	must(t, idx.Update(ctx, geogrid.Entry{ID: "d1", Lat: 10, Lng: 10, At: at + 5}))
	e, err := idx.Get(ctx, "d1")
	must(t, err)
	if e != (geogrid.Entry{ID: "d1", Lat: 51.6, Lng: -0.13, At: at + 10}) {
		t.Fatalf("Get after a late fix: got %+v; want the newest fix", e)
	}
	// Coordinates round-trip exactly.
	lat, lng := 0.1+0.2, -179.99999999999997
	must(t, idx.Update(ctx, geogrid.Entry{ID: "d2", Lat: lat, Lng: lng, At: at}))
	if e, _ := idx.Get(ctx, "d2"); e.Lat != lat || e.Lng != lng {
		t.Fatalf("Get: got (%v, %v); want exactly (%v, %v)", e.Lat, e.Lng, lat, lng)
	}
	must(t, idx.Remove(ctx, "d1"))
	if _, err := idx.Get(ctx, "d1"); !errors.Is(err, geogrid.ErrNotFound) {
		t.Fatalf("Get after Remove: got %v; want ErrNotFound", err)
	}
	checkSegments(t, idx, map[string]Fix{"d2": {lat, lng, at}})
}

func testInvalidInput(t *testing.T, c Config) {
	ctx := context.Background()
	now := base
	g := grid(t, c.New(t, geogrid.Segmentation{}), &now, time.Hour)
	must(t, g.Update(ctx, "d1", 1, 2, base))
	bad := []struct{ lat, lng float64 }{
		{math.NaN(), 0}, {0, math.NaN()}, {math.Inf(1), 0}, {0, math.Inf(-1)},
		{90.0000001, 0}, {-91, 0}, {0, 180.0000001}, {0, -181},
	}
	for _, b := range bad {
		err := g.Update(ctx, "d1", b.lat, b.lng, base.Add(time.Second))
		var ie *geogrid.InputError
		if !errors.Is(err, geogrid.ErrInvalidInput) || !errors.As(err, &ie) {
			t.Errorf("Update(%v, %v): got %v; want an *InputError", b.lat, b.lng, err)
		}
		if _, err := g.Nearby(ctx, b.lat, b.lng, 100, 1, nil); !errors.Is(err, geogrid.ErrInvalidInput) {
			t.Errorf("Nearby(%v, %v): got %v; want ErrInvalidInput", b.lat, b.lng, err)
		}
	}
	if err := g.Update(ctx, "", 1, 2, base); !errors.Is(err, geogrid.ErrInvalidInput) {
		t.Errorf("Update with empty id: got %v; want ErrInvalidInput", err)
	}
	for _, r := range []float64{-1, math.NaN(), math.Inf(1)} {
		if _, err := g.Nearby(ctx, 1, 2, r, 1, nil); !errors.Is(err, geogrid.ErrInvalidInput) {
			t.Errorf("Nearby radius %v: got %v; want ErrInvalidInput", r, err)
		}
	}
	if _, err := g.Nearby(ctx, 1, 2, 10, -1, nil); !errors.Is(err, geogrid.ErrInvalidInput) {
		t.Errorf("Nearby k -1: got %v; want ErrInvalidInput", err)
	}
	// Bad input changed nothing.
	n, err := g.Get(ctx, "d1")
	must(t, err)
	if n.Lat != 1 || n.Lng != 2 || !n.At.Equal(base) {
		t.Fatalf("after rejected updates: got %+v; want (1, 2) at base", n)
	}
	// The extremes themselves are valid.
	for _, p := range [][2]float64{{90, 0}, {-90, 0}, {0, 180}, {0, -180}, {90, 180}} {
		if err := g.Update(ctx, fmt.Sprint("x", p), p[0], p[1], base); err != nil {
			t.Errorf("Update(%v): got %v; want nil", p, err)
		}
	}
}

func testTTL(t *testing.T, c Config) {
	ctx := context.Background()
	now := base.Add(time.Minute)
	g := grid(t, c.New(t, geogrid.Segmentation{}), &now, time.Minute)
	must(t, g.Update(ctx, "stale", 10, 10, base))                            // at == now - TTL: stale
	must(t, g.Update(ctx, "fresh", 10, 10.0001, base.Add(time.Microsecond))) // 1µs inside the TTL
	got, err := g.Nearby(ctx, 10, 10, 1000, 0, nil)
	must(t, err)
	if len(got) != 1 || got[0].ID != "fresh" {
		t.Fatalf("Nearby at the TTL boundary: got %v; want only fresh", ids(got))
	}
	if _, err := g.Get(ctx, "stale"); !errors.Is(err, geogrid.ErrNotFound) {
		t.Fatalf("Get of a stale id: got %v; want ErrNotFound", err)
	}
	now = now.Add(time.Microsecond)
	got, err = g.Nearby(ctx, 10, 10, 1000, 0, nil)
	must(t, err)
	if len(got) != 0 {
		t.Fatalf("Nearby 1µs later: got %v; want none", ids(got))
	}
}

func testPrune(t *testing.T, c Config) {
	ctx := context.Background()
	idx := c.New(t, geogrid.Segmentation{MaxPerCell: 4})
	model := map[string]Fix{}
	r := rand.New(rand.NewPCG(7, 7))
	for i := range 60 {
		id := fmt.Sprint("d", i)
		p := Fix{40 + r.Float64()*0.01, -74 + r.Float64()*0.01, int64(i)}
		must(t, idx.Update(ctx, geogrid.Entry{ID: id, Lat: p.Lat, Lng: p.Lng, At: p.At}))
		model[id] = p
	}
	n, err := idx.Prune(ctx, 19)
	must(t, err)
	if n != 20 {
		t.Fatalf("Prune(19): got %d removed; want 20", n)
	}
	for id, p := range model {
		if p.At <= 19 {
			delete(model, id)
		}
	}
	checkSegments(t, idx, model)
}

// Fix is a model entry for [CheckNearby]: a position and its time in Unix
// microseconds.
type Fix struct {
	Lat, Lng float64
	At       int64
}

// randomPoint draws from a mix meant to break spatial indexes: uniform on
// the sphere, along the antimeridian, near and at the poles, on the
// vertices and edges of cells, and in dense clusters.
func randomPoint(r *rand.Rand, clusters [][2]float64) (float64, float64) {
	switch r.IntN(10) {
	case 0:
		return math.Asin(2*r.Float64()-1) * 180 / math.Pi, r.Float64()*360 - 180
	case 1: // antimeridian
		lng := 180 - r.Float64()*0.05
		if r.IntN(2) == 0 {
			lng = -lng
		}
		if r.IntN(8) == 0 {
			lng = []float64{180, -180}[r.IntN(2)]
		}
		return r.Float64()*120 - 60, lng
	case 2: // high latitude
		lat := 90 - math.Pow(r.Float64(), 3)*0.5
		if r.IntN(8) == 0 {
			lat = 90
		}
		if r.IntN(2) == 0 {
			lat = -lat
		}
		return lat, r.Float64()*360 - 180
	case 3: // a cell vertex, nudged by a few nanodegrees
		lat, lng := clusterPoint(r, clusters, 0.05)
		id := s2.CellIDFromLatLng(s2.LatLngFromDegrees(lat, lng)).Parent(6 + r.IntN(14))
		ll := s2.LatLngFromPoint(s2.CellFromCellID(id).Vertex(r.IntN(4)))
		return clamp(ll.Lat.Degrees()+(r.Float64()-0.5)*1e-8, 90), clamp(ll.Lng.Degrees()+(r.Float64()-0.5)*1e-8, 180)
	default:
		return clusterPoint(r, clusters, []float64{0.001, 0.01, 0.05}[r.IntN(3)])
	}
}

func clusterPoint(r *rand.Rand, clusters [][2]float64, spread float64) (float64, float64) {
	c := clusters[r.IntN(len(clusters))]
	lat := clamp(c[0]+r.NormFloat64()*spread, 90)
	lng := c[1] + r.NormFloat64()*spread/math.Max(0.01, math.Cos(lat*math.Pi/180))
	for lng > 180 {
		lng -= 360
	}
	for lng < -180 {
		lng += 360
	}
	return lat, lng
}

func clamp(v, lim float64) float64 { return math.Max(-lim, math.Min(lim, v)) }

// Clusters are the dense places of the random data.
var Clusters = [][2]float64{
	{51.5074, -0.1278},  // London
	{0, 179.999},        // on the antimeridian
	{-16.5, -179.9},     // Fiji, across the antimeridian
	{89.99, 0},          // by the north pole
	{-89.95, 120},       // by the south pole
	{35.6895, 139.6917}, // Tokyo
	{45, 90},            // near a cube-face corner region
}

// Haversine is the oracle's distance: the textbook arcsine form, written
// independently of geogrid.Distance.
func Haversine(lat1, lng1, lat2, lng2 float64) float64 {
	rad := math.Pi / 180
	dphi := (lat2 - lat1) * rad
	dl := (lng2 - lng1) * rad
	a := math.Pow(math.Sin(dphi/2), 2) + math.Cos(lat1*rad)*math.Cos(lat2*rad)*math.Pow(math.Sin(dl/2), 2)
	return 2 * geogrid.EarthRadiusMeters * math.Asin(math.Min(1, math.Sqrt(a)))
}

// CheckNearby compares got with a brute-force scan of fresh (the entries
// that must be considered) and returns a description of the first
// mismatch, or "". Entries within rounding distance of the radius or of
// the k-th distance may go either way.
func CheckNearby(got []geogrid.Neighbor, fresh map[string]Fix, lat, lng, radius float64, k int) string {
	tol := func(d float64) float64 { return 1e-6 + 1e-9*d }
	type od struct {
		id string
		d  float64
	}
	var all, certain []od
	dist := map[string]float64{}
	for id, p := range fresh {
		d := Haversine(lat, lng, p.Lat, p.Lng)
		dist[id] = d
		if d <= radius+tol(radius) {
			all = append(all, od{id, d})
			if d < radius-tol(radius) {
				certain = append(certain, od{id, d})
			}
		}
	}
	describe := func(es []od, fresh map[string]Fix) string {
		var b []byte
		for i, e := range es {
			if i == 10 {
				return string(b) + "..."
			}
			b = fmt.Appendf(b, "%s(%v, %v) at %.9f m; ", e.id, fresh[e.id].Lat, fresh[e.id].Lng, e.d)
		}
		return string(b)
	}
	seen := map[string]bool{}
	for i, n := range got {
		d, ok := dist[n.ID]
		switch {
		case !ok:
			return fmt.Sprintf("result %d: %q is not a fresh entry", i, n.ID)
		case seen[n.ID]:
			return fmt.Sprintf("result %d: %q twice", i, n.ID)
		case math.Abs(d-n.Meters) > tol(d):
			return fmt.Sprintf("result %d: %q at %.9f m; brute force says %.9f m", i, n.ID, n.Meters, d)
		case n.Meters > radius || d > radius+tol(radius):
			return fmt.Sprintf("result %d: %q at %.9f m is outside the radius %v", i, n.ID, n.Meters, radius)
		case i > 0 && (n.Meters < got[i-1].Meters || n.Meters == got[i-1].Meters && n.ID < got[i-1].ID):
			return fmt.Sprintf("result %d: %q at %v m comes after %q at %v m", i, n.ID, n.Meters, got[i-1].ID, got[i-1].Meters)
		}
		seen[n.ID] = true
	}
	lo, hi := len(certain), len(all)
	if k > 0 {
		lo, hi = min(k, lo), min(k, hi)
	}
	if len(got) < lo || len(got) > hi {
		return fmt.Sprintf("got %d results; want between %d and %d; in radius: %s", len(got), lo, hi, describe(all, fresh))
	}
	for _, e := range certain {
		if seen[e.id] {
			continue
		}
		if k == 0 || len(got) < k || e.d < got[k-1].Meters-tol(e.d) {
			return fmt.Sprintf("missing %q at %.9f m (got %d results)", e.id, e.d, len(got))
		}
	}
	return ""
}

func testDifferential(t *testing.T, c Config) {
	for _, seg := range []geogrid.Segmentation{{}, {MaxPerCell: 4, MinPerCell: 1}, {MaxPerCell: 2, MinLevel: -1, MaxLevel: 30}} {
		t.Run(fmt.Sprintf("max%d-min%d", seg.MaxPerCell, seg.MinLevel), func(t *testing.T) {
			ctx := context.Background()
			now := base.Add(time.Minute)
			g := grid(t, c.New(t, seg), &now, time.Hour)
			r := rand.New(rand.NewPCG(uint64(seg.MaxPerCell), 42))
			model := map[string]Fix{}
			n := c.n(6000)
			at := base
			for i := range n {
				lat, lng := randomPoint(r, Clusters)
				id := fmt.Sprintf("d%05d", i)
				must(t, g.Update(ctx, id, lat, lng, at))
				model[id] = Fix{lat, lng, at.UnixMicro()}
			}
			queries := c.n(300)
			check := func(phase string) {
				for range queries {
					lat, lng := randomPoint(r, Clusters)
					radius := []float64{0, 1, 50, 500, 3000, 20000, 200000, 2e6}[r.IntN(8)]
					k := []int{0, 1, 3, 10, 50}[r.IntN(5)]
					if radius >= 200000 && k == 0 {
						k = 100
					}
					got, err := g.Nearby(ctx, lat, lng, radius, k, nil)
					must(t, err)
					if msg := CheckNearby(got, model, lat, lng, radius, k); msg != "" {
						t.Fatalf("%s: Nearby(%v, %v, %v m, k=%d): %s", phase, lat, lng, radius, k, msg)
					}
				}
			}
			check("after inserts")
			// Move half of the entries (many across cells), remove a quarter.
			for id := range model {
				switch r.IntN(4) {
				case 0:
					must(t, g.Remove(ctx, id))
					delete(model, id)
				case 1, 2:
					lat, lng := randomPoint(r, Clusters)
					must(t, g.Update(ctx, id, lat, lng, at.Add(time.Second)))
					model[id] = Fix{lat, lng, at.Add(time.Second).UnixMicro()}
				}
			}
			check("after moves and removes")
			checkSegments(t, g.Index(), model)
		})
	}
}

// checkSegments checks the grid invariant: the leaves do not overlap, every
// entry of model lies in exactly one leaf and each leaf's count is the
// number of entries inside it.
func checkSegments(t *testing.T, idx geogrid.Index, model map[string]Fix) {
	t.Helper()
	var segs []geogrid.Segment
	must(t, idx.Segments(context.Background(), func(s geogrid.Segment) bool {
		segs = append(segs, s)
		return true
	}))
	slices.SortFunc(segs, func(a, b geogrid.Segment) int {
		if s2.CellID(a.Cell).RangeMin() < s2.CellID(b.Cell).RangeMin() {
			return -1
		}
		return 1
	})
	for i := 1; i < len(segs); i++ {
		if s2.CellID(segs[i-1].Cell).RangeMax() >= s2.CellID(segs[i].Cell).RangeMin() {
			t.Fatalf("segments %v and %v overlap", segs[i-1].Cell, segs[i].Cell)
		}
	}
	counts := make([]int, len(segs))
	for id, p := range model {
		leaf := s2.CellIDFromLatLng(s2.LatLngFromDegrees(p.Lat, p.Lng))
		i := sort.Search(len(segs), func(i int) bool { return s2.CellID(segs[i].Cell).RangeMax() >= leaf })
		if i == len(segs) || !s2.CellID(segs[i].Cell).Contains(leaf) {
			t.Fatalf("entry %q at (%v, %v) is in no segment (lost)", id, p.Lat, p.Lng)
		}
		counts[i]++
	}
	total := 0
	for i, s := range segs {
		total += s.Count
		if s.Count != counts[i] {
			t.Fatalf("segment %v counts %d entries; %d lie inside it", s.Cell, s.Count, counts[i])
		}
	}
	if total != len(model) {
		t.Fatalf("segments count %d entries; want %d", total, len(model))
	}
}

func maxSegment(t *testing.T, idx geogrid.Index) (levels map[int]int, biggest int) {
	levels = map[int]int{}
	must(t, idx.Segments(context.Background(), func(s geogrid.Segment) bool {
		if s.Count > 0 {
			levels[s.Cell.Level()] += s.Count
		}
		biggest = max(biggest, s.Count)
		return true
	}))
	return levels, biggest
}

func testSplitMerge(t *testing.T, c Config) {
	ctx := context.Background()
	seg := geogrid.Segmentation{MaxPerCell: 8, MinPerCell: 3, MinLevel: 10, MaxLevel: 24}
	idx := c.New(t, seg)
	r := rand.New(rand.NewPCG(1, 2))
	model := map[string]Fix{}
	center := [2]float64{48.8566, 2.3522}
	for i := range c.n(400) {
		lat, lng := clusterPoint(r, [][2]float64{center}, 0.002)
		id := fmt.Sprint("d", i)
		must(t, idx.Update(ctx, geogrid.Entry{ID: id, Lat: lat, Lng: lng, At: 1}))
		model[id] = Fix{lat, lng, 1}
	}
	checkSegments(t, idx, model)
	levels, biggest := maxSegment(t, idx)
	if biggest > seg.MaxPerCell {
		t.Fatalf("after inserts a leaf holds %d entries; want at most MaxPerCell %d", biggest, seg.MaxPerCell)
	}
	if levels[seg.MinLevel] == len(model) {
		t.Fatalf("after %d inserts in one place no cell split: levels %v", len(model), levels)
	}
	// Remove all but two: everything merges back into root leaves.
	kept := 0
	for id := range model {
		if kept < 2 {
			kept++
			continue
		}
		must(t, idx.Remove(ctx, id))
		delete(model, id)
	}
	checkSegments(t, idx, model)
	levels, _ = maxSegment(t, idx)
	if levels[seg.MinLevel] != 2 {
		t.Fatalf("after removing all but 2 entries: entries per level %v; want both at level %d (merged)", levels, seg.MinLevel)
	}
	// One of them moves to another cell.
	for id := range model {
		must(t, idx.Update(ctx, geogrid.Entry{ID: id, Lat: -33.9, Lng: 151.2, At: 2}))
		model[id] = Fix{-33.9, 151.2, 2}
		break
	}
	checkSegments(t, idx, model)
	if s, ok := idx.(geogrid.StatsIndex); ok {
		st := s.Stats()
		if st.Moves != 1 || st.Splits == 0 || st.Merges == 0 {
			t.Fatalf("Stats: got %+v; want 1 move, some splits and merges", st)
		}
	}
}

func testConcurrent(t *testing.T, c Config) {
	ctx := context.Background()
	now := base.Add(time.Hour)
	g := grid(t, c.New(t, geogrid.Segmentation{MaxPerCell: 6, MinPerCell: 2, MinLevel: 8}), &now, 2*time.Hour)
	const workers = 8
	ops := c.n(3000)
	perWorker := 40
	models := make([]map[string]Fix, workers)
	var wg sync.WaitGroup
	var failed atomic.Value
	for w := range workers {
		models[w] = map[string]Fix{}
		wg.Go(func() {
			r := rand.New(rand.NewPCG(uint64(w), 99))
			m := models[w]
			// Clusters that straddle root cells and the antimeridian.
			places := [][2]float64{{51.5, -0.12}, {0, 179.9999}, {1.4, 103.8}}
			for i := range ops {
				id := fmt.Sprintf("w%d-%d", w, r.IntN(perWorker))
				at := base.Add(time.Duration(i+1) * time.Microsecond)
				switch x := r.IntN(10); {
				case x < 7:
					lat, lng := clusterPoint(r, places, 0.01)
					if err := g.Update(ctx, id, lat, lng, at); err != nil {
						failed.Store(err.Error())
						return
					}
					m[id] = Fix{lat, lng, at.UnixMicro()}
				case x < 8:
					err := g.Remove(ctx, id)
					if _, ok := m[id]; ok != (err == nil) {
						failed.Store(fmt.Sprintf("Remove(%s): got %v; model has it: %v", id, err, ok))
						return
					}
					delete(m, id)
				default:
					lat, lng := clusterPoint(r, places, 0.01)
					got, err := g.Nearby(ctx, lat, lng, 2000, 5, nil)
					if err != nil {
						failed.Store(err.Error())
						return
					}
					for j := 1; j < len(got); j++ {
						if got[j].Meters < got[j-1].Meters || got[j].Meters > 2000 {
							failed.Store(fmt.Sprintf("concurrent Nearby: unordered or outside radius: %+v", got))
							return
						}
					}
				}
			}
		})
	}
	wg.Wait()
	if f := failed.Load(); f != nil {
		t.Fatal(f)
	}
	model := map[string]Fix{}
	for _, m := range models {
		for id, p := range m {
			model[id] = p
		}
	}
	checkSegments(t, g.Index(), model)
	r := rand.New(rand.NewPCG(5, 5))
	for range c.n(100) {
		lat, lng := clusterPoint(r, [][2]float64{{51.5, -0.12}, {0, 179.9999}, {1.4, 103.8}}, 0.01)
		got, err := g.Nearby(ctx, lat, lng, 3000, 10, nil)
		must(t, err)
		if msg := CheckNearby(got, model, lat, lng, 3000, 10); msg != "" {
			t.Fatalf("after concurrent traffic: %s", msg)
		}
	}
}

func testClaimRace(t *testing.T, c Config) {
	ctx := context.Background()
	cl := c.Claims(t)
	for round := range 5 {
		key := fmt.Sprint("trip-", round)
		const n = 64
		var wg sync.WaitGroup
		holders := make([]string, n)
		errs := make([]error, n)
		start := make(chan struct{})
		for i := range n {
			wg.Go(func() {
				<-start
				holders[i], errs[i] = cl.Claim(ctx, key, fmt.Sprint("driver-", i), base, time.Minute)
			})
		}
		close(start)
		wg.Wait()
		winners := 0
		for i := range n {
			must(t, errs[i])
			if holders[i] == fmt.Sprint("driver-", i) {
				winners++
			}
			if holders[i] != holders[0] {
				t.Fatalf("claim %s: goroutine %d sees holder %q, goroutine 0 sees %q", key, i, holders[i], holders[0])
			}
		}
		if winners != 1 {
			t.Fatalf("claim %s: %d winners among %d goroutines; want exactly 1", key, winners, n)
		}
		h, err := cl.Holder(ctx, key, base)
		must(t, err)
		if h != holders[0] {
			t.Fatalf("Holder(%s): got %q; want %q", key, h, holders[0])
		}
	}
}

func testClaimRelease(t *testing.T, c Config) {
	ctx := context.Background()
	cl := c.Claims(t)
	if _, err := cl.Holder(ctx, "k", base); !errors.Is(err, geogrid.ErrNotFound) {
		t.Fatalf("Holder of a free key: got %v; want ErrNotFound", err)
	}
	h, err := cl.Claim(ctx, "k", "a", base, time.Hour)
	must(t, err)
	if h != "a" {
		t.Fatalf("Claim of a free key: got holder %q; want a", h)
	}
	if h, _ := cl.Claim(ctx, "k", "a", base, time.Hour); h != "a" {
		t.Fatalf("Claim again by the holder: got %q; want a", h)
	}
	if err := cl.Release(ctx, "k", "b", base); !errors.Is(err, geogrid.ErrNotFound) {
		t.Fatalf("Release by a non-holder: got %v; want ErrNotFound", err)
	}
	must(t, cl.Release(ctx, "k", "a", base))
	if h, _ := cl.Claim(ctx, "k", "b", base, time.Hour); h != "b" {
		t.Fatalf("Claim after Release: got %q; want b", h)
	}
	// Expiry.
	if c.ClaimClock {
		if h, _ := cl.Claim(ctx, "e", "a", base, time.Second); h != "a" {
			t.Fatalf("Claim: got %q; want a", h)
		}
		if h, _ := cl.Claim(ctx, "e", "b", base.Add(time.Second-time.Microsecond), time.Second); h != "a" {
			t.Fatalf("Claim just before expiry: got %q; want a", h)
		}
		if h, _ := cl.Claim(ctx, "e", "b", base.Add(time.Second), time.Second); h != "b" {
			t.Fatalf("Claim at expiry: got %q; want b", h)
		}
		return
	}
	if h, _ := cl.Claim(ctx, "e", "a", base, 5*time.Millisecond); h != "a" {
		t.Fatalf("Claim: got %q; want a", h)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, err := cl.Holder(ctx, "e", time.Now()); errors.Is(err, geogrid.ErrNotFound) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("a 5ms claim still held after 10s")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if h, _ := cl.Claim(ctx, "e", "b", time.Now(), time.Hour); h != "b" {
		t.Fatalf("Claim after expiry: got %q; want b", h)
	}
}

// testDispatchRace broadcasts a trip to many drivers who all accept at
// once, twice each: exactly one wins (both of its accepts return the same
// assignment), the rest see ErrClaimed, now and after Assign returned.
func testDispatchRace(t *testing.T, c Config) {
	ctx := context.Background()
	now := base
	idx := c.New(t, geogrid.Segmentation{})
	g := grid(t, idx, &now, time.Hour)
	const drivers = 40
	for i := range drivers {
		must(t, g.Update(ctx, fmt.Sprint("d", i), 12.97+float64(i)*1e-4, 77.59, base))
	}
	offers := make(chan geogrid.Offer, drivers)
	d, err := geogrid.NewDispatcher(g, c.Claims(t), nil, geogrid.OfferFunc(func(_ context.Context, o geogrid.Offer) error {
		offers <- o
		return nil
	}), &geogrid.DispatchOptions{K: drivers, Now: func() time.Time { return base }, OfferTimeout: time.Hour})
	must(t, err)
	type res struct {
		a   geogrid.Assignment
		err error
	}
	done := make(chan res, 1)
	go func() {
		a, err := d.Assign(ctx, geogrid.Request{Trip: "t1", Rider: "r1", Lat: 12.97, Lng: 77.59})
		done <- res{a, err}
	}()
	var got []geogrid.Offer
	for range drivers {
		got = append(got, <-offers)
	}
	var wg sync.WaitGroup
	var wins, lost atomic.Int32
	var winner atomic.Value
	var mu sync.Mutex
	won := map[geogrid.Assignment]int{}
	for _, o := range got {
		for range 2 {
			wg.Go(func() {
				a, err := d.Accept(ctx, o.Trip, o.Driver)
				switch {
				case err == nil:
					wins.Add(1)
					winner.Store(a.Driver)
					mu.Lock()
					won[a]++
					mu.Unlock()
				case errors.Is(err, geogrid.ErrClaimed):
					lost.Add(1)
				default:
					t.Errorf("Accept(%s): got %v; want success or ErrClaimed", o.Driver, err)
				}
			})
		}
	}
	wg.Wait()
	r := <-done
	must(t, r.err)
	if wins.Load() != 2 || len(won) != 1 || lost.Load() != 2*(drivers-1) {
		t.Fatalf("accepts: %d won (%d distinct assignments), %d lost; want 2 (1), %d", wins.Load(), len(won), lost.Load(), 2*(drivers-1))
	}
	if r.a.Driver != winner.Load() || won[r.a] != 2 {
		t.Fatalf("Assign returned %+v; the winning accepts returned %v", r.a, won)
	}
	// After Assign returned: the losers still hear ErrClaimed, the winner
	// its assignment, and the holder is the winner.
	for _, o := range got {
		a, err := d.Accept(ctx, o.Trip, o.Driver)
		switch {
		case o.Driver == r.a.Driver && (err != nil || a != r.a):
			t.Fatalf("late accept by the winner: got %+v, %v; want %+v", a, err, r.a)
		case o.Driver != r.a.Driver && !errors.Is(err, geogrid.ErrClaimed):
			t.Fatalf("late accept by %s: got %v; want ErrClaimed", o.Driver, err)
		}
	}
	if h, err := d.Holder(ctx, "t1"); err != nil || h != r.a.Driver {
		t.Fatalf("Holder: got %q, %v; want %q", h, err, r.a.Driver)
	}
}

func ids(ns []geogrid.Neighbor) []string {
	out := make([]string, len(ns))
	for i, n := range ns {
		out[i] = n.ID
	}
	return out
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
