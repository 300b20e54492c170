// Package memindex is the in-memory adapter of geogrid: an adaptive S2 cell
// quadtree per root cell, sharded by cell for queries and by id for
// updates, plus an in-memory [geogrid.Claims]. It imports only the standard
// library and S2, and is safe for concurrent use.
//
// Locking: each root cell (a cell of Segmentation.MinLevel) has a
// sync.RWMutex guarding its tree; queries take read locks on the roots the
// search circle touches, updates take a write lock on one root (two, in
// index order, when an object crosses roots). An id map, split into 64
// shards each with its own mutex, is locked before any root. An Update of
// an object that stays in its leaf allocates nothing.
package memindex

import (
	"context"
	"fmt"
	"hash/maphash"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/golang/geo/s1"
	"github.com/golang/geo/s2"

	"github.com/sysblocks/sysblocks/geogrid"
)

// Options configures an [Index]. A nil *Options means all defaults.
type Options struct {
	// Segmentation sets the adaptive grid; zero fields take the defaults
	// of [geogrid.Segmentation]. MinLevel is also the sharding level:
	// there is one lock per cell of that level.
	Segmentation geogrid.Segmentation
}

const idShards = 64

// Index is an in-memory [geogrid.Index] and [geogrid.Claims]. It is safe
// for concurrent use.
type Index struct {
	seg      geogrid.Segmentation
	rootBits uint // 61 - 2*MinLevel: shift from a cell position to its root
	roots    []root
	seed     maphash.Seed
	ids      [idShards]idShard

	cmu    sync.Mutex
	claims map[string]claim
}

type root struct {
	mu   sync.RWMutex
	n    *node
	near atomic.Pointer[[]int32] // this root and its neighbours, computed on first use
	_    [24]byte                // keep roots on separate cache lines
}

type idShard struct {
	mu sync.Mutex
	m  map[string]*slot
	_  [48]byte
}

// slot is the home of one id. root changes under the id shard lock and
// both root locks; n and i change under the root lock.
type slot struct {
	id   string
	root int32
	i    int32
	n    *node
	at   int64 // copy of the item's At, under the id shard lock
}

// bound is a cap around a cell: centre (unit vector) and angular radius.
type bound struct {
	cx, cy, cz float64
	cosR, sinR float64
}

type node struct {
	bound            // of this cell
	kb     [4]bound  // of the children, beside their pointers so that a
	id     s2.CellID // search tests them without touching the children
	level  int
	count  int // entries in the subtree
	kids   *[4]*node
	items  []item // leaf only
	face   int
	u0, u1 float64 // the cell's (u, v) rectangle on its face, shrunk
	v0, v1 float64 // by a margin so that "inside" is never a rounding call
}

type item struct {
	x, y, z  float64
	lat, lng float64
	at       int64
	id       string // copy of s.id, so that a search does not touch the slot
	// cell is the leaf cell of the position, exact down to the level of
	// the item's node: a fix that stays inside its node keeps the old
	// value, and split recomputes it.
	cell s2.CellID
	s    *slot
}

type claim struct {
	owner   string
	expires time.Time
}

// New returns an empty Index. It returns an error matching
// [geogrid.ErrInvalidInput] for a contradictory Segmentation.
func New(opts *Options) (*Index, error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	seg, err := o.Segmentation.Normalize()
	if err != nil {
		return nil, err
	}
	x := &Index{
		seg:      seg,
		rootBits: uint(61 - 2*seg.MinLevel),
		roots:    make([]root, 6<<(2*seg.MinLevel)),
		seed:     maphash.MakeSeed(),
		claims:   map[string]claim{},
	}
	for i := range x.ids {
		x.ids[i].m = map[string]*slot{}
	}
	return x, nil
}

func (x *Index) rootOf(c s2.CellID) int32 {
	return int32(c.Face()<<(2*x.seg.MinLevel) | int(c.Pos()>>x.rootBits))
}

func (x *Index) rootCell(i int32) s2.CellID {
	l := x.seg.MinLevel
	face := int(i) >> (2 * l)
	pos := uint64(int(i)&(1<<(2*l)-1))<<x.rootBits | 1<<(x.rootBits-1)
	return s2.CellIDFromFacePosLevel(face, pos, l)
}

func newNode(id s2.CellID) *node {
	c := s2.CellFromCellID(id)
	cb := c.CapBound() // centred on the cell's UV centre, not id.Point()
	p := cb.Center()
	r := cb.Radius().Radians()
	uv := c.BoundUV()
	m := max(1e-9*(uv.X.Hi-uv.X.Lo), 1e-13)
	return &node{id: id, level: id.Level(), bound: bound{cx: p.X, cy: p.Y, cz: p.Z, cosR: math.Cos(r), sinR: math.Sin(r)},
		face: id.Face(), u0: uv.X.Lo + m, u1: uv.X.Hi - m, v0: uv.Y.Lo + m, v1: uv.Y.Hi - m}
}

// inside reports whether the unit vector lies well inside n's cell. False
// near an edge means "compute the cell id", not "outside".
func (n *node) inside(x, y, z float64) bool {
	ax, ay, az := math.Abs(x), math.Abs(y), math.Abs(z)
	var f int
	var u, v float64
	switch {
	case ax > ay && ax > az:
		if x > 0 {
			f, u, v = 0, y/x, z/x
		} else {
			f, u, v = 3, z/x, y/x
		}
	case ay > az:
		if y > 0 {
			f, u, v = 1, -x/y, z/y
		} else {
			f, u, v = 4, z/y, -x/y
		}
	default:
		if z > 0 {
			f, u, v = 2, -x/z, -y/z
		} else {
			f, u, v = 5, -y/z, -x/z
		}
	}
	return f == n.face && u > n.u0 && u < n.u1 && v > n.v0 && v < n.v1
}

// unit returns the unit vector of a point given in degrees.
func unit(lat, lng float64) (x, y, z float64) {
	const rad = math.Pi / 180
	sp, cp := math.Sincos(lat * rad)
	sl, cl := math.Sincos(lng * rad)
	return cl * cp, sl * cp, sp
}

// Update implements [geogrid.Index].
func (x *Index) Update(ctx context.Context, e geogrid.Entry) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := geogrid.CheckPoint("update", e.Lat, e.Lng); err != nil {
		return err
	}
	px, py, pz := unit(e.Lat, e.Lng)
	sh := &x.ids[maphash.String(x.seed, e.ID)%idShards]
	sh.mu.Lock()
	defer sh.mu.Unlock()
	s := sh.m[e.ID]
	if s != nil && e.At >= s.at {
		// The fast path: the fix stays inside the object's leaf.
		r := &x.roots[s.root]
		r.mu.Lock()
		if s.n.inside(px, py, pz) {
			it := &s.n.items[s.i]
			it.x, it.y, it.z, it.lat, it.lng, it.at = px, py, pz, e.Lat, e.Lng, e.At
			s.at = e.At
			r.mu.Unlock()
			return nil
		}
		r.mu.Unlock()
	}
	cell := s2.CellIDFromLatLng(s2.LatLngFromDegrees(e.Lat, e.Lng))
	it := item{x: px, y: py, z: pz, lat: e.Lat, lng: e.Lng, at: e.At, cell: cell}
	ri := x.rootOf(cell)
	if s == nil {
		s = &slot{id: e.ID, root: ri, at: e.At}
		it.s, it.id = s, s.id
		r := &x.roots[ri]
		r.mu.Lock()
		x.insert(r, ri, it)
		r.mu.Unlock()
		sh.m[e.ID] = s
		return nil
	}
	if e.At < s.at {
		return nil // an older fix arrived late
	}
	s.at = e.At
	it.s, it.id = s, s.id
	if s.root == ri {
		r := &x.roots[ri]
		r.mu.Lock()
		if n := s.n; n.id.Contains(cell) {
			n.items[s.i] = it // same cell: no membership change
		} else {
			x.remove(r, s)
			x.insert(r, ri, it)
		}
		r.mu.Unlock()
		return nil
	}
	a, b := &x.roots[s.root], &x.roots[ri]
	if s.root < ri {
		a.mu.Lock()
		b.mu.Lock()
	} else {
		b.mu.Lock()
		a.mu.Lock()
	}
	x.remove(a, s)
	x.insert(b, ri, it)
	s.root = ri
	a.mu.Unlock()
	b.mu.Unlock()
	return nil
}

// insert adds it to the leaf of r that contains it.cell, then splits that
// leaf while it is over the limit. The caller holds r's write lock.
func (x *Index) insert(r *root, ri int32, it item) {
	if r.n == nil {
		r.n = newNode(x.rootCell(ri))
	}
	n := r.n
	for n.kids != nil {
		n.count++
		n = n.kids[it.cell.ChildPosition(n.level+1)]
	}
	n.count++
	n.items = append(n.items, it)
	it.s.n, it.s.i = n, int32(len(n.items)-1)
	x.split(n)
}

func (x *Index) split(n *node) {
	if len(n.items) <= x.seg.MaxPerCell || n.level >= x.seg.MaxLevel {
		return
	}
	ch := n.id.Children()
	kids := new([4]*node)
	for i := range kids {
		kids[i] = newNode(ch[i])
		n.kb[i] = kids[i].bound
	}
	for _, it := range n.items {
		it.cell = s2.CellIDFromLatLng(s2.LatLngFromDegrees(it.lat, it.lng))
		k := kids[it.cell.ChildPosition(n.level+1)]
		k.items = append(k.items, it)
		k.count++
		it.s.n, it.s.i = k, int32(len(k.items)-1)
	}
	n.items, n.kids = nil, kids
	for _, k := range kids {
		x.split(k)
	}
}

// remove takes s's item out of its leaf, decrements the counts on the path
// and collapses the highest subtree that fell below MinPerCell into one
// leaf. The caller holds the root's write lock.
func (x *Index) remove(r *root, s *slot) {
	leaf := s.n
	cell := leaf.items[s.i].cell
	last := len(leaf.items) - 1
	if int(s.i) != last {
		leaf.items[s.i] = leaf.items[last]
		leaf.items[s.i].s.i = s.i
	}
	leaf.items[last] = item{}
	leaf.items = leaf.items[:last]
	s.n = nil
	var merge *node
	for n := r.n; ; n = n.kids[cell.ChildPosition(n.level+1)] {
		n.count--
		if merge == nil && n.kids != nil && n.count < x.seg.MinPerCell {
			merge = n
		}
		if n.kids == nil {
			break
		}
	}
	if merge != nil {
		items := make([]item, 0, x.seg.MaxPerCell)
		items = gather(merge, items)
		for i := range items {
			items[i].s.n, items[i].s.i = merge, int32(i)
		}
		merge.kids, merge.items = nil, items
	}
}

func gather(n *node, out []item) []item {
	if n.kids == nil {
		return append(out, n.items...)
	}
	for _, k := range n.kids {
		out = gather(k, out)
	}
	return out
}

// Remove implements [geogrid.Index].
func (x *Index) Remove(ctx context.Context, id string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	sh := &x.ids[maphash.String(x.seed, id)%idShards]
	sh.mu.Lock()
	defer sh.mu.Unlock()
	s := sh.m[id]
	if s == nil {
		return fmt.Errorf("memindex: remove %q: %w", id, geogrid.ErrNotFound)
	}
	r := &x.roots[s.root]
	r.mu.Lock()
	x.remove(r, s)
	r.mu.Unlock()
	delete(sh.m, id)
	return nil
}

// Get implements [geogrid.Index].
func (x *Index) Get(ctx context.Context, id string) (geogrid.Entry, error) {
	if err := ctx.Err(); err != nil {
		return geogrid.Entry{}, err
	}
	sh := &x.ids[maphash.String(x.seed, id)%idShards]
	sh.mu.Lock()
	defer sh.mu.Unlock()
	s := sh.m[id]
	if s == nil {
		return geogrid.Entry{}, fmt.Errorf("memindex: get %q: %w", id, geogrid.ErrNotFound)
	}
	r := &x.roots[s.root]
	r.mu.RLock()
	it := s.n.items[s.i]
	r.mu.RUnlock()
	return geogrid.Entry{ID: id, Lat: it.lat, Lng: it.lng, At: it.at}, nil
}

// slack widens the tests on dot products so that rounding never drops an
// entry that is inside the circle; the grid filters by exact distance.
const slack = 1e-12

// Search implements [geogrid.Index].
func (x *Index) Search(ctx context.Context, q geogrid.Query, visit func(geogrid.Entry) bool) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := geogrid.CheckPoint("search", q.Lat, q.Lng); err != nil {
		return err
	}
	if math.IsNaN(q.Meters) || q.Meters < 0 {
		return &geogrid.InputError{Op: "search", Field: "radius", Value: q.Meters, Reason: "must be >= 0"}
	}
	ll := s2.LatLngFromDegrees(q.Lat, q.Lng)
	p := s2.PointFromLatLng(ll)
	w := walker{qx: p.X, qy: p.Y, qz: p.Z, after: q.After, visit: visit}
	theta := q.Meters / geogrid.EarthRadiusMeters
	if theta >= math.Pi {
		w.all = true
	} else {
		w.cosT, w.sinT = math.Cos(theta), math.Sin(theta)
	}
	for _, ri := range x.rootsNear(s2.CellIDFromLatLng(ll), p, theta) {
		r := &x.roots[ri]
		r.mu.RLock()
		more := r.n == nil || !w.meets(&r.n.bound) || w.walk(r.n)
		r.mu.RUnlock()
		if !more {
			return nil
		}
	}
	return nil
}

// rootsNear returns the roots a circle of angular radius theta around p may
// touch: for circles narrower than a root cell, the root of the centre and
// its neighbours; otherwise a covering.
func (x *Index) rootsNear(c s2.CellID, p s2.Point, theta float64) []int32 {
	l := x.seg.MinLevel
	if theta < s2.MinWidthMetric.Value(l)/2 {
		r := &x.roots[x.rootOf(c)]
		if near := r.near.Load(); near != nil {
			return *near
		}
		rc := c.Parent(l)
		out := make([]int32, 0, 9)
		out = append(out, x.rootOf(rc))
		defer func() { r.near.Store(&out) }()
		for _, nb := range rc.AllNeighbors(l) {
			ri := x.rootOf(nb)
			dup := false
			for _, o := range out {
				dup = dup || o == ri
			}
			if !dup {
				out = append(out, ri)
			}
		}
		return out
	}
	if theta >= math.Pi/2 || l == 0 {
		out := make([]int32, len(x.roots))
		for i := range out {
			out[i] = int32(i)
		}
		return out
	}
	rc := &s2.RegionCoverer{MinLevel: l, MaxLevel: l, MaxCells: 1 << 20}
	cov := rc.Covering(s2.CapFromCenterAngle(p, s1.Angle(theta)*(1+1e-9)))
	out := make([]int32, 0, len(cov))
	for _, c := range cov {
		out = append(out, x.rootOf(c))
	}
	return out
}

type walker struct {
	qx, qy, qz float64
	cosT, sinT float64
	all        bool
	after      int64
	visit      func(geogrid.Entry) bool
}

// meets reports whether the circle may meet the cap b: the angle between
// the centres is at most theta + r.
func (w *walker) meets(b *bound) bool {
	if w.all {
		return true
	}
	cosSum := w.cosT*b.cosR - w.sinT*b.sinR // cos(theta + r)
	if w.sinT*b.cosR+w.cosT*b.sinR <= 0 && cosSum <= 0 {
		return true // theta + r >= pi
	}
	return w.qx*b.cx+w.qy*b.cy+w.qz*b.cz >= cosSum-slack
}

// walk visits the entries of n inside the circle; false means stop. The
// caller has checked that the circle meets n's cap.
func (w *walker) walk(n *node) bool {
	if n.kids != nil {
		for i, k := range n.kids {
			if w.meets(&n.kb[i]) && k.count > 0 && !w.walk(k) {
				return false
			}
		}
		return true
	}
	lim := w.cosT - slack
	for i := range n.items {
		it := &n.items[i]
		if it.at <= w.after {
			continue
		}
		if !w.all && w.qx*it.x+w.qy*it.y+w.qz*it.z < lim {
			continue
		}
		if !w.visit(geogrid.Entry{ID: it.id, Lat: it.lat, Lng: it.lng, At: it.at}) {
			return false
		}
	}
	return true
}

// Segments implements [geogrid.Index].
func (x *Index) Segments(ctx context.Context, visit func(geogrid.Segment) bool) error {
	var buf []geogrid.Segment
	for i := range x.roots {
		if err := ctx.Err(); err != nil {
			return err
		}
		r := &x.roots[i]
		r.mu.RLock()
		if r.n != nil {
			buf = leaves(r.n, buf[:0])
		} else {
			buf = buf[:0]
		}
		r.mu.RUnlock()
		for _, s := range buf {
			if !visit(s) {
				return nil
			}
		}
	}
	return nil
}

func leaves(n *node, out []geogrid.Segment) []geogrid.Segment {
	if n.kids == nil {
		return append(out, geogrid.Segment{Cell: geogrid.Cell(n.id), Count: len(n.items)})
	}
	for _, k := range n.kids {
		out = leaves(k, out)
	}
	return out
}

// Prune implements [geogrid.Index].
func (x *Index) Prune(ctx context.Context, before int64) (int, error) {
	total := 0
	for i := range x.ids {
		if err := ctx.Err(); err != nil {
			return total, err
		}
		sh := &x.ids[i]
		sh.mu.Lock()
		for id, s := range sh.m {
			if s.at > before {
				continue
			}
			r := &x.roots[s.root]
			r.mu.Lock()
			x.remove(r, s)
			r.mu.Unlock()
			delete(sh.m, id)
			total++
		}
		sh.mu.Unlock()
	}
	return total, nil
}

// Len returns the number of stored entries, fresh or stale.
func (x *Index) Len() int {
	n := 0
	for i := range x.ids {
		x.ids[i].mu.Lock()
		n += len(x.ids[i].m)
		x.ids[i].mu.Unlock()
	}
	return n
}

// Claim implements [geogrid.Claims].
func (x *Index) Claim(ctx context.Context, key, owner string, now time.Time, ttl time.Duration) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	x.cmu.Lock()
	defer x.cmu.Unlock()
	if c, ok := x.claims[key]; ok && now.Before(c.expires) {
		return c.owner, nil
	}
	x.claims[key] = claim{owner: owner, expires: now.Add(ttl)}
	return owner, nil
}

// Holder implements [geogrid.Claims].
func (x *Index) Holder(ctx context.Context, key string, now time.Time) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	x.cmu.Lock()
	defer x.cmu.Unlock()
	if c, ok := x.claims[key]; ok && now.Before(c.expires) {
		return c.owner, nil
	}
	return "", fmt.Errorf("memindex: holder %q: %w", key, geogrid.ErrNotFound)
}

// Release implements [geogrid.Claims].
func (x *Index) Release(ctx context.Context, key, owner string, now time.Time) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	x.cmu.Lock()
	defer x.cmu.Unlock()
	if c, ok := x.claims[key]; ok && now.Before(c.expires) && c.owner == owner {
		delete(x.claims, key)
		return nil
	}
	return fmt.Errorf("memindex: release %q by %q: %w", key, owner, geogrid.ErrNotFound)
}

var (
	_ geogrid.Index  = (*Index)(nil)
	_ geogrid.Claims = (*Index)(nil)
)
