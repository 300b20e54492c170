package geogrid

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"sync/atomic"
	"time"
)

// Options configures a [Grid]. The zero value of every field is a
// documented default; a nil *Options means all defaults.
type Options struct {
	// TTL is how long a fix stays fresh: an object not updated for TTL is
	// never returned by Nearby. Zero means 30 seconds.
	TTL time.Duration
	// Now is the clock for queries and pruning. Nil means time.Now.
	Now func() time.Time
	// PruneEvery is the period at which Run removes stale entries from the
	// index. Zero means TTL.
	PruneEvery time.Duration
	// Market, if set, is fed one supply observation by every Update.
	Market *Market
	// Logger receives Run's errors. Nil discards them.
	Logger *slog.Logger
}

// Grid tracks moving objects (drivers) on an adaptive grid of cells over the
// sphere and answers nearest-k queries by exact great-circle distance. It
// holds the policy (validation, time-to-live, ranking); the [Index] holds the
// data. A Grid is safe for concurrent use.
type Grid struct {
	idx    Index
	ttl    time.Duration
	now    func() time.Time
	every  time.Duration
	market *Market
	log    *slog.Logger
	c      gridCounters
}

type gridCounters struct {
	updates, removes, gets, queries, results, stale, pruned, pruneErrors atomic.Uint64
}

// Stats returns a snapshot of the grid's counters, with the index's own
// when it implements [StatsIndex].
func (g *Grid) Stats() GridStats {
	st := GridStats{
		Updates: g.c.updates.Load(), Removes: g.c.removes.Load(), Gets: g.c.gets.Load(),
		Queries: g.c.queries.Load(), Results: g.c.results.Load(), Stale: g.c.stale.Load(),
		Pruned: g.c.pruned.Load(), PruneErrors: g.c.pruneErrors.Load(),
	}
	if s, ok := g.idx.(StatsIndex); ok {
		st.Index = s.Stats()
	}
	return st
}

// New returns a Grid over idx. It returns an [*InputError] for a negative
// duration in opts.
func New(idx Index, opts *Options) (*Grid, error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.TTL < 0 {
		return nil, &InputError{Op: "new", Field: "TTL", Value: float64(o.TTL), Reason: "negative"}
	}
	if o.PruneEvery < 0 {
		return nil, &InputError{Op: "new", Field: "PruneEvery", Value: float64(o.PruneEvery), Reason: "negative"}
	}
	if o.TTL == 0 {
		o.TTL = 30 * time.Second
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.PruneEvery == 0 {
		o.PruneEvery = o.TTL
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return &Grid{idx: idx, ttl: o.TTL, now: o.Now, every: o.PruneEvery, market: o.Market, log: o.Logger}, nil
}

// TTL returns the time-to-live of a fix.
func (g *Grid) TTL() time.Duration { return g.ttl }

// Index returns the index the grid stores into.
func (g *Grid) Index() Index { return g.idx }

// Update records that id was at (lat, lng) at time at (kept to the
// microsecond). A fix older than the stored one is ignored. Invalid input
// returns an [*InputError] and changes nothing.
func (g *Grid) Update(ctx context.Context, id string, lat, lng float64, at time.Time) error {
	if id == "" {
		return &InputError{Op: "update", Field: "id", Reason: "empty"}
	}
	if err := CheckPoint("update", lat, lng); err != nil {
		return err
	}
	if err := g.idx.Update(ctx, Entry{ID: id, Lat: lat, Lng: lng, At: at.UnixMicro()}); err != nil {
		return err
	}
	g.c.updates.Add(1)
	if g.market != nil {
		return g.market.Supply(id, lat, lng, at)
	}
	return nil
}

// Remove deletes id (a driver going offline). It returns an error matching
// [ErrNotFound] if id is not tracked.
func (g *Grid) Remove(ctx context.Context, id string) error {
	if id == "" {
		return &InputError{Op: "remove", Field: "id", Reason: "empty"}
	}
	if err := g.idx.Remove(ctx, id); err != nil {
		return err
	}
	g.c.removes.Add(1)
	if g.market != nil {
		g.market.Forget(id)
	}
	return nil
}

// Get returns the last fix of id if it is fresh, or an error matching
// [ErrNotFound] if id is unknown or stale.
func (g *Grid) Get(ctx context.Context, id string) (Neighbor, error) {
	g.c.gets.Add(1)
	e, err := g.idx.Get(ctx, id)
	if err != nil {
		return Neighbor{}, err
	}
	if e.At <= g.now().Add(-g.ttl).UnixMicro() {
		g.c.stale.Add(1)
		return Neighbor{}, fmt.Errorf("geogrid: get %q: stale fix: %w", id, ErrNotFound)
	}
	return Neighbor{ID: e.ID, Lat: e.Lat, Lng: e.Lng, At: time.UnixMicro(e.At)}, nil
}

// Neighbor is one result of [Grid.Nearby].
type Neighbor struct {
	ID     string
	Lat    float64
	Lng    float64
	Meters float64   // great-circle distance from the query point
	At     time.Time // time of the fix
}

// Nearby returns up to k fresh objects within radiusMeters great-circle
// distance of (lat, lng), nearest first (ties by id). k == 0 means no limit.
// filter, if not nil, is called for each fresh object within the radius and
// excludes it when it returns false; it must not call back into the grid.
// Negative or non-finite radius, negative k and invalid points return an
// [*InputError].
func (g *Grid) Nearby(ctx context.Context, lat, lng, radiusMeters float64, k int, filter func(id string) bool) ([]Neighbor, error) {
	if err := CheckPoint("nearby", lat, lng); err != nil {
		return nil, err
	}
	if math.IsNaN(radiusMeters) || math.IsInf(radiusMeters, 0) || radiusMeters < 0 {
		return nil, &InputError{Op: "nearby", Field: "radius", Value: radiusMeters, Reason: "must be a finite number >= 0"}
	}
	if k < 0 {
		return nil, &InputError{Op: "nearby", Field: "k", Value: float64(k), Reason: "negative"}
	}
	after := g.now().Add(-g.ttl).UnixMicro()
	h := knn{k: k}
	if k > 0 {
		h.items = make([]Neighbor, 0, min(k, 64))
	}
	const rad = math.Pi / 180
	qlat, qlng, qcos := lat*rad, lng*rad, math.Cos(lat*rad)
	g.c.queries.Add(1)
	err := g.idx.Search(ctx, Query{Lat: lat, Lng: lng, Meters: radiusMeters, After: after}, func(e Entry) bool {
		if e.At <= after {
			h.stale++
			return true
		}
		sdlat := math.Sin((e.Lat*rad - qlat) / 2)
		sdlng := math.Sin((e.Lng*rad - qlng) / 2)
		a := sdlat*sdlat + qcos*math.Cos(e.Lat*rad)*sdlng*sdlng
		if a > 1 {
			a = 1
		}
		d := 2 * EarthRadiusMeters * math.Atan2(math.Sqrt(a), math.Sqrt(1-a))
		if d > radiusMeters {
			return true
		}
		if h.full() && !less(d, e.ID, h.items[0].Meters, h.items[0].ID) {
			return true
		}
		if filter != nil && !filter(e.ID) {
			return true
		}
		h.push(Neighbor{ID: e.ID, Lat: e.Lat, Lng: e.Lng, Meters: d, At: time.UnixMicro(e.At)})
		return true
	})
	if h.stale > 0 {
		g.c.stale.Add(h.stale)
	}
	if err != nil {
		return nil, err
	}
	g.c.results.Add(uint64(len(h.items)))
	return h.sorted(), nil
}

// Segments calls visit for each leaf cell of the adaptive grid with the
// number of objects it holds (fresh or not yet pruned).
func (g *Grid) Segments(ctx context.Context, visit func(Segment) bool) error {
	return g.idx.Segments(ctx, visit)
}

// Prune removes the entries that are stale now and returns how many.
func (g *Grid) Prune(ctx context.Context) (int, error) {
	n, err := g.idx.Prune(ctx, g.now().Add(-g.ttl).UnixMicro())
	g.c.pruned.Add(uint64(max(n, 0)))
	return n, err
}

// Run prunes stale entries every PruneEvery until ctx ends, then returns
// ctx.Err(). Pruning keeps the index small; correctness does not depend on
// it, because stale entries are excluded by every query.
func (g *Grid) Run(ctx context.Context) error {
	t := time.NewTicker(g.every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
			if _, err := g.Prune(ctx); err != nil && ctx.Err() == nil {
				g.c.pruneErrors.Add(1)
				g.log.Error("geogrid: prune", "err", err)
			}
		}
	}
}

// less orders neighbours by distance, then id.
func less(d1 float64, id1 string, d2 float64, id2 string) bool {
	return d1 < d2 || (d1 == d2 && id1 < id2)
}

// knn keeps the k nearest neighbours in a max-heap (farthest at the top).
// With k == 0 it keeps everything.
type knn struct {
	k     int
	items []Neighbor
	stale uint64 // stale entries the index returned, excluded
}

func (h *knn) full() bool { return h.k > 0 && len(h.items) == h.k }

func (h *knn) push(n Neighbor) {
	if h.k == 0 {
		h.items = append(h.items, n)
		return
	}
	if len(h.items) < h.k {
		h.items = append(h.items, n)
		h.up(len(h.items) - 1)
		return
	}
	h.items[0] = n
	h.down(0, len(h.items))
}

func (h *knn) worse(i, j int) bool { // i is farther than j
	a, b := &h.items[i], &h.items[j]
	return less(b.Meters, b.ID, a.Meters, a.ID)
}

func (h *knn) up(i int) {
	for i > 0 {
		p := (i - 1) / 2
		if !h.worse(i, p) {
			return
		}
		h.items[i], h.items[p] = h.items[p], h.items[i]
		i = p
	}
}

func (h *knn) down(i, n int) {
	for {
		l := 2*i + 1
		if l >= n {
			return
		}
		m := l
		if r := l + 1; r < n && h.worse(r, l) {
			m = r
		}
		if !h.worse(m, i) {
			return
		}
		h.items[i], h.items[m] = h.items[m], h.items[i]
		i = m
	}
}

func (h *knn) sorted() []Neighbor {
	s := h.items
	if h.k == 0 {
		sortNeighbors(s)
		return s
	}
	for n := len(s) - 1; n > 0; n-- { // heap sort: farthest to the end
		s[0], s[n] = s[n], s[0]
		h.down(0, n)
	}
	return s
}

func sortNeighbors(s []Neighbor) {
	slices.SortFunc(s, func(a, b Neighbor) int {
		if less(a.Meters, a.ID, b.Meters, b.ID) {
			return -1
		}
		if less(b.Meters, b.ID, a.Meters, a.ID) {
			return 1
		}
		return 0
	})
}
