package memindex

import (
	"context"
	"fmt"
	"hash/maphash"
	"math"
	"slices"
	"strings"
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
	// there is one lock per live cell of that level.
	Segmentation geogrid.Segmentation
}

const (
	idShards   = 64
	rootShards = 64
)

// Index is an in-memory [geogrid.Index] and [geogrid.Claims]. It is safe
// for concurrent use.
type Index struct {
	seg   geogrid.Segmentation
	roots [rootShards]rootShard
	seed  maphash.Seed
	ids   [idShards]idShard
	stale atomic.Uint64 // entries Search passed over as stale

	cmu    sync.Mutex
	claims map[string]claim
}

// root is the tree of one cell of level MinLevel. It is in the root map
// while dead is false; it leaves the map, and dead becomes true, when its
// last entry leaves. Whoever finds a root through the map locks it and
// checks dead before using it.
type root struct {
	mu   sync.RWMutex
	n    *node                       // never nil
	dead bool                        // under mu
	near atomic.Pointer[[]s2.CellID] // this root's cell and its neighbours, computed on first use
}

type rootShard struct {
	mu sync.RWMutex
	m  map[s2.CellID]*root
	_  [32]byte
}

type idShard struct {
	mu sync.Mutex
	m  idTable
	// Counters, under mu: every change of the tree happens under the
	// lock of the id being updated, removed or pruned.
	moves, splits, merges uint64
	_                     [24]byte
}

// slot is the home of one id: its entry in the id table and in the tree,
// so that an Update that stays in its leaf touches an id table bucket and
// the slot and nothing else. The position and time change under the id
// shard lock and the root lock, so either lock is enough to read them;
// root changes under the id shard lock and both root locks; n, i and the
// copy of the leaf's bounds change under the root lock.
//
// A slot fills two cache lines, which it has to itself (see idTable): the
// first holds what a search reads, the second the lookup (h, next, short,
// and the id's length from the first) and the fast path's bounds test.
type slot struct {
	x, y, z  float64 // unit vector of the position
	lat, lng float64
	at       int64
	id       string

	h     uint32   // hash of id >> 8: the low bits chose the id shard
	next  uint32   // next slot index + 1 in the id table's chain
	short [16]byte // the id's bytes, when it is that short
	i     int32    // index in n.items
	leaf  box32    // copy of n's
	root  *root
	n     *node
}

// is reports whether s is the slot of id, reading only the slot for ids of
// up to 16 bytes.
func (s *slot) is(id string) bool {
	if len(id) != len(s.id) {
		return false
	}
	if len(id) <= len(s.short) {
		return string(s.short[:len(id)]) == id
	}
	return s.id == id
}

// init sets the id and time of a slot fresh from idTable.alloc.
func (s *slot) init(id string, at int64) {
	s.id, s.at = strings.Clone(id), at
	copy(s.short[:], id)
}

// set stores a position and time. The caller holds the id shard lock and,
// once s is in a tree, its root's write lock.
func (s *slot) set(x, y, z, lat, lng float64, at int64) {
	s.x, s.y, s.z, s.lat, s.lng, s.at = x, y, z, lat, lng, at
}

// box32 is a cell's (u, v) rectangle on its cube face, shrunk by a margin
// so that "inside" is never a rounding call, its bounds rounded inwards to
// float32 so that it fits in a slot's second cache line. A cell narrower
// than the rounding gets an empty box: its updates take the slow path.
type box32 struct {
	face           int32
	u0, u1, v0, v1 float32
}

// up and down round f to a float32 no less and no greater than f.
func up(f float64) float32 {
	g := float32(f)
	if float64(g) < f {
		g = math.Nextafter32(g, float32(math.Inf(1)))
	}
	return g
}

func down(f float64) float32 {
	g := float32(f)
	if float64(g) > f {
		g = math.Nextafter32(g, float32(math.Inf(-1)))
	}
	return g
}

// inside reports whether the unit vector lies well inside the box. False
// near an edge means "compute the cell id", not "outside".
func (b *box32) inside(x, y, z float64) bool {
	ax, ay, az := math.Abs(x), math.Abs(y), math.Abs(z)
	var f int32
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
	return f == b.face && u > float64(b.u0) && u < float64(b.u1) && v > float64(b.v0) && v < float64(b.v1)
}

// bound is a cap around a cell: centre (unit vector) and angular radius.
type bound struct {
	cx, cy, cz float64
	cosR, sinR float64
}

type node struct {
	bound           // of this cell
	kb    [4]bound  // of the children, beside their pointers so that a
	id    s2.CellID // search tests them without touching the children
	level int
	count int // entries in the subtree
	kids  *[4]*node
	items []*slot // leaf only
	box   box32
}

// link points the slot n.items[i] at its place. Whoever moves a slot
// within or into a leaf links it.
func (n *node) link(i int) {
	s := n.items[i]
	s.n, s.i, s.leaf = n, int32(i), n.box
}

// add appends s to the leaf n and links it.
func (n *node) add(s *slot) {
	n.items = append(n.items, s)
	n.link(len(n.items) - 1)
}

type claim struct {
	owner   string
	expires time.Time
}

// New returns an empty Index. It allocates no roots: they are created as
// entries arrive. It returns an error matching [geogrid.ErrInvalidInput]
// for a contradictory Segmentation.
func New(opts *Options) (*Index, error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	seg, err := o.Segmentation.Normalize()
	if err != nil {
		return nil, err
	}
	x := &Index{seg: seg, seed: maphash.MakeSeed(), claims: map[string]claim{}}
	for i := range x.roots {
		x.roots[i].m = map[s2.CellID]*root{}
	}
	return x, nil
}

// rootCell returns the root cell (level MinLevel) containing c.
func (x *Index) rootCell(c s2.CellID) s2.CellID { return c.Parent(x.seg.MinLevel) }

func (x *Index) rootShard(rc s2.CellID) *rootShard {
	return &x.roots[(uint64(rc)*0x9e3779b97f4a7c15)>>(64-6)]
}

// lookup returns the live root of cell rc, or nil. The caller must lock it
// and check dead.
func (x *Index) lookup(rc s2.CellID) *root {
	sh := x.rootShard(rc)
	sh.mu.RLock()
	r := sh.m[rc]
	sh.mu.RUnlock()
	return r
}

// acquire returns the root of cell rc, creating it if there is none. The
// caller must lock it and check dead.
func (x *Index) acquire(rc s2.CellID) *root {
	if r := x.lookup(rc); r != nil {
		return r
	}
	sh := x.rootShard(rc)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	r := sh.m[rc]
	if r == nil {
		r = &root{n: newNode(rc)}
		sh.m[rc] = r
	}
	return r
}

// lockNew returns the live root of cell rc, created if need be, locked for
// writing.
func (x *Index) lockNew(rc s2.CellID) *root {
	for {
		r := x.acquire(rc)
		r.mu.Lock()
		if !r.dead {
			return r
		}
		r.mu.Unlock() // it emptied and left the map meanwhile
	}
}

// free takes r out of the root map if it holds nothing. The caller holds
// r's write lock.
func (x *Index) free(r *root) {
	if r.n.count != 0 || r.dead {
		return
	}
	rc := r.n.id
	sh := x.rootShard(rc)
	sh.mu.Lock()
	if sh.m[rc] == r {
		delete(sh.m, rc)
	}
	sh.mu.Unlock()
	r.dead = true
}

func newNode(id s2.CellID) *node {
	c := s2.CellFromCellID(id)
	cb := c.CapBound() // centred on the cell's UV centre, not id.Point()
	p := cb.Center()
	r := cb.Radius().Radians()
	uv := c.BoundUV()
	m := max(1e-9*(uv.X.Hi-uv.X.Lo), 1e-13)
	return &node{id: id, level: id.Level(), bound: bound{cx: p.X, cy: p.Y, cz: p.Z, cosR: math.Cos(r), sinR: math.Sin(r)},
		box: box32{face: int32(id.Face()), u0: up(uv.X.Lo + m), u1: down(uv.X.Hi - m), v0: up(uv.Y.Lo + m), v1: down(uv.Y.Hi - m)}}
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
	h := maphash.String(x.seed, e.ID)
	sh := &x.ids[h%idShards]
	sh.mu.Lock()
	defer sh.mu.Unlock()
	s := sh.m.get(h, e.ID)
	if s != nil && e.At >= s.at {
		// The fast path: the fix stays inside the object's leaf, whose
		// bounds the slot carries. No cell id, no node, no allocation.
		r := s.root
		r.mu.Lock()
		if s.leaf.inside(px, py, pz) {
			s.set(px, py, pz, e.Lat, e.Lng, e.At)
			r.mu.Unlock()
			return nil
		}
		r.mu.Unlock()
	}
	cell := s2.CellIDFromLatLng(s2.LatLngFromDegrees(e.Lat, e.Lng))
	rc := x.rootCell(cell)
	if s == nil {
		s, i := sh.m.alloc(h)
		s.init(e.ID, e.At)
		s.set(px, py, pz, e.Lat, e.Lng, e.At)
		r := x.lockNew(rc)
		s.root = r
		sh.splits += x.insert(r, s, cell)
		r.mu.Unlock()
		sh.m.put(s, i)
		return nil
	}
	if e.At < s.at {
		return nil // an older fix arrived late
	}
	a := s.root
	if a.n.id == rc { // a is live: s is in it
		a.mu.Lock()
		s.set(px, py, pz, e.Lat, e.Lng, e.At)
		if !s.n.id.Contains(cell) {
			sh.moves++
			sh.merges += x.remove(a, s)
			sh.splits += x.insert(a, s, cell)
		}
		a.mu.Unlock()
		return nil
	}
	var b *root
	for {
		b = x.acquire(rc)
		if a.n.id < rc {
			a.mu.Lock()
			b.mu.Lock()
		} else {
			b.mu.Lock()
			a.mu.Lock()
		}
		if !b.dead {
			break
		}
		a.mu.Unlock()
		b.mu.Unlock()
	}
	s.set(px, py, pz, e.Lat, e.Lng, e.At)
	sh.moves++
	sh.merges += x.remove(a, s)
	sh.splits += x.insert(b, s, cell)
	s.root = b
	x.free(a)
	a.mu.Unlock()
	b.mu.Unlock()
	return nil
}

// insert adds s, whose position is in the leaf cell cell, to the leaf of r
// that contains it, then splits that leaf while it is over the limit, and
// returns the number of splits. The caller holds r's write lock.
func (x *Index) insert(r *root, s *slot, cell s2.CellID) uint64 {
	n := r.n
	for n.kids != nil {
		n.count++
		n = n.kids[cell.ChildPosition(n.level+1)]
	}
	n.count++
	n.add(s)
	return x.split(n)
}

func (x *Index) split(n *node) uint64 {
	if len(n.items) <= x.seg.MaxPerCell || n.level >= x.seg.MaxLevel {
		return 0
	}
	ch := n.id.Children()
	kids := new([4]*node)
	for i := range kids {
		kids[i] = newNode(ch[i])
		n.kb[i] = kids[i].bound
	}
	for _, s := range n.items {
		cell := s2.CellIDFromLatLng(s2.LatLngFromDegrees(s.lat, s.lng))
		k := kids[cell.ChildPosition(n.level+1)]
		k.items = append(k.items, s)
		k.count++
	}
	for _, k := range kids {
		for i := range k.items {
			k.link(i)
		}
	}
	n.items, n.kids = nil, kids
	splits := uint64(1)
	for _, k := range kids {
		splits += x.split(k)
	}
	return splits
}

// remove takes s out of its leaf, decrements the counts on the path
// and collapses the highest subtree that fell below MinPerCell into one
// leaf. It returns the number of merges (0 or 1). The caller holds the
// root's write lock; a root left empty stays in the map until the caller
// frees it.
func (x *Index) remove(r *root, s *slot) uint64 {
	leaf := s.n
	last := len(leaf.items) - 1
	if int(s.i) != last {
		leaf.items[s.i] = leaf.items[last]
		leaf.link(int(s.i))
	}
	leaf.items[last] = nil
	leaf.items = leaf.items[:last]
	s.n = nil
	var merge *node
	for n := r.n; ; n = n.kids[leaf.id.ChildPosition(n.level+1)] {
		n.count--
		if merge == nil && n.kids != nil && n.count < x.seg.MinPerCell {
			merge = n
		}
		if n.kids == nil {
			break
		}
	}
	if merge == nil {
		return 0
	}
	items := make([]*slot, 0, x.seg.MaxPerCell)
	merge.kids, merge.items = nil, gather(merge, items)
	for i := range merge.items {
		merge.link(i)
	}
	return 1
}

func gather(n *node, out []*slot) []*slot {
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
	h := maphash.String(x.seed, id)
	sh := &x.ids[h%idShards]
	sh.mu.Lock()
	defer sh.mu.Unlock()
	s := sh.m.get(h, id)
	if s == nil {
		return fmt.Errorf("memindex: remove %q: %w", id, geogrid.ErrNotFound)
	}
	x.drop(sh, s)
	sh.m.del(s)
	return nil
}

// drop takes s out of its root and frees the root if it emptied. The
// caller holds s's id shard lock.
func (x *Index) drop(sh *idShard, s *slot) {
	r := s.root
	r.mu.Lock()
	sh.merges += x.remove(r, s)
	x.free(r)
	r.mu.Unlock()
}

// Get implements [geogrid.Index].
func (x *Index) Get(ctx context.Context, id string) (geogrid.Entry, error) {
	if err := ctx.Err(); err != nil {
		return geogrid.Entry{}, err
	}
	h := maphash.String(x.seed, id)
	sh := &x.ids[h%idShards]
	sh.mu.Lock()
	defer sh.mu.Unlock()
	s := sh.m.get(h, id)
	if s == nil {
		return geogrid.Entry{}, fmt.Errorf("memindex: get %q: %w", id, geogrid.ErrNotFound)
	}
	// The position changes only under the id shard lock, held here.
	return geogrid.Entry{ID: id, Lat: s.lat, Lng: s.lng, At: s.at}, nil
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
	defer func() {
		if w.stale > 0 {
			x.stale.Add(w.stale)
		}
	}()
	search := func(r *root) bool {
		r.mu.RLock()
		defer r.mu.RUnlock()
		if r.dead || !w.meets(&r.n.bound) {
			return true
		}
		w.touch(r.n)
		return w.walk(r.n)
	}
	l := x.seg.MinLevel
	c := s2.CellIDFromLatLng(ll)
	if theta < s2.MinWidthMetric.Value(l)/2 {
		// The circle is narrower than a root: it lies within the root of
		// its centre and that root's neighbours.
		for _, rc := range x.near(x.rootCell(c)) {
			if r := x.lookup(rc); r != nil && !search(r) {
				return nil
			}
		}
		return nil
	}
	// A wider circle: its covering by root cells, or every live root when
	// the covering would be longer than that list.
	var cells []s2.CellID
	if theta < math.Pi/2 && l > 0 && 3*float64(uint64(1)<<(2*l))*(1-math.Cos(theta)) < float64(x.Roots()) {
		rc := &s2.RegionCoverer{MinLevel: l, MaxLevel: l, MaxCells: 1 << 20}
		cells = rc.Covering(s2.CapFromCenterAngle(p, s1.Angle(theta)*(1+1e-9)))
	} else {
		cells = x.live()
	}
	for _, rc := range cells {
		if r := x.lookup(rc); r != nil && !search(r) {
			return nil
		}
	}
	return nil
}

// near returns the root cell rc and its neighbours at its level. The list
// is cached on the live root of rc, if there is one.
func (x *Index) near(rc s2.CellID) []s2.CellID {
	r := x.lookup(rc)
	if r != nil {
		if near := r.near.Load(); near != nil {
			return *near
		}
	}
	out := make([]s2.CellID, 1, 9)
	out[0] = rc
	for _, nb := range rc.AllNeighbors(x.seg.MinLevel) {
		if !slices.Contains(out, nb) {
			out = append(out, nb)
		}
	}
	if r != nil {
		r.near.Store(&out)
	}
	return out
}

// live returns the cells of the live roots, in cell order.
func (x *Index) live() []s2.CellID {
	var out []s2.CellID
	for i := range x.roots {
		sh := &x.roots[i]
		sh.mu.RLock()
		for rc := range sh.m {
			out = append(out, rc)
		}
		sh.mu.RUnlock()
	}
	slices.Sort(out)
	return out
}

// Roots returns the number of live root cells: cells of level MinLevel
// that hold at least one entry, fresh or stale. The memory of an Index is
// proportional to it and to the number of entries.
func (x *Index) Roots() int {
	n := 0
	for i := range x.roots {
		sh := &x.roots[i]
		sh.mu.RLock()
		n += len(sh.m)
		sh.mu.RUnlock()
	}
	return n
}

type walker struct {
	qx, qy, qz float64
	cosT, sinT float64
	all        bool
	after      int64
	stale      uint64 // entries skipped because At <= after
	touched    int64  // sum of the times touch read
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

// touch reads one word of every slot in the leaves under n that the circle
// may meet. The slots lie anywhere in memory; these loads depend on
// nothing but the leaves' lists, so the CPU fetches their lines in
// parallel, and walk, which tests and branches on each, then finds them in
// the cache. The caller has checked that the circle meets n's cap.
func (w *walker) touch(n *node) {
	if n.kids != nil {
		for i, k := range n.kids {
			if w.meets(&n.kb[i]) && k.count > 0 {
				w.touch(k)
			}
		}
		return
	}
	var t int64
	for _, s := range n.items {
		t += s.at
	}
	w.touched += t
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
	for _, s := range n.items {
		if s.at <= w.after {
			w.stale++
			continue
		}
		if !w.all && w.qx*s.x+w.qy*s.y+w.qz*s.z < lim {
			continue
		}
		if !w.visit(geogrid.Entry{ID: s.id, Lat: s.lat, Lng: s.lng, At: s.at}) {
			return false
		}
	}
	return true
}

// Segments implements [geogrid.Index]. It visits the leaves of the live
// roots in cell order; a cell of level MinLevel that holds nothing has no
// leaf.
func (x *Index) Segments(ctx context.Context, visit func(geogrid.Segment) bool) error {
	var buf []geogrid.Segment
	for _, rc := range x.live() {
		if err := ctx.Err(); err != nil {
			return err
		}
		r := x.lookup(rc)
		if r == nil {
			continue
		}
		r.mu.RLock()
		buf = buf[:0]
		if !r.dead {
			buf = leaves(r.n, buf)
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
		var old []*slot
		sh.m.each(func(s *slot) {
			if s.at <= before {
				old = append(old, s)
			}
		})
		for _, s := range old {
			x.drop(sh, s)
			sh.m.del(s)
		}
		total += len(old)
		sh.mu.Unlock()
	}
	return total, nil
}

// Len returns the number of stored entries, fresh or stale.
func (x *Index) Len() int {
	n := 0
	for i := range x.ids {
		x.ids[i].mu.Lock()
		n += x.ids[i].m.n
		x.ids[i].mu.Unlock()
	}
	return n
}

// Stats implements [geogrid.StatsIndex]: the counters since New.
func (x *Index) Stats() geogrid.IndexStats {
	var st geogrid.IndexStats
	for i := range x.ids {
		sh := &x.ids[i]
		sh.mu.Lock()
		st.Entries += sh.m.n
		st.Moves += sh.moves
		st.Splits += sh.splits
		st.Merges += sh.merges
		sh.mu.Unlock()
	}
	st.StaleSkipped = x.stale.Load()
	return st
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
	_ geogrid.Index      = (*Index)(nil)
	_ geogrid.Claims     = (*Index)(nil)
	_ geogrid.StatsIndex = (*Index)(nil)
)
