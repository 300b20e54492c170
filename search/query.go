package search

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"math/bits"
	"slices"
)

// Query is one search.
type Query struct {
	// Text is what the user typed. Its words are matched with typo
	// tolerance; an empty text matches every document that passes Filter,
	// most popular first.
	Text string `json:"text"`
	// Prefix treats the last word as the start of a word (search as you
	// type): "airp" finds "airport", typo budget included.
	Prefix bool `json:"prefix,omitempty"`
	// Fields restricts matching to these fields; empty means all.
	Fields []string `json:"fields,omitempty"`
	// MinWords is how many of the query's words a hit must match. Zero
	// means all of them. Words beyond the sixteenth are ignored.
	MinWords int `json:"min_words,omitempty"`
	// Filter selects the documents that may be hits.
	Filter Filter `json:"filter"`
	// Offset skips that many hits of the ranking (pagination).
	Offset int `json:"offset,omitempty"`
	// Limit is the page size. Zero means 10; at most Options.MaxLimit.
	Limit int `json:"limit,omitempty"`
}

// Filter selects documents by attribute. All its parts must hold.
type Filter struct {
	// Tags requires, for every key, one of the listed values among the
	// document's Tags[key] ("city": {"Paris", "Lyon"}).
	Tags map[string][]string `json:"tags,omitempty"`
	// Ranges requires each numeric attribute to lie in its range.
	Ranges []Range `json:"ranges,omitempty"`
	// Match, when set, must return true for the document: availability on
	// dates from a booking system, permissions. Queries with Match are not
	// cached.
	Match func(Document) bool `json:"-"`
}

// Range requires Document.Numbers[Field] to exist and lie in [Min, Max].
type Range struct {
	Field string  `json:"field"`
	Min   float64 `json:"min"`
	Max   float64 `json:"max"`
}

// Between returns the range [lo, hi] of field.
func Between(field string, lo, hi float64) Range { return Range{Field: field, Min: lo, Max: hi} }

// AtLeast returns the range [v, +Inf) of field.
func AtLeast(field string, v float64) Range { return Range{Field: field, Min: v, Max: math.Inf(1)} }

// AtMost returns the range (-Inf, v] of field.
func AtMost(field string, v float64) Range { return Range{Field: field, Min: math.Inf(-1), Max: v} }

func (f *Filter) pass(d *Document) bool {
	for key, want := range f.Tags {
		have := d.Tags[key]
		ok := false
		for _, w := range want {
			if slices.Contains(have, w) {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	for _, r := range f.Ranges {
		v, ok := d.Numbers[r.Field]
		if !ok || v < r.Min || v > r.Max {
			return false
		}
	}
	return f.Match == nil || f.Match(*d)
}

// Result is one page of hits.
type Result struct {
	// Hits is the page, best first.
	Hits []Hit `json:"hits"`
	// Total is the number of documents that matched.
	Total int `json:"total"`
}

// Hit is a matching document and the figures it was ranked by.
type Hit struct {
	Doc Document `json:"doc"`
	// Words is the number of query words the document matched.
	Words int `json:"words"`
	// Typos is the typo cost summed over matched words.
	Typos int `json:"typos"`
	// Proximity sums, over consecutive query words, how far apart they
	// stand in the document (1 adjacent and in order, up to 8).
	Proximity int `json:"proximity"`
	// Weight sums the weights of the fields the words matched in.
	Weight int `json:"weight"`
}

func (ix *Index) validate(q *Query) error {
	switch {
	case q.Offset < 0:
		return fmt.Errorf("%w: offset %d", ErrInvalidQuery, q.Offset)
	case q.Limit < 0 || q.Limit > ix.cfg.maxLimit:
		return fmt.Errorf("%w: limit %d not in [0, %d]", ErrInvalidQuery, q.Limit, ix.cfg.maxLimit)
	case q.MinWords < 0:
		return fmt.Errorf("%w: min words %d", ErrInvalidQuery, q.MinWords)
	}
	for _, r := range q.Filter.Ranges {
		if !(r.Min <= r.Max) {
			return fmt.Errorf("%w: range %s [%v, %v]", ErrInvalidQuery, r.Field, r.Min, r.Max)
		}
	}
	return nil
}

// Search runs q and returns one page of hits. With Options.Cache set, a
// query without Filter.Match is first looked up in the cache and its result
// stored there for Options.CacheTTL; a cached page may thus be that old.
func (ix *Index) Search(ctx context.Context, q Query) (Result, error) {
	if err := ctx.Err(); err != nil {
		return Result{}, err
	}
	if err := ix.validate(&q); err != nil {
		return Result{}, err
	}
	if q.Limit == 0 {
		q.Limit = 10
	}
	var key string
	if c := ix.cfg.cache; c != nil && q.Filter.Match == nil {
		key = ix.cacheKey(&q)
		b, found, err := c.Get(ctx, key)
		switch {
		case err != nil:
			ix.cacheFails.Add(1)
		case found:
			var r Result
			if json.Unmarshal(b, &r) == nil {
				ix.cacheHits.Add(1)
				return r, nil
			}
			ix.cacheFails.Add(1)
		default:
			ix.cacheMisses.Add(1)
		}
	}
	sc, _ := ix.scratch.Get().(*scratch)
	if sc == nil {
		sc = new(scratch)
	}
	ix.mu.RLock()
	r := ix.st.search(&q, sc)
	ix.mu.RUnlock()
	ix.scratch.Put(sc)
	if key != "" {
		if b, err := json.Marshal(r); err == nil {
			if ix.cfg.cache.Set(ctx, key, b, ix.cfg.cacheTTL) != nil {
				ix.cacheFails.Add(1)
			}
		}
	}
	return r, nil
}

func (ix *Index) cacheKey(q *Query) string {
	b, _ := json.Marshal(q) // maps are encoded in key order
	h := sha256.Sum256(b)
	return ix.cfg.cachePrefix + hex.EncodeToString(h[:16])
}

// cand is a dictionary term a query word may stand for.
type cand struct {
	id     uint32
	cost   uint8
	detail uint16 // typo model weight, orders candidates of equal cost
}

// match is one occurrence of a query word in a document, in a list per
// document linked through next.
type match struct {
	word  uint8
	cost  uint8
	field uint16
	pos   uint16
	next  int32
}

// acc gathers what a document matched.
type acc struct {
	slot   uint32
	mask   uint16
	head   int32 // first match, -1 for none
	n      [maxQueryWords]uint8
	cost   [maxQueryWords]uint8
	detail [maxQueryWords]uint16
}

// scratch is the per-query working memory, reused through a pool.
type scratch struct {
	index   []int32 // slot -> acc index + 1, 0 for none
	accs    []acc
	matches []match
	top     []scored
}

// maxMatchesPerWord bounds the occurrences kept per document and word for
// proximity.
const maxMatchesPerWord = 8

type scored struct {
	e                                 *docEntry
	words, typos, detail, prox, weigh int
	exact                             bool // some field is wholly matched
	wide                              bool // some word needed the widened budget
}

func (s *state) search(q *Query, sc *scratch) Result {
	var words [][]rune
	tokenize(q.Text, maxQueryWords, func(w []rune, _ int) { words = append(words, slices.Clone(w)) })
	var fields map[uint16]bool
	if len(q.Fields) > 0 {
		fields = make(map[uint16]bool, len(q.Fields))
		for _, name := range q.Fields {
			if f, ok := s.fieldIDs[name]; ok {
				fields[f] = true
			}
		}
	}
	top := collector{s: s, k: q.Offset + q.Limit, items: sc.top[:0]}
	if len(words) == 0 {
		for _, e := range s.docs {
			if q.Filter.pass(&e.doc) {
				top.offer(scored{e: e})
			}
		}
	} else {
		s.match(q, words, fields, sc, &top, false)
		if top.total < q.Offset+q.Limit && s.cfg.canWiden(words, q.Prefix) {
			// Too few hits within the typo budget to fill the page: look
			// again with the widened budget. The hits found before are
			// found again and rank first.
			top = collector{s: s, k: q.Offset + q.Limit, items: top.items[:0]}
			s.match(q, words, fields, sc, &top, true)
		}
	}
	hits := top.sorted()
	sc.top = hits[:0]
	res := Result{Total: top.total, Hits: []Hit{}}
	if q.Offset < len(hits) {
		hits = hits[q.Offset:]
		res.Hits = make([]Hit, len(hits))
		for i, h := range hits {
			res.Hits[i] = Hit{Doc: h.e.doc, Words: h.words, Typos: h.typos, Proximity: h.prox, Weight: h.weigh}
		}
	}
	return res
}

// collector keeps the k best of the hits offered, by less, and counts
// them all.
type collector struct {
	s     *state
	k     int
	items []scored // a heap with the worst kept hit at the root
	total int
}

func (c *collector) worse(i, j int) bool { return c.s.less(&c.items[j], &c.items[i]) }

func (c *collector) offer(h scored) {
	c.total++
	if c.k <= 0 {
		return
	}
	if len(c.items) < c.k {
		c.items = append(c.items, h)
		for i := len(c.items) - 1; i > 0; {
			p := (i - 1) / 2
			if !c.worse(i, p) {
				break
			}
			c.items[i], c.items[p] = c.items[p], c.items[i]
			i = p
		}
		return
	}
	if !c.s.less(&h, &c.items[0]) {
		return
	}
	c.items[0] = h
	for i := 0; ; {
		l, r, m := 2*i+1, 2*i+2, i
		if l < len(c.items) && c.worse(l, m) {
			m = l
		}
		if r < len(c.items) && c.worse(r, m) {
			m = r
		}
		if m == i {
			break
		}
		c.items[i], c.items[m] = c.items[m], c.items[i]
		i = m
	}
}

// sorted returns the kept hits, best first.
func (c *collector) sorted() []scored {
	slices.SortFunc(c.items, func(a, b scored) int {
		switch {
		case c.s.less(&a, &b):
			return -1
		case c.s.less(&b, &a):
			return 1
		}
		return 0
	})
	return c.items
}

// expand returns the terms word may stand for, cheapest and most frequent
// first, at most maxExpansions of them. With wide set the word may have
// one typo more than its budget (up to the largest budget) and a typo on
// the first rune passes as an ordinary one; such candidates keep their
// full cost, which exceeds the budget, so they rank after all others.
func (s *state) expand(word []rune, prefix, wide bool) []cand {
	c, d := s.cfg, s.dict
	k := c.budget(len(word))
	kd := k // the largest distance looked up
	if wide {
		kd = c.wideBudget(len(word))
	}
	var out []cand
	add := func(id uint32, dist int) {
		cost := dist
		if dist > 0 && c.firstTypoCost > 1 {
			t := d.terms[id].runes
			if len(t) == 0 || t[0] != word[0] {
				cost += c.firstTypoCost - 1
			}
		}
		if cost <= k || (wide && dist <= kd) {
			cd := cand{id: id, cost: uint8(cost)}
			if dist > 0 {
				t := d.terms[id].runes
				w := typoWeight(word, t, prefix)
				if !prefix && t[len(t)-1] != word[len(word)-1] {
					// The last letter carries the inflection (plural, tense,
					// adverb) and is seldom the one mistyped.
					w += wLastLetter
				}
				cd.detail = uint16(min(w, math.MaxUint16))
			}
			out = append(out, cd)
		}
	}
	switch {
	case prefix || d.deletes == nil:
		d.walk(word, kd, prefix, add)
	case kd == 0:
		if id, ok := d.ids[string(word)]; ok && d.terms[id].live() > 0 {
			add(id, 0)
		}
	default:
		var ids []uint32
		d.candidates(word, kd, func(id uint32) { ids = append(ids, id) })
		slices.Sort(ids)
		ids = slices.Compact(ids)
		qm := letterMask(word)
		for _, id := range ids {
			t := &d.terms[id]
			if t.live() == 0 || bits.OnesCount64(qm&^t.letters) > kd || bits.OnesCount64(t.letters&^qm) > kd {
				continue
			}
			if dist := osa(word, t.runes, kd); dist <= kd {
				add(id, dist)
			}
		}
	}
	slices.SortFunc(out, func(a, b cand) int {
		if a.cost != b.cost {
			return cmp.Compare(a.cost, b.cost)
		}
		if a.detail != b.detail {
			return cmp.Compare(a.detail, b.detail)
		}
		if la, lb := d.terms[a.id].live(), d.terms[b.id].live(); la != lb {
			return cmp.Compare(lb, la)
		}
		return cmp.Compare(a.id, b.id)
	})
	if len(out) > c.maxExpansions {
		out = out[:c.maxExpansions]
	}
	return out
}

// match offers top every document that matches enough of words. With wide
// set, whole words (not the prefix of a prefix query) are expanded with the
// widened budget (see expand) and hits that need it are marked wide.
func (s *state) match(q *Query, words [][]rune, fields map[uint16]bool, sc *scratch, top *collector, wide bool) {
	n := len(words)
	minWords := q.MinWords
	if minWords == 0 || minWords > n {
		minWords = n
	}
	cands := make([][]cand, n)
	sizes := make([]int, n)
	order := make([]int, n)
	var budgets [maxQueryWords]uint8
	for i, w := range words {
		prefix := q.Prefix && i == n-1
		cands[i] = s.expand(w, prefix, wide && !prefix)
		budgets[i] = uint8(s.cfg.budget(len(w)))
		for _, c := range cands[i] {
			sizes[i] += len(s.dict.terms[c.id].postings)
		}
		order[i] = i
	}
	// With every word required, start from the rarest and only follow
	// documents that are still in the running.
	all := minWords == n
	if all {
		slices.SortFunc(order, func(a, b int) int { return cmp.Compare(sizes[a], sizes[b]) })
	}
	if cap(sc.index) < len(s.slots) {
		sc.index = make([]int32, len(s.slots))
	}
	index := sc.index[:len(s.slots)]
	accs, matches := sc.accs[:0], sc.matches[:0]
	defer func() {
		for i := range accs {
			index[accs[i].slot] = 0
		}
		sc.accs, sc.matches = accs[:0], matches[:0]
	}()
	for round, wi := range order {
		if all && round > 0 && len(accs) == 0 {
			return
		}
		bit := uint16(1) << wi
		for _, c := range cands[wi] {
			for _, p := range s.dict.terms[c.id].postings {
				if s.slots[p.slot] == nil || (fields != nil && !fields[p.field]) {
					continue
				}
				ai := index[p.slot] - 1
				if ai < 0 {
					if all && round > 0 {
						continue
					}
					accs = append(accs, acc{slot: p.slot, head: -1})
					ai = int32(len(accs) - 1)
					index[p.slot] = ai + 1
				}
				a := &accs[ai]
				if a.mask&bit == 0 || c.cost < a.cost[wi] || (c.cost == a.cost[wi] && c.detail < a.detail[wi]) {
					a.mask |= bit
					a.cost[wi], a.detail[wi] = c.cost, c.detail
				}
				if a.n[wi] < maxMatchesPerWord {
					a.n[wi]++
					matches = append(matches, match{word: uint8(wi), cost: c.cost, field: p.field, pos: p.pos, next: a.head})
					a.head = int32(len(matches) - 1)
				}
			}
		}
		if all && round > 0 {
			// Drop documents that missed this word.
			kept := accs[:0]
			for _, a := range accs {
				index[a.slot] = 0
				if a.mask&bit != 0 {
					kept = append(kept, a)
				}
			}
			accs = kept
			for i := range accs {
				index[accs[i].slot] = int32(i) + 1
			}
		}
	}
	for i := range accs {
		a := &accs[i]
		wc := bits.OnesCount16(a.mask)
		if wc < minWords {
			continue
		}
		e := s.slots[a.slot]
		if !q.Filter.pass(&e.doc) {
			continue
		}
		h := scored{e: e, words: wc}
		for wi := range n {
			if a.mask&(1<<wi) == 0 {
				continue
			}
			h.typos += int(a.cost[wi])
			h.wide = h.wide || a.cost[wi] > budgets[wi]
			h.detail += int(a.detail[wi])
			best := 0
			for m := a.head; m >= 0; m = matches[m].next {
				if int(matches[m].word) == wi && matches[m].cost == a.cost[wi] {
					best = max(best, s.weight(matches[m].field))
				}
			}
			h.weigh += best
			if wi+1 < n {
				h.prox += proximity(a, matches, wi)
			}
		}
		h.exact = exactField(e, a, matches)
		top.offer(h)
	}
}

// exactField reports whether every word of some field of e was matched.
func exactField(e *docEntry, a *acc, matches []match) bool {
	for _, fl := range e.fieldLens {
		var seen [8]uint16
		n := 0
		for m := a.head; m >= 0 && n <= len(seen); m = matches[m].next {
			x := &matches[m]
			if x.field != fl.field || slices.Contains(seen[:min(n, len(seen))], x.pos) {
				continue
			}
			if n < len(seen) {
				seen[n] = x.pos
			}
			n++
		}
		if n == int(fl.n) {
			return true
		}
	}
	return false
}

// maxProximity is the distance charged for two words that are far apart,
// in different fields, or not both matched.
const maxProximity = 8

// proximity is how far word wi+1 stands from word wi in the document: 1
// when it follows immediately, more when farther or before it.
func proximity(a *acc, matches []match, wi int) int {
	best := maxProximity
	if a.mask&(1<<wi) == 0 || a.mask&(1<<(wi+1)) == 0 {
		return best
	}
	for i := a.head; i >= 0; i = matches[i].next {
		x := &matches[i]
		if int(x.word) != wi {
			continue
		}
		for j := a.head; j >= 0; j = matches[j].next {
			y := &matches[j]
			if int(y.word) != wi+1 || y.field != x.field {
				continue
			}
			var d int
			if y.pos > x.pos {
				d = int(y.pos - x.pos)
			} else {
				d = int(x.pos-y.pos) + 1
			}
			best = min(best, d)
		}
	}
	return best
}

func (s *state) weight(f uint16) int { return s.fieldWeights[f] }

// less reports whether hit a ranks before hit b.
func (s *state) less(a, b *scored) bool {
	if a.wide != b.wide {
		// Hits found only by widening the typo budget come after all
		// the others, whatever the ranking: pages stay consistent.
		return b.wide
	}
	for _, r := range s.cfg.ranking {
		var c int
		switch r {
		case ByWords:
			c = cmp.Compare(b.words, a.words)
		case ByTypos:
			c = cmp.Compare(a.typos, b.typos)
		case ByProximity:
			c = cmp.Compare(a.prox, b.prox)
		case ByField:
			c = cmp.Compare(b.weigh, a.weigh)
			if c == 0 && a.exact != b.exact {
				// A field made only of the query's words matches exactly.
				c = 1
				if a.exact {
					c = -1
				}
			}
		case ByPopularity:
			c = cmp.Compare(b.e.doc.Popularity, a.e.doc.Popularity)
		}
		if c != 0 {
			return c < 0
		}
	}
	if a.detail != b.detail {
		return a.detail < b.detail
	}
	if a.e.tokens != b.e.tokens {
		return a.e.tokens < b.e.tokens
	}
	return a.e.doc.ID < b.e.doc.ID
}
