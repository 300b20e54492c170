package trending

import (
	"cmp"
	"container/heap"
	"fmt"
	"slices"
	"unsafe"
)

// Count is a term and its (estimated) number of occurrences.
type Count struct {
	Term  string `json:"term"`
	Count uint64 `json:"count"`
}

// Sketch counts terms in bounded memory: a count-min sketch (Depth rows of
// Width counters, conservative update) for the counts, and a min-heap of
// the Capacity terms with the largest estimates as candidates for the top.
// Estimates never undercount; they overcount by at most 2N/Width with
// probability 1-(1/2)^Depth, N the total count. Two sketches with the same
// dimensions and seed merge by adding counters, which is how windows are
// summed and shards combined. An exact sketch (NewExact) keeps every term
// in a map instead, for small data and as a reference.
//
// A Sketch is not safe for concurrent use.
type Sketch struct {
	width, depth int
	seed         uint64
	counts       []uint64 // depth rows of width counters
	total        uint64

	exact map[string]uint64 // exact mode: every term

	capacity int
	cands    candHeap
}

// NewSketch returns an empty count-min sketch with width counters per row,
// depth rows, room for capacity top candidates, and hashes drawn from seed
// (sketches merge only with equal seeds: give every shard the same one).
func NewSketch(width, depth, capacity int, seed uint64) (*Sketch, error) {
	if width < 1 || depth < 1 || depth > 16 || capacity < 1 {
		return nil, fmt.Errorf("%w: sketch %dx%d, capacity %d", ErrInvalidOptions, width, depth, capacity)
	}
	return &Sketch{width: width, depth: depth, seed: seed, counts: make([]uint64, width*depth),
		capacity: capacity, cands: candHeap{pos: map[string]int{}}}, nil
}

// NewExact returns an empty exact counter with the Sketch interface.
func NewExact() *Sketch {
	return &Sketch{exact: map[string]uint64{}}
}

// Exact reports whether the sketch counts exactly.
func (s *Sketch) Exact() bool { return s.exact != nil }

// Total is the sum of all counts added.
func (s *Sketch) Total() uint64 { return s.total }

// rowIndex returns the counter of term's hash h in row r. Each row mixes h
// anew: rows derived by double hashing share too few bits when the width
// is a power of two, and heavy terms then collide in every row.
func (s *Sketch) rowIndex(h uint64, r int) int {
	return r*s.width + int(mix64(h+uint64(r)*0x9e3779b97f4a7c15)%uint64(s.width))
}

// Add counts n more occurrences of term and returns its new estimate.
func (s *Sketch) Add(term string, n uint64) uint64 {
	return s.add(term, n, nil)
}

// add is Add that also reports every counter increase to onRaise (row,
// column, delta), so that a running sum can follow.
func (s *Sketch) add(term string, n uint64, onRaise func(i int, d uint64)) uint64 {
	s.total += n
	if s.exact != nil {
		s.exact[term] += n
		return s.exact[term]
	}
	h := hashString(s.seed, term)
	est := ^uint64(0)
	var idx [16]int
	for r := range s.depth {
		i := s.rowIndex(h, r)
		idx[r] = i
		est = min(est, s.counts[i])
	}
	est += n
	// Conservative update: raise only the counters below the new estimate.
	for r := range s.depth {
		i := idx[r]
		if c := s.counts[i]; c < est {
			s.counts[i] = est
			if onRaise != nil {
				onRaise(i, est-c)
			}
		}
	}
	s.offer(term, est)
	return est
}

// Estimate returns the estimated count of term, never below the true one.
func (s *Sketch) Estimate(term string) uint64 {
	if s.exact != nil {
		return s.exact[term]
	}
	h := hashString(s.seed, term)
	est := ^uint64(0)
	for r := range s.depth {
		est = min(est, s.counts[s.rowIndex(h, r)])
	}
	return est
}

// offer keeps term among the candidates if its estimate is large enough.
func (s *Sketch) offer(term string, est uint64) {
	c := &s.cands
	if i, ok := c.pos[term]; ok {
		c.items[i].count = est
		heap.Fix(c, i)
		return
	}
	if len(c.items) < s.capacity {
		heap.Push(c, cand{term: term, count: est})
		return
	}
	if est > c.items[0].count {
		delete(c.pos, c.items[0].term)
		c.items[0] = cand{term: term, count: est}
		c.pos[term] = 0
		heap.Fix(c, 0)
	}
}

// Compatible reports whether s and o can be merged.
func (s *Sketch) Compatible(o *Sketch) bool {
	if s.exact != nil || o.exact != nil {
		return s.exact != nil && o.exact != nil
	}
	return s.width == o.width && s.depth == o.depth && s.seed == o.seed
}

// Merge adds o's counts into s, as if every term added to o had been
// added to s. The candidates are re-estimated against the merged counts.
// It returns [ErrIncompatible] for sketches of different dimensions or
// seeds, or an exact and an approximate one, and then changes nothing.
func (s *Sketch) Merge(o *Sketch) error {
	if !s.Compatible(o) {
		return ErrIncompatible
	}
	s.total += o.total
	if s.exact != nil {
		for t, n := range o.exact {
			s.exact[t] += n
		}
		return nil
	}
	for i, c := range o.counts {
		s.counts[i] += c
	}
	terms := make([]string, 0, len(s.cands.items)+len(o.cands.items))
	for _, c := range s.cands.items {
		terms = append(terms, c.term)
	}
	for _, c := range o.cands.items {
		terms = append(terms, c.term)
	}
	s.cands = candHeap{pos: map[string]int{}}
	for _, t := range terms {
		s.offer(t, s.Estimate(t))
	}
	return nil
}

// Candidates returns the terms the sketch tracks as possible top terms
// (every term, for an exact sketch).
func (s *Sketch) Candidates() []string {
	if s.exact != nil {
		out := make([]string, 0, len(s.exact))
		for t := range s.exact {
			out = append(out, t)
		}
		return out
	}
	out := make([]string, len(s.cands.items))
	for i, c := range s.cands.items {
		out[i] = c.term
	}
	return out
}

// Top returns the k candidates with the largest estimates, largest first,
// ties by term.
func (s *Sketch) Top(k int) []Count {
	return topOf(s.Candidates(), s.Estimate, k)
}

func topOf(terms []string, estimate func(string) uint64, k int) []Count {
	out := make([]Count, 0, len(terms))
	for _, t := range terms {
		if n := estimate(t); n > 0 {
			out = append(out, Count{Term: t, Count: n})
		}
	}
	slices.SortFunc(out, func(a, b Count) int {
		if c := cmp.Compare(b.Count, a.Count); c != 0 {
			return c
		}
		return cmp.Compare(a.Term, b.Term)
	})
	return out[:min(k, len(out))]
}

// Bytes estimates the memory the sketch holds.
func (s *Sketch) Bytes() int {
	n := int(unsafe.Sizeof(*s)) + len(s.counts)*8
	for _, c := range s.cands.items {
		n += len(c.term) + 16 + 8 + 48 // heap slot, map entry
	}
	for t := range s.exact {
		n += len(t) + 16 + 8 + 16
	}
	return n
}

// clone returns a deep copy.
func (s *Sketch) clone() *Sketch {
	c := *s
	c.counts = slices.Clone(s.counts)
	if s.exact != nil {
		c.exact = make(map[string]uint64, len(s.exact))
		for t, n := range s.exact {
			c.exact[t] = n
		}
	}
	c.cands = candHeap{items: slices.Clone(s.cands.items), pos: make(map[string]int, len(s.cands.pos))}
	for t, i := range s.cands.pos {
		c.cands.pos[t] = i
	}
	return &c
}

// reset empties the sketch, keeping its memory.
func (s *Sketch) reset() {
	clear(s.counts)
	s.total = 0
	if s.exact != nil {
		clear(s.exact)
	}
	s.cands.items = s.cands.items[:0]
	clear(s.cands.pos)
}

type cand struct {
	term  string
	count uint64
}

// candHeap is a min-heap of candidates by count, indexed by term.
type candHeap struct {
	items []cand
	pos   map[string]int
}

func (h *candHeap) Len() int { return len(h.items) }
func (h *candHeap) Less(i, j int) bool {
	if h.items[i].count != h.items[j].count {
		return h.items[i].count < h.items[j].count
	}
	return h.items[i].term > h.items[j].term
}
func (h *candHeap) Swap(i, j int) {
	h.items[i], h.items[j] = h.items[j], h.items[i]
	h.pos[h.items[i].term] = i
	h.pos[h.items[j].term] = j
}
func (h *candHeap) Push(x any) {
	c := x.(cand)
	h.pos[c.term] = len(h.items)
	h.items = append(h.items, c)
}
func (h *candHeap) Pop() any {
	c := h.items[len(h.items)-1]
	h.items = h.items[:len(h.items)-1]
	delete(h.pos, c.term)
	return c
}

// hashString is FNV-1a over term, mixed with seed by the splitmix64
// finalizer.
func hashString(seed uint64, term string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(term); i++ {
		h ^= uint64(term[i])
		h *= 1099511628211
	}
	return mix64(h ^ seed)
}

// mix64 is the splitmix64 finalizer.
func mix64(h uint64) uint64 {
	h ^= h >> 30
	h *= 0xbf58476d1ce4e5b9
	h ^= h >> 27
	h *= 0x94d049bb133111eb
	h ^= h >> 31
	return h
}
