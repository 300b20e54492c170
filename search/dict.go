package search

import (
	"slices"
	"sort"
	"strings"
	"unicode/utf8"
)

// posting is one occurrence of a term: the document's slot, the field and
// the word position inside the field.
type posting struct {
	slot  uint32
	field uint16
	pos   uint16
}

// term is an entry of the dictionary.
type term struct {
	text     string
	runes    []rune
	letters  uint64 // letterMask of runes
	postings []posting
	dead     int // postings whose slot no longer holds a live document
}

func (t *term) live() int { return len(t.postings) - t.dead }

// noLink ends a chain of the delete index.
const noLink = ^uint32(0)

// link is one (variant, term) pair of the symmetric-delete index, chained
// to the other terms sharing the variant's hash.
type link struct {
	term uint32
	next uint32
}

// freshMax is how many new terms may wait outside the sorted order before
// they are merged into it.
const freshMax = 1024

// dict is the term dictionary: terms by text and by id, the ids in sorted
// order for prefix walks, and the optional symmetric-delete index.
type dict struct {
	ids    map[string]uint32
	terms  []term
	sorted []uint32 // ids in text order
	// sortedText holds the texts of sorted, so that walks read them
	// without going through the terms.
	sortedText []string
	fresh      []uint32 // ids added since the last merge, in no order
	bulk       bool     // defer merging (during a build)
	dead       int      // terms without a live posting

	deletes    map[uint32]uint32 // variant hash -> first link
	links      []link
	prefixLen  int // runes of a term that the delete variants are made from
	maxDeletes int
}

func newDict(useDeletes bool, prefixLen, maxDeletes int) *dict {
	d := &dict{ids: make(map[string]uint32), prefixLen: prefixLen, maxDeletes: maxDeletes}
	if useDeletes {
		d.deletes = make(map[uint32]uint32)
	}
	return d
}

// intern returns the id of the term w, adding it when new.
func (d *dict) intern(w []rune) uint32 {
	s := string(w)
	if id, ok := d.ids[s]; ok {
		return id
	}
	id := uint32(len(d.terms))
	rs := []rune(s)
	d.terms = append(d.terms, term{text: s, runes: rs, letters: letterMask(rs)})
	d.ids[s] = id
	d.fresh = append(d.fresh, id)
	if !d.bulk && len(d.fresh) > freshMax {
		d.merge()
	}
	if d.deletes != nil {
		d.indexDeletes(id)
	}
	d.dead++ // no posting yet; add makes it live
	return id
}

// add records a posting of term id.
func (d *dict) add(id uint32, p posting) {
	t := &d.terms[id]
	if t.live() == 0 {
		d.dead--
	}
	t.postings = append(t.postings, p)
}

// kill records that n postings of term id now point at a dead slot, and
// compacts the term's postings when most of them are dead.
func (d *dict) kill(id uint32, n int, alive func(slot uint32) bool) {
	t := &d.terms[id]
	t.dead += n
	if t.live() == 0 {
		d.dead++
		t.postings, t.dead = t.postings[:0], 0
		return
	}
	if t.dead > 8 && t.dead*2 > len(t.postings) {
		t.postings = slices.DeleteFunc(t.postings, func(p posting) bool { return !alive(p.slot) })
		t.dead = 0
	}
}

// merge sorts the fresh ids into the sorted order.
func (d *dict) merge() {
	if len(d.fresh) == 0 {
		return
	}
	less := func(a, b uint32) int { return strings.Compare(d.terms[a].text, d.terms[b].text) }
	slices.SortFunc(d.fresh, less)
	out := make([]uint32, 0, len(d.sorted)+len(d.fresh))
	i, j := 0, 0
	for i < len(d.sorted) && j < len(d.fresh) {
		if less(d.sorted[i], d.fresh[j]) <= 0 {
			out = append(out, d.sorted[i])
			i++
		} else {
			out = append(out, d.fresh[j])
			j++
		}
	}
	out = append(out, d.sorted[i:]...)
	out = append(out, d.fresh[j:]...)
	d.sorted, d.fresh = out, d.fresh[:0]
	d.sortedText = make([]string, len(out))
	for k, id := range out {
		d.sortedText[k] = d.terms[id].text
	}
}

// variants calls fn with the hash of every string made by deleting at most
// maxDel runes from w (w itself included). A hash may be reported more than
// once.
func variants(w []rune, maxDel int, fn func(h uint32)) {
	var buf [64]rune
	cur := append(buf[:0], w...)
	var rec func(start, left int)
	rec = func(start, left int) {
		fn(hashRunes(cur))
		if left == 0 {
			return
		}
		for i := start; i < len(cur); i++ {
			if i > start && cur[i] == cur[i-1] {
				continue // deleting either of two equal neighbours gives the same string
			}
			r := cur[i]
			copy(cur[i:], cur[i+1:])
			cur = cur[:len(cur)-1]
			rec(i, left-1)
			cur = cur[:len(cur)+1]
			copy(cur[i+1:], cur[i:])
			cur[i] = r
		}
	}
	rec(0, maxDel)
}

// hashRunes is FNV-1a over the runes of w.
func hashRunes(w []rune) uint32 {
	h := uint32(2166136261)
	for _, r := range w {
		h ^= uint32(r)
		h *= 16777619
		h ^= uint32(r) >> 8
		h *= 16777619
	}
	return h
}

// indexDeletes adds the delete variants of term id's prefix to the index.
func (d *dict) indexDeletes(id uint32) {
	w := d.terms[id].runes
	if len(w) > d.prefixLen {
		w = w[:d.prefixLen]
	}
	var hs [64]uint32
	seen := hs[:0]
	variants(w, d.maxDeletes, func(h uint32) { seen = append(seen, h) })
	slices.Sort(seen)
	seen = slices.Compact(seen)
	for _, h := range seen {
		head, ok := d.deletes[h]
		if !ok {
			head = noLink
		}
		d.links = append(d.links, link{term: id, next: head})
		d.deletes[h] = uint32(len(d.links) - 1)
	}
}

// candidates calls fn with every term id that shares a delete variant with
// the prefix of w, allowing at most k deletions on each side: a superset of
// the terms within k edits of w. An id may be reported more than once.
func (d *dict) candidates(w []rune, k int, fn func(id uint32)) {
	if len(w) > d.prefixLen {
		w = w[:d.prefixLen]
	}
	variants(w, min(k, d.maxDeletes), func(h uint32) {
		head, ok := d.deletes[h]
		if !ok {
			return
		}
		for l := head; l != noLink; l = d.links[l].next {
			fn(d.links[l].term)
		}
	})
}

// walk visits the terms in sorted order as a trie, carrying the rows of the
// optimal string alignment table of q against each prefix, and calls fn with
// every live term within k edits of q (whole-word mode) or with a prefix
// within k edits of q (prefix mode), with that distance. Subtrees whose last
// two rows exceed k are skipped. Fresh, unmerged terms are checked one by
// one.
func (d *dict) walk(q []rune, k int, prefix bool, fn func(id uint32, dist int)) {
	n := len(q)
	w := walker{d: d, q: q, k: k, prefix: prefix, fn: fn}
	w.rows = make([][]int, 1, 16)
	w.rows[0] = make([]int, n+1)
	for j := range w.rows[0] {
		w.rows[0][j] = j
	}
	start := k + 1
	if prefix && n <= k {
		start = n
	}
	w.rec(0, len(d.sorted), 0, 0, -1, start)
	for _, id := range d.fresh {
		t := &d.terms[id]
		if t.live() == 0 {
			continue
		}
		var dist int
		if prefix {
			dist = prefixOSA(q, t.runes, k)
		} else {
			dist = osa(q, t.runes, k)
		}
		if dist <= k {
			fn(id, dist)
		}
	}
}

type walker struct {
	d      *dict
	q      []rune
	k      int
	prefix bool
	fn     func(id uint32, dist int)
	rows   [][]int
}

// row returns the table row for depth i, allocating it on first use.
func (w *walker) row(i int) []int {
	for len(w.rows) <= i {
		w.rows = append(w.rows, make([]int, len(w.q)+1))
	}
	return w.rows[i]
}

// runEnd returns the end of the run of sorted terms from i (< hi) that
// continue their shared first boff bytes with rb. Runs are mostly short, so
// it gallops from i before searching.
func (w *walker) runEnd(i, hi, boff int, rb string) int {
	texts := w.d.sortedText
	end := boff + len(rb)
	in := func(x int) bool {
		t := texts[x]
		if len(t) < end {
			return false
		}
		for k := boff; k < end; k++ {
			if t[k] != rb[k-boff] {
				return false
			}
		}
		return true
	}
	lo, step := i+1, 1
	for lo < hi && in(lo) {
		lo += step
		step *= 2
	}
	// The run ends in [lo-step/2, min(lo, hi)] when step > 1.
	from := i + 1
	if step > 1 {
		from = lo - step/2
	}
	to := min(lo, hi)
	return from + sort.Search(to-from, func(x int) bool { return !in(from + x) })
}

// rec visits the sorted ids [lo, hi), which share their first boff bytes
// (depth runes, the last of which is last). best is the least distance of q
// to any prefix seen on the way down (prefix mode), or k+1.
func (w *walker) rec(lo, hi, boff, depth int, last rune, best int) {
	d, n := w.d, len(w.q)
	cur := w.rows[depth]
	// Terms that end here come first in sorted order.
	for lo < hi && len(d.sortedText[lo]) == boff {
		id := d.sorted[lo]
		dist := cur[n]
		if w.prefix {
			dist = best
		}
		if dist <= w.k && d.terms[id].live() > 0 {
			w.fn(id, dist)
		}
		lo++
	}
	if lo >= hi {
		return
	}
	if w.prefix && best <= w.k {
		rowMin := slices.Min(cur)
		prevMin := rowMin
		if depth > 0 {
			prevMin = slices.Min(w.rows[depth-1])
		}
		if rowMin >= best && prevMin >= best {
			// No longer prefix can come closer: every term below matches
			// with distance best.
			for _, id := range d.sorted[lo:hi] {
				if d.terms[id].live() > 0 {
					w.fn(id, best)
				}
			}
			return
		}
	}
	for i := lo; i < hi; {
		s := d.sortedText[i]
		r, size := utf8.DecodeRuneInString(s[boff:])
		rb := s[boff : boff+size]
		j := w.runEnd(i, hi, boff, rb)
		next := w.row(depth + 1)
		prev2 := cur
		if depth > 0 {
			prev2 = w.rows[depth-1]
		}
		rowMin := nextRow(w.q, r, depth+1, depth > 0, last, prev2, cur, next)
		nb := best
		if w.prefix && next[n] < nb {
			nb = next[n]
		}
		curMin := slices.Min(cur)
		if rowMin <= w.k || curMin < w.k || (w.prefix && nb <= w.k) {
			w.rec(i, j, boff+size, depth+1, r, nb)
		}
		i = j
	}
}

// letterMask sets bit r%64 for every rune r of w. Each rune of one word
// whose bit the other word lacks needs an edit of its own, so
// popcount(a &^ b) and popcount(b &^ a) are lower bounds of the distance:
// a filter that rejects most candidates before the table is computed.
func letterMask(w []rune) uint64 {
	var m uint64
	for _, r := range w {
		m |= 1 << (uint(r) & 63)
	}
	return m
}
