package geogrid_test

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/sysblocks/sysblocks/geogrid"
)

func TestGridStats(t *testing.T) {
	now := t0
	g, _ := newGrid(t, geogrid.Segmentation{MaxPerCell: 3, MinPerCell: 2}, &now)
	ctx := context.Background()
	for i, id := range []string{"a", "b", "c", "d"} {
		must(t, g.Update(ctx, id, 10, 10+float64(i)*1e-4, t0)) // four in one spot: the leaf splits
	}
	must(t, g.Update(ctx, "a", 20, 20, t0.Add(time.Second))) // to another root
	must(t, g.Update(ctx, "b", 10, 10+1e-4, t0))             // same fix: no move
	must(t, g.Remove(ctx, "c"))
	must(t, g.Remove(ctx, "d")) // one left in the subtree: it merges
	if _, err := g.Get(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	if ns, err := g.Nearby(ctx, 10, 10, 1000, 0, nil); err != nil || len(ns) != 1 {
		t.Fatalf("Nearby: got %v, %v; want b", ns, err)
	}
	now = t0.Add(2 * time.Minute) // everything is stale
	if _, err := g.Get(ctx, "a"); err == nil {
		t.Fatal("Get of a stale fix succeeded")
	}
	if ns, err := g.Nearby(ctx, 10, 10, 1000, 0, nil); err != nil || len(ns) != 0 {
		t.Fatalf("Nearby of stale fixes: got %v, %v; want nothing", ns, err)
	}
	n, err := g.Prune(ctx)
	must(t, err)
	st := g.Stats()
	want := geogrid.GridStats{Updates: 6, Removes: 2, Gets: 2, Queries: 2, Results: 1, Stale: 1, Pruned: uint64(n),
		Index: geogrid.IndexStats{Entries: 0, Moves: 1, Splits: st.Index.Splits, Merges: st.Index.Merges, StaleSkipped: 1}}
	if n != 2 || st != want || st.Index.Splits == 0 || st.Index.Merges == 0 {
		t.Fatalf("Stats after pruning %d: got %+v; want %+v with some splits and merges", n, st, want)
	}
}

func TestMarketStats(t *testing.T) {
	m, err := geogrid.NewMarket(&geogrid.MarketOptions{Level: 12, Window: time.Minute, Windows: 3})
	must(t, err)
	lat, lng := 12.9716, 77.5946
	for i := range 5 {
		must(t, m.Supply("d1", lat, lng, t0.Add(time.Duration(i)*time.Second)))
	}
	must(t, m.Supply("d2", lat, lng, t0))
	must(t, m.Supply("d1", lat, lng, t0.Add(time.Minute))) // next window: counted again
	for range 7 {
		must(t, m.Demand(lat, lng, t0.Add(10*time.Second)))
	}
	must(t, m.Demand(lat, lng, t0.Add(5*time.Minute)))    // the ring moves on
	must(t, m.Demand(lat, lng, t0.Add(2*time.Minute)))    // its slot holds a newer window: dropped
	must(t, m.Supply("d3", lat, lng, t0.Add(-time.Hour))) // likewise
	m.Forget("d2")
	want := geogrid.MarketStats{Supply: 7, Counted: 3, Demand: 8, Late: 2, Windows: 3, Drivers: 1}
	if st := m.Stats(); st != want {
		t.Fatalf("Stats: got %+v; want %+v", st, want)
	}
}

// TestCellVerticesBounds: the corners of a cell are on its boundary (just
// inside it, a step towards the centre) and inside its bounds, including
// cells across the antimeridian and around a pole.
func TestCellVerticesBounds(t *testing.T) {
	london, _ := geogrid.CellAt(51.5074, -0.1278, 12)
	cases := []struct {
		name       string
		c          geogrid.Cell
		wrap, pole bool
	}{
		{"London, level 12", london, false, false},
		{"face 3 (across the antimeridian)", geogrid.Cell(3<<61 | 1<<60), true, false},
		{"face 2 (the north pole)", geogrid.Cell(2<<61 | 1<<60), false, true},
		{"face 0", geogrid.Cell(1 << 60), false, false},
	}
	for _, tc := range cases {
		c := tc.c
		if !c.Valid() {
			t.Fatalf("%s: invalid cell %v", tc.name, c)
		}
		sw, ne := c.Bounds()
		clat, clng := c.Center()
		if tc.wrap != (sw.Lng > ne.Lng) {
			t.Errorf("%s: Bounds %+v %+v; want sw.Lng > ne.Lng only across the antimeridian", tc.name, sw, ne)
		}
		if tc.pole && (ne.Lat != 90 || sw.Lng != -180 || ne.Lng != 180) {
			t.Errorf("%s: Bounds %+v %+v; want up to latitude 90 and every longitude", tc.name, sw, ne)
		}
		inLng := func(lng float64) bool {
			if sw.Lng <= ne.Lng {
				return lng >= sw.Lng-1e-9 && lng <= ne.Lng+1e-9
			}
			return lng >= sw.Lng-1e-9 || lng <= ne.Lng+1e-9
		}
		seen := map[geogrid.LatLng]bool{}
		for k, v := range c.Vertices() {
			seen[v] = true
			if v.Lat < sw.Lat-1e-9 || v.Lat > ne.Lat+1e-9 || !inLng(v.Lng) {
				t.Errorf("%s: vertex %d %+v outside Bounds %+v %+v", tc.name, k, v, sw, ne)
			}
			// A step from the corner towards the centre, along the great
			// circle, lies inside the cell; a step away lies outside.
			in := step(v, clat, clng, 0.01)
			out := step(v, clat, clng, -0.01)
			if !c.ContainsPoint(in.Lat, in.Lng) || c.ContainsPoint(out.Lat, out.Lng) {
				t.Errorf("%s: vertex %d %+v is not a corner of the cell", tc.name, k, v)
			}
		}
		if len(seen) != 4 {
			t.Errorf("%s: Vertices %v are not four distinct points", tc.name, c.Vertices())
		}
	}
}

// step moves a fraction f of the way from v to (lat, lng) along the great
// circle (negative f: away from it).
func step(v geogrid.LatLng, lat, lng, f float64) geogrid.LatLng {
	const rad = math.Pi / 180
	vec := func(lat, lng float64) [3]float64 {
		return [3]float64{math.Cos(lat*rad) * math.Cos(lng*rad), math.Cos(lat*rad) * math.Sin(lng*rad), math.Sin(lat * rad)}
	}
	a, b := vec(v.Lat, v.Lng), vec(lat, lng)
	var p [3]float64
	n := 0.0
	for i := range p {
		p[i] = a[i] + f*(b[i]-a[i])
		n += p[i] * p[i]
	}
	n = math.Sqrt(n)
	return geogrid.LatLng{Lat: math.Asin(p[2]/n) / rad, Lng: math.Atan2(p[1], p[0]) / rad}
}
