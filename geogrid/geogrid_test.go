package geogrid_test

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/sysblocks/sysblocks/geogrid"
	"github.com/sysblocks/sysblocks/geogrid/indextest"
	"github.com/sysblocks/sysblocks/geogrid/memindex"
)

var t0 = time.Date(2025, 3, 1, 8, 0, 0, 0, time.UTC)

func newGrid(t testing.TB, seg geogrid.Segmentation, now *time.Time) (*geogrid.Grid, *memindex.Index) {
	t.Helper()
	x, err := memindex.New(&memindex.Options{Segmentation: seg})
	if err != nil {
		t.Fatal(err)
	}
	g, err := geogrid.New(x, &geogrid.Options{TTL: time.Minute, Now: func() time.Time { return *now }})
	if err != nil {
		t.Fatal(err)
	}
	return g, x
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestDistance(t *testing.T) {
	cases := []struct {
		name                   string
		lat1, lng1, lat2, lng2 float64
		want, tol              float64
	}{
		{"same point", 12.3, 45.6, 12.3, 45.6, 0, 0},
		{"across the antimeridian", 0, 179.9, 0, -179.9, 0.2 * math.Pi / 180 * geogrid.EarthRadiusMeters, 1e-6},
		{"north pole, any longitude", 90, 0, 90, 120, 0, 1e-9},
		{"pole to pole", 90, 0, -90, 0, math.Pi * geogrid.EarthRadiusMeters, 1e-6},
		{"antipodes on the equator", 0, 0, 0, 180, math.Pi * geogrid.EarthRadiusMeters, 1e-6},
		{"London to Paris", 51.5074, -0.1278, 48.8566, 2.3522, 343_556, 100},
	}
	for _, c := range cases {
		if got := geogrid.Distance(c.lat1, c.lng1, c.lat2, c.lng2); math.Abs(got-c.want) > c.tol {
			t.Errorf("%s: Distance = %.6f; want %.6f ± %v", c.name, got, c.want, c.tol)
		}
	}
}

func TestCellHierarchy(t *testing.T) {
	c, err := geogrid.CellAt(51.5074, -0.1278, 12)
	must(t, err)
	if c.Level() != 12 || !c.ContainsPoint(51.5074, -0.1278) {
		t.Fatalf("CellAt: level %d, contains point %v; want 12 and true", c.Level(), c.ContainsPoint(51.5074, -0.1278))
	}
	p := c.Parent(11)
	if !p.Contains(c) || c.Contains(p) {
		t.Fatalf("parent %v and child %v: containment wrong", p, c)
	}
	in := 0
	for _, ch := range c.Children() {
		if ch.Level() != 13 || !c.Contains(ch) {
			t.Fatalf("child %v of %v", ch, c)
		}
		if ch.ContainsPoint(51.5074, -0.1278) {
			in++
		}
	}
	if in != 1 {
		t.Fatalf("the point lies in %d children; want exactly 1", in)
	}
	if n := c.Neighbors(); len(n) != 8 {
		t.Fatalf("Neighbors of %v: got %d; want 8", c, len(n))
	}
	// A cube corner has seven neighbours at its level.
	corner, _ := geogrid.CellAt(35.26438968, 45, 5) // the corner shared by faces 0, 1 and 2
	if n := corner.Neighbors(); len(n) != 7 && len(n) != 8 {
		t.Fatalf("Neighbors at a cube corner: got %d", len(n))
	}
	for _, e := range c.EdgeNeighbors() {
		if e.Level() != 12 || e == c {
			t.Fatalf("edge neighbour %v of %v", e, c)
		}
	}
	if _, err := geogrid.CellAt(0, 0, 31); !errors.Is(err, geogrid.ErrInvalidInput) {
		t.Fatalf("CellAt level 31: got %v; want ErrInvalidInput", err)
	}
}

func TestQuadKeyRoundTrip(t *testing.T) {
	for _, p := range [][2]float64{{0, 0}, {90, 0}, {-90, 0}, {0, 180}, {0, -180}, {51.5, -0.12}, {-33.9, 151.2}} {
		for _, lv := range []int{0, 1, 7, 22, 30} {
			c, err := geogrid.CellAt(p[0], p[1], lv)
			must(t, err)
			k := c.QuadKey()
			if len(k) != lv+1 {
				t.Fatalf("QuadKey of a level-%d cell has length %d", lv, len(k))
			}
			back, err := geogrid.CellFromQuadKey(k)
			must(t, err)
			if back != c {
				t.Fatalf("CellFromQuadKey(%q) = %v; want %v", k, back, c)
			}
			if lv > 0 {
				pk := c.Parent(lv - 1).QuadKey()
				if k[:len(pk)] != pk {
					t.Fatalf("parent key %q is not a prefix of %q", pk, k)
				}
			}
		}
	}
}

// FuzzCellFromQuadKey checks that the parser accepts exactly the keys
// QuadKey produces and never panics.
func FuzzCellFromQuadKey(f *testing.F) {
	for _, s := range []string{"0", "5", "6", "", "0123", "31", "3" + "0123012301230123012301230123012", "40a", "2" + "000000000000000000000000000000"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := geogrid.CellFromQuadKey(s)
		valid := len(s) >= 1 && len(s) <= 31 && s[0] >= '0' && s[0] <= '5'
		for i := 1; valid && i < len(s); i++ {
			valid = s[i] >= '0' && s[i] <= '3'
		}
		if valid != (err == nil) {
			t.Fatalf("CellFromQuadKey(%q): err %v; want valid=%v", s, err, valid)
		}
		if err != nil {
			if !errors.Is(err, geogrid.ErrInvalidInput) {
				t.Fatalf("CellFromQuadKey(%q): %v does not match ErrInvalidInput", s, err)
			}
			return
		}
		if !c.Valid() || c.QuadKey() != s || c.Level() != len(s)-1 {
			t.Fatalf("CellFromQuadKey(%q) = %v: valid %v, key %q, level %d", s, c, c.Valid(), c.QuadKey(), c.Level())
		}
	})
}

// FuzzNearby decodes points from the input, clustered around the first one
// at a scale the input chooses, stores them in a grid whose cells split at
// two entries, and compares Nearby with a brute-force haversine scan.
func FuzzNearby(f *testing.F) {
	f.Add([]byte("\x00\x00\x00\x00\x80\x00\x00\x00\x80\x03\x10\x00\x00\x80\x40\x00\x00\x80"), 3000.0, uint8(10))
	f.Add([]byte("\x00\xff\xff\xff\xff\x00\x00\x00\x00\x05\x01\x02\x03\x04\x05\x06\x07\x08"), 50.0, uint8(3)) // by the pole, near ±180
	f.Add([]byte("\x00\x00\x00\x00\x80\xff\xff\xff\xff\x04\x00\x00\x00\x00\xff\xff\xff\xff"), 1e6, uint8(0))  // on the antimeridian
	f.Fuzz(fuzzNearby)
}

func fuzzNearby(t *testing.T, data []byte, radius float64, k uint8) {
	now := t0
	g, _ := newGrid(t, geogrid.Segmentation{MaxPerCell: 2, MinPerCell: 1, MinLevel: -1, MaxLevel: 30}, &now)
	ctx := context.Background()
	model := map[string]indextest.Fix{}
	var qlat, qlng float64
	for i := 0; len(data) >= 9 && i < 200; i++ {
		zoom := data[0] % 10
		u := float64(binary.LittleEndian.Uint32(data[1:5])) / math.MaxUint32
		v := float64(binary.LittleEndian.Uint32(data[5:9])) / math.MaxUint32
		data = data[9:]
		lat, lng := -90+180*u, -180+360*v
		if i == 0 {
			qlat, qlng = lat, lng
		} else if zoom > 0 {
			s := math.Pow(10, -float64(zoom))
			lat = math.Max(-90, math.Min(90, qlat+(2*u-1)*s))
			lng = math.Remainder(qlng+(2*v-1)*s, 360)
		}
		id := fmt.Sprint("d", i)
		must(t, g.Update(ctx, id, lat, lng, now))
		model[id] = indextest.Fix{Lat: lat, Lng: lng, At: now.UnixMicro()}
	}
	got, err := g.Nearby(ctx, qlat, qlng, radius, int(k), nil)
	if math.IsNaN(radius) || math.IsInf(radius, 0) || radius < 0 {
		if !errors.Is(err, geogrid.ErrInvalidInput) {
			t.Fatalf("Nearby radius %v: got %v; want ErrInvalidInput", radius, err)
		}
		return
	}
	must(t, err)
	if msg := indextest.CheckNearby(got, model, qlat, qlng, radius, int(k)); msg != "" {
		t.Fatalf("Nearby(%v, %v, %v m, k=%d) over %d points: %s", qlat, qlng, radius, k, len(model), msg)
	}
}

func TestNearbyFilterAndTies(t *testing.T) {
	now := t0
	g, _ := newGrid(t, geogrid.Segmentation{}, &now)
	ctx := context.Background()
	for _, id := range []string{"c", "a", "b"} {
		must(t, g.Update(ctx, id, 10, 10.001, t0)) // three drivers on one spot
	}
	must(t, g.Update(ctx, "busy", 10, 10, t0))
	got, err := g.Nearby(ctx, 10, 10, 500, 2, func(id string) bool { return id != "busy" })
	must(t, err)
	if len(got) != 2 || got[0].ID != "a" || got[1].ID != "b" {
		t.Fatalf("Nearby with a filter and tied distances: got %+v; want a then b", got)
	}
}

func TestGetTTL(t *testing.T) {
	now := t0
	g, _ := newGrid(t, geogrid.Segmentation{}, &now)
	ctx := context.Background()
	must(t, g.Update(ctx, "d", 1, 1, t0))
	if _, err := g.Get(ctx, "d"); err != nil {
		t.Fatalf("Get of a fresh driver: %v", err)
	}
	now = t0.Add(time.Minute)
	if _, err := g.Get(ctx, "d"); !errors.Is(err, geogrid.ErrNotFound) {
		t.Fatalf("Get at the TTL: got %v; want ErrNotFound", err)
	}
	if err := g.Remove(ctx, "nobody"); !errors.Is(err, geogrid.ErrNotFound) {
		t.Fatalf("Remove of an unknown id: got %v; want ErrNotFound", err)
	}
}

func TestRunPrunesAndStops(t *testing.T) {
	defer goleak.VerifyNone(t)
	x, _ := memindex.New(nil)
	var mu sync.Mutex
	now := t0
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	g, err := geogrid.New(x, &geogrid.Options{TTL: time.Minute, Now: clock, PruneEvery: time.Millisecond})
	must(t, err)
	must(t, g.Update(context.Background(), "d", 1, 1, t0))
	mu.Lock()
	now = t0.Add(time.Hour)
	mu.Unlock()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- g.Run(ctx) }()
	for x.Len() != 0 {
		time.Sleep(time.Millisecond)
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("Run after cancel: got %v; want context.Canceled", err)
	}
}

func TestOptionsRejected(t *testing.T) {
	x, _ := memindex.New(nil)
	if _, err := geogrid.New(x, &geogrid.Options{TTL: -1}); !errors.Is(err, geogrid.ErrInvalidInput) {
		t.Errorf("New with negative TTL: got %v", err)
	}
	if _, err := memindex.New(&memindex.Options{Segmentation: geogrid.Segmentation{MaxPerCell: 4, MinPerCell: 4}}); !errors.Is(err, geogrid.ErrInvalidInput) {
		t.Errorf("MinPerCell == MaxPerCell: got %v", err)
	}
	if _, err := geogrid.NewMarket(&geogrid.MarketOptions{Windows: -1}); !errors.Is(err, geogrid.ErrInvalidInput) {
		t.Errorf("NewMarket with negative Windows: got %v", err)
	}
}

func TestMarket(t *testing.T) {
	m, err := geogrid.NewMarket(&geogrid.MarketOptions{Level: 12, Window: time.Minute, Windows: 3})
	must(t, err)
	lat, lng := 12.9716, 77.5946
	for i := range 5 {
		must(t, m.Supply("d1", lat, lng, t0.Add(time.Duration(i)*time.Second))) // one driver, five pings
	}
	must(t, m.Supply("d2", lat, lng, t0))
	for range 7 {
		must(t, m.Demand(lat, lng, t0.Add(10*time.Second)))
	}
	c, err := m.Counts(lat, lng, t0.Add(30*time.Second))
	must(t, err)
	if c.Supply != 2 || c.Demand != 7 || c.Ratio() != 3.5 {
		t.Fatalf("Counts: got supply %d, demand %d, ratio %v; want 2, 7, 3.5", c.Supply, c.Demand, c.Ratio())
	}
	// The same driver in the next window counts again; elsewhere is another cell.
	must(t, m.Supply("d1", lat, lng, t0.Add(time.Minute)))
	must(t, m.Supply("d1", lat+1, lng, t0.Add(time.Minute+time.Second)))
	if c, _ := m.Counts(lat, lng, t0.Add(time.Minute)); c.Supply != 1 || c.Demand != 0 {
		t.Fatalf("next window: got %+v; want supply 1, demand 0", c)
	}
	cells := 0
	m.Window(t0.Add(time.Minute), func(geogrid.Counts) bool { cells++; return true })
	if cells != 2 {
		t.Fatalf("Window: %d cells; want 2", cells)
	}
	// Three windows later the first one has left the ring.
	must(t, m.Demand(lat, lng, t0.Add(3*time.Minute)))
	if c, _ := m.Counts(lat, lng, t0); c.Supply != 0 || c.Demand != 0 {
		t.Fatalf("evicted window: got %+v; want zeros", c)
	}
	if err := m.Demand(math.NaN(), 0, t0); !errors.Is(err, geogrid.ErrInvalidInput) {
		t.Fatalf("Demand at NaN: got %v", err)
	}
}

func TestFraud(t *testing.T) {
	f, err := geogrid.NewFraud(&geogrid.FraudOptions{Meters: 30, Repeats: 3})
	must(t, err)
	for i := range 3 {
		v, err := f.Report("rider", "driver", 12.9716, 77.5946, 12.97161, 77.59461) // ~1.5 m apart
		must(t, err)
		if !v.Colocated || v.Count != i+1 || v.Flagged != (i == 2) {
			t.Fatalf("report %d: got %+v", i+1, v)
		}
	}
	for range 5 {
		v, _ := f.Report("rider2", "driver", 12.9716, 77.5946, 12.99, 77.5946) // 2 km apart
		if v.Colocated || v.Flagged {
			t.Fatalf("distant rider: got %+v; want not co-located", v)
		}
	}
	if !f.Flagged("rider", "driver") || f.Flagged("rider2", "driver") {
		t.Fatal("Flagged: wrong pairs")
	}
}

// drivers puts drivers at the given distances (meters, due north) from the
// pickup at (12.97, 77.59).
func drivers(t *testing.T, g *geogrid.Grid, meters map[string]float64) {
	for id, m := range meters {
		must(t, g.Update(context.Background(), id, 12.97+m/111_195, 77.59, t0))
	}
}

func TestDispatchPremium(t *testing.T) {
	now := t0
	g, x := newGrid(t, geogrid.Segmentation{}, &now)
	drivers(t, g, map[string]float64{"near": 200, "tie-low": 500, "tie-high": 500.0001, "far": 2500})
	rating := map[string]float64{"near": 3.1, "tie-low": 4.0, "tie-high": 4.9, "far": 5}
	fraud, _ := geogrid.NewFraud(nil)
	d, err := geogrid.NewDispatcher(g, x, geogrid.StraightLine{Speed: 10, Detour: 1}, nil, &geogrid.DispatchOptions{
		Rating: func(id string) float64 { return rating[id] }, Now: func() time.Time { return now }, Fraud: fraud})
	must(t, err)
	ctx := context.Background()
	a, err := d.Assign(ctx, geogrid.Request{Trip: "t1", Rider: "r1", Lat: 12.97, Lng: 77.59, Premium: true})
	must(t, err)
	if a.Driver != "near" || a.Round != 0 || a.ETA.Round(time.Second) != 20*time.Second {
		t.Fatalf("premium: got %+v; want near, ETA 20s", a)
	}
	// near is busy now; equal ETAs (to the second) go to the higher rating.
	d2, _ := geogrid.NewDispatcher(g, x, etaSeconds{}, nil, &geogrid.DispatchOptions{
		Rating: func(id string) float64 { return rating[id] }, Now: func() time.Time { return now }})
	a, err = d2.Assign(ctx, geogrid.Request{Trip: "t2", Rider: "r2", Lat: 12.97, Lng: 77.59, Premium: true})
	must(t, err)
	if a.Driver != "tie-high" {
		t.Fatalf("premium with near busy: got %q; want tie-high (same ETA, better rating)", a.Driver)
	}
	// The trip is assigned once.
	if _, err := d.Assign(ctx, geogrid.Request{Trip: "t1", Rider: "r1", Lat: 12.97, Lng: 77.59, Premium: true}); !errors.Is(err, geogrid.ErrClaimed) {
		t.Fatalf("assigning t1 again: got %v; want ErrClaimed", err)
	}
	// After release the driver is free again.
	must(t, d.Release(ctx, "t1", "near"))
	a, err = d.Assign(ctx, geogrid.Request{Trip: "t3", Rider: "r3", Lat: 12.97, Lng: 77.59, Premium: true})
	must(t, err)
	if a.Driver != "near" {
		t.Fatalf("after release: got %q; want near", a.Driver)
	}
	if _, err := d.Assign(ctx, geogrid.Request{Trip: "t4", Lat: 50, Lng: 50, Premium: true}); !errors.Is(err, geogrid.ErrNoDriver) {
		t.Fatalf("nobody near: got %v; want ErrNoDriver", err)
	}
	if _, err := d.Assign(ctx, geogrid.Request{Trip: "", Lat: 1, Lng: 1}); !errors.Is(err, geogrid.ErrInvalidInput) {
		t.Fatalf("empty trip: got %v; want ErrInvalidInput", err)
	}
}

// etaSeconds is a straight-line ETA rounded to the second.
type etaSeconds struct{}

func (etaSeconds) ETA(ctx context.Context, a, b, c, d float64) (time.Duration, error) {
	e, err := geogrid.StraightLine{Speed: 10, Detour: 1}.ETA(ctx, a, b, c, d)
	return e.Round(time.Second), err
}

// TestDispatchRebroadcast: nobody answers round 1, so round 2 offers the
// trip to the next drivers, one of whom accepts; a round-1 driver accepting
// late is refused.
func TestDispatchRebroadcast(t *testing.T) {
	defer goleak.VerifyNone(t)
	now := t0
	g, x := newGrid(t, geogrid.Segmentation{}, &now)
	dist := map[string]float64{}
	for i := range 6 {
		dist[fmt.Sprint("d", i)] = float64(100 * (i + 1))
	}
	drivers(t, g, dist)
	var mu sync.Mutex
	rounds := map[int][]string{}
	var d *geogrid.Dispatcher
	d, err := geogrid.NewDispatcher(g, x, nil, geogrid.OfferFunc(func(ctx context.Context, o geogrid.Offer) error {
		mu.Lock()
		rounds[o.Round] = append(rounds[o.Round], o.Driver)
		mu.Unlock()
		if o.Round == 2 && o.Driver == "d3" {
			go func() { _, _ = d.Accept(context.Background(), o.Trip, o.Driver) }()
		}
		return nil
	}), &geogrid.DispatchOptions{K: 3, OfferTimeout: 20 * time.Millisecond, Rounds: 3})
	must(t, err)
	a, err := d.Assign(context.Background(), geogrid.Request{Trip: "t1", Rider: "r", Lat: 12.97, Lng: 77.59})
	must(t, err)
	mu.Lock()
	defer mu.Unlock()
	if fmt.Sprint(rounds[1]) != "[d0 d1 d2]" || fmt.Sprint(rounds[2]) != "[d3 d4 d5]" {
		t.Fatalf("offers by round: %v; want the 3 nearest, then the next 3", rounds)
	}
	if a.Driver != "d3" || a.Round != 2 {
		t.Fatalf("Assign: got %+v; want d3 in round 2", a)
	}
	// A round-1 driver accepting after d3 won lost the trip to d3.
	if _, err := d.Accept(context.Background(), "t1", "d0"); !errors.Is(err, geogrid.ErrClaimed) || errors.Is(err, geogrid.ErrNoOffer) {
		t.Fatalf("late accept by a driver offered the trip: got %v; want ErrClaimed", err)
	}
	if _, err := d.Accept(context.Background(), "t1", "stranger"); !errors.Is(err, geogrid.ErrNoOffer) {
		t.Fatalf("accept by a driver never offered the trip: got %v; want ErrNoOffer", err)
	}
	if again, err := d.Accept(context.Background(), "t1", "d3"); err != nil || again != a {
		t.Fatalf("the winner accepting again: got %+v, %v; want %+v, nil", again, err, a)
	}
	if h, err := d.Holder(context.Background(), "t1"); err != nil || h != "d3" {
		t.Fatalf("Holder: got %q, %v; want d3", h, err)
	}
}

func TestDispatchNobodyAccepts(t *testing.T) {
	now := t0
	g, x := newGrid(t, geogrid.Segmentation{}, &now)
	drivers(t, g, map[string]float64{"a": 100, "b": 200})
	offers := 0
	d, err := geogrid.NewDispatcher(g, x, nil, geogrid.OfferFunc(func(context.Context, geogrid.Offer) error { offers++; return nil }),
		&geogrid.DispatchOptions{K: 1, OfferTimeout: time.Millisecond, Rounds: 3})
	must(t, err)
	if _, err := d.Assign(context.Background(), geogrid.Request{Trip: "t", Lat: 12.97, Lng: 77.59}); !errors.Is(err, geogrid.ErrNoDriver) {
		t.Fatalf("nobody accepts: got %v; want ErrNoDriver", err)
	}
	if offers != 2 {
		t.Fatalf("offers: %d; want 2 (one per driver, no driver twice)", offers)
	}
	// The trip is closed: a late claim cannot win it, and the drivers
	// offered it learn that it closed (ErrTripClosed, which also matches
	// ErrNoOffer for callers written before it existed).
	for _, id := range []string{"a", "b"} {
		_, err := d.Accept(context.Background(), "t", id)
		if !errors.Is(err, geogrid.ErrTripClosed) || !errors.Is(err, geogrid.ErrNoOffer) || errors.Is(err, geogrid.ErrClaimed) {
			t.Fatalf("accept by %s after give-up: got %v; want ErrTripClosed and ErrNoOffer", id, err)
		}
	}
	if _, err := d.Accept(context.Background(), "t", "stranger"); !errors.Is(err, geogrid.ErrNoOffer) || errors.Is(err, geogrid.ErrTripClosed) {
		t.Fatalf("accept by a driver never offered the closed trip: got %v; want ErrNoOffer alone", err)
	}
	if h, err := d.Holder(context.Background(), "t"); !errors.Is(err, geogrid.ErrTripClosed) {
		t.Fatalf("Holder of a closed trip: got %q, %v; want ErrTripClosed", h, err)
	}
	if h, _ := x.Holder(context.Background(), "trip:t", time.Now()); h == "a" || h == "b" {
		t.Fatalf("closed trip held by %q", h)
	}
	if _, err := d.Holder(context.Background(), "never"); !errors.Is(err, geogrid.ErrNotFound) {
		t.Fatalf("Holder of an unknown trip: got %v; want ErrNotFound", err)
	}
}
