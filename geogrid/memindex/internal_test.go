package memindex

import (
	"context"
	"hash/maphash"
	"math"
	"math/rand/v2"
	"strconv"
	"testing"
	"unsafe"

	"github.com/golang/geo/s2"

	"github.com/sysblocks/sysblocks/geogrid"
)

// TestIDTableDifferential runs random puts, gets and deletes against a Go
// map. Hashes are drawn from a small set so that chains are long and
// collide, and slots are freed and reused.
func TestIDTableDifferential(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 1))
	var tb idTable
	model := map[string]*slot{}
	hashes := []uint64{0, 1 << 8, 2 << 8, 3 << 8, 15 << 8, 31 << 8, math.MaxUint64, 7 << 8}
	for op := range 200_000 {
		id := "id-" + strconv.Itoa(r.IntN(600))
		if r.IntN(4) == 0 {
			id += "-a-longer-id-than-sixteen-bytes"
		}
		s, ok := model[id]
		switch r.IntN(3) {
		case 0:
			if !ok {
				var i uint32
				s, i = tb.alloc(hashes[r.IntN(len(hashes))])
				s.init(id, int64(op))
				tb.put(s, i)
				model[id] = s
			}
		case 1:
			if ok {
				tb.del(s)
				delete(model, id)
			}
		}
		if s, ok := model[id]; ok {
			if got := tb.get(uint64(s.h)<<8, id); got != s || s.id != id || s.at > int64(op) {
				t.Fatalf("op %d: get %q = %p, want %p (%q)", op, id, got, s, s.id)
			}
		}
		if op%1000 == 0 {
			n := 0
			tb.each(func(*slot) { n++ })
			if tb.n != len(model) || n != len(model) {
				t.Fatalf("op %d: %d entries (%d visited), want %d", op, tb.n, n, len(model))
			}
			for id, s := range model {
				if got := tb.get(uint64(s.h)<<8, id); got != s {
					t.Fatalf("op %d: get %q = %p, want %p", op, id, got, s)
				}
				if got := tb.get(uint64(s.h)<<8, id+"x"); got != nil {
					t.Fatalf("op %d: get of absent %q found a slot", op, id+"x")
				}
			}
		}
	}
	if max := len(model) + len(tb.free); int(tb.used) != max {
		t.Fatalf("%d slots handed out, %d live + %d free", tb.used, len(model), len(tb.free))
	}
}

// TestSlotSize: a slot is exactly two cache lines, so that in its chunk it
// shares no line with another slot.
func TestSlotSize(t *testing.T) {
	if n := unsafe.Sizeof(slot{}); n != 128 {
		t.Fatalf("slot is %d bytes, want 128", n)
	}
}

// check verifies the links the fast path relies on: every slot in a leaf
// points back at its place and carries its leaf's bounds, its position is
// in its leaf's cell, every slot is in the id table under its own hash,
// and the counts add up.
func (x *Index) check(t *testing.T) {
	t.Helper()
	items := 0
	for _, rc := range x.live() {
		r := x.lookup(rc)
		var walk func(n *node) int
		walk = func(n *node) int {
			if n.kids != nil {
				c := 0
				for _, k := range n.kids {
					c += walk(k)
				}
				if c != n.count {
					t.Fatalf("node %v: count %d, subtree holds %d", n.id, n.count, c)
				}
				return c
			}
			for i, s := range n.items {
				if s.n != n || int(s.i) != i || s.leaf != n.box || s.root != r {
					t.Fatalf("slot %q in %v: links n=%v i=%d (want %d) box ok=%v root ok=%v",
						s.id, n.id, s.n != nil && s.n == n, s.i, i, s.leaf == n.box, s.root == r)
				}
				if cell := s2.CellIDFromLatLng(s2.LatLngFromDegrees(s.lat, s.lng)); !n.id.Contains(cell) {
					t.Fatalf("slot %q: cell %v outside its leaf %v", s.id, cell, n.id)
				}
				if ux, uy, uz := unit(s.lat, s.lng); ux != s.x || uy != s.y || uz != s.z {
					t.Fatalf("slot %q: unit vector does not match its position", s.id)
				}
				h := maphash.String(x.seed, s.id)
				if x.ids[h%idShards].m.get(h, s.id) != s {
					t.Fatalf("slot %q: not in the id table", s.id)
				}
			}
			if len(n.items) != n.count {
				t.Fatalf("leaf %v: count %d, holds %d", n.id, n.count, len(n.items))
			}
			return len(n.items)
		}
		items += walk(r.n)
	}
	if items != x.Len() {
		t.Fatalf("the tree holds %d items, the id table %d", items, x.Len())
	}
}

// TestLinksUnderChurn moves, adds, removes and prunes objects on a grid
// small enough to split and merge all the time, most moves a few metres
// (the fast path) and some across cells, and checks every link after each
// batch.
func TestLinksUnderChurn(t *testing.T) {
	ctx := context.Background()
	x, err := New(&Options{Segmentation: geogrid.Segmentation{MinLevel: 12, MaxPerCell: 4, MinPerCell: 2, MaxLevel: 20}})
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(5, 5))
	type pos struct{ lat, lng float64 }
	model := map[string]pos{}
	at := int64(1)
	for op := range 40_000 {
		at++
		id := "driver-" + strconv.Itoa(r.IntN(300))
		if r.IntN(3) == 0 {
			id += "-with-a-long-suffix"
		}
		p, ok := model[id]
		switch k := r.IntN(100); {
		case k < 3 && ok:
			if err := x.Remove(ctx, id); err != nil {
				t.Fatal(err)
			}
			delete(model, id)
		case k < 4:
			before := at - 200
			n, err := x.Prune(ctx, before)
			if err != nil {
				t.Fatal(err)
			}
			if n < 0 {
				t.Fatalf("prune returned %d", n)
			}
			for id := range model {
				if _, err := x.Get(ctx, id); err != nil {
					delete(model, id)
				}
			}
		default:
			if !ok || r.IntN(10) == 0 {
				p = pos{48.85 + r.Float64()*0.05, 2.35 + r.Float64()*0.05}
			} else {
				p.lat += (r.Float64() - 0.5) * 1e-4 // about 10 m
				p.lng += (r.Float64() - 0.5) * 1e-4
			}
			if err := x.Update(ctx, geogrid.Entry{ID: id, Lat: p.lat, Lng: p.lng, At: at}); err != nil {
				t.Fatal(err)
			}
			model[id] = p
		}
		if op%500 == 0 {
			x.check(t)
			for id, p := range model {
				e, err := x.Get(ctx, id)
				if err != nil || e.Lat != p.lat || e.Lng != p.lng {
					t.Fatalf("op %d: get %q = %+v, %v; want %v", op, id, e, err, p)
				}
			}
		}
	}
	x.check(t)
}
