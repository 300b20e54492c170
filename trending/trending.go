package trending

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"
)

// Options configure a [Tracker]. The zero value of every field selects the
// documented default; a nil *Options selects all defaults.
type Options struct {
	// Window is the sliding window trends are counted over. Zero means
	// one hour.
	Window time.Duration
	// Bucket is the window's granularity: counts expire a bucket at a
	// time. It must divide Window. Zero means one minute.
	Bucket time.Duration
	// Baseline is how far back before the window the normal rate of a term
	// is measured, for velocity. It must be a multiple of Window. Zero
	// means 6 windows.
	Baseline time.Duration
	// Exact counts every term exactly instead of sketching: memory grows
	// with the number of distinct terms. For small data and tests.
	Exact bool
	// Width and Depth size the count-min sketch of each bucket, in
	// counters per row and rows. Zero means 4096 and 4.
	Width, Depth int
	// Candidates is how many top terms each bucket tracks. Zero means 256.
	Candidates int
	// Seed seeds the sketch hashes. Trackers whose windows are merged
	// (shards of one stream) must share it; the default (zero) is shared
	// by all.
	Seed uint64
	// StopWords are dropped before counting. Nil means a built-in English
	// list; an empty non-nil slice drops nothing.
	StopWords []string
	// MinLength is the least length of a term in runes. Zero means 2.
	MinLength int
	// MaxRegions caps the regions tracked besides the global one. Zero
	// means 100. Each region holds up to Window/Bucket + Baseline/Window + 2
	// sketches of Width*Depth*8 bytes: 8.5 MiB with the defaults (sketches
	// of buckets that saw nothing are not allocated).
	MaxRegions int
	// Now is the clock. Nil means time.Now.
	Now func() time.Time
}

// Trend is a term's figures in a region.
type Trend struct {
	Term string `json:"term"`
	// Count is the (estimated) occurrences in the window.
	Count uint64 `json:"count"`
	// Baseline is the (estimated) occurrences in the baseline period.
	Baseline uint64 `json:"baseline"`
	// Velocity is the window's rate over the baseline's rate, each
	// smoothed by one occurrence per window: 1 is usual, 10 is ten times
	// the usual rate.
	Velocity float64 `json:"velocity"`
}

// Stats counts what a Tracker did.
type Stats struct {
	Terms    uint64 // terms counted
	Late     uint64 // observations older than the window, dropped
	Regions  int    // regions tracked, the global one included
	Bytes    int    // estimated memory of all sketches
	Distinct int    // distinct terms (exact mode only)
}

// Tracker finds the top and the trending terms of a stream of texts over
// a sliding window, globally and per region. It is safe for concurrent
// use.
type Tracker struct {
	o     Options
	stop  map[string]bool
	nBkt  int   // buckets per window
	nBase int   // windows of baseline
	bkt   int64 // bucket length in ns

	mu      sync.Mutex
	regions map[string]*region
	stats   Stats
}

// region is the ring of one region: the buckets of the window, their
// running sum, and the baseline, one sketch per aligned window.
type region struct {
	buckets []*Sketch // by bucket index % buckets per window
	idx     []int64   // bucket index of each slot
	head    int64     // newest bucket index, -1 before the first observation
	started int64     // first bucket index observed
	window  *Sketch   // sum of the live buckets
	base    []*Sketch // expired buckets summed per aligned window, by window number % len
	baseW   []int64   // window number of each base slot
}

// New returns a Tracker. It starts no goroutine.
func New(opts *Options) (*Tracker, error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.Window == 0 {
		o.Window = time.Hour
	}
	if o.Bucket == 0 {
		o.Bucket = time.Minute
	}
	if o.Baseline == 0 {
		o.Baseline = 6 * o.Window
	}
	if o.Width == 0 {
		o.Width = 4096
	}
	if o.Depth == 0 {
		o.Depth = 4
	}
	if o.Candidates == 0 {
		o.Candidates = 256
	}
	if o.MinLength == 0 {
		o.MinLength = 2
	}
	if o.MaxRegions == 0 {
		o.MaxRegions = 100
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	switch {
	case o.Bucket <= 0 || o.Window <= 0 || o.Window%o.Bucket != 0:
		return nil, fmt.Errorf("%w: window %v is not a positive multiple of bucket %v", ErrInvalidOptions, o.Window, o.Bucket)
	case o.Window/o.Bucket > 10000:
		return nil, fmt.Errorf("%w: %d buckets per window", ErrInvalidOptions, o.Window/o.Bucket)
	case o.Baseline < 0 || o.Baseline%o.Window != 0 || o.Baseline/o.Window > 1000:
		return nil, fmt.Errorf("%w: baseline %v is not a multiple of window %v", ErrInvalidOptions, o.Baseline, o.Window)
	case o.Width < 1 || o.Depth < 1 || o.Depth > 16 || o.Candidates < 1:
		return nil, fmt.Errorf("%w: sketch %dx%d, %d candidates", ErrInvalidOptions, o.Width, o.Depth, o.Candidates)
	case o.MinLength < 1 || o.MaxRegions < 0:
		return nil, fmt.Errorf("%w: min length %d, max regions %d", ErrInvalidOptions, o.MinLength, o.MaxRegions)
	}
	words := o.StopWords
	if words == nil {
		words = strings.Fields(englishStopWords)
	}
	stop := make(map[string]bool, len(words))
	for _, w := range words {
		stop[strings.ToLower(w)] = true
	}
	return &Tracker{o: o, stop: stop, nBkt: int(o.Window / o.Bucket), nBase: int(o.Baseline / o.Window),
		bkt: int64(o.Bucket), regions: map[string]*region{}}, nil
}

func (t *Tracker) newSketch() *Sketch {
	if t.o.Exact {
		return NewExact()
	}
	s, _ := NewSketch(t.o.Width, t.o.Depth, t.o.Candidates, t.o.Seed)
	return s
}

func (t *Tracker) region(name string, create bool) (*region, error) {
	r, ok := t.regions[name]
	if ok || !create {
		return r, nil
	}
	if _, global := t.regions[""]; name != "" && global && len(t.regions)-1 >= t.o.MaxRegions {
		return nil, ErrTooManyRegions
	}
	r = &region{buckets: make([]*Sketch, t.nBkt), idx: make([]int64, t.nBkt), head: -1, window: t.newSketch()}
	if t.nBase > 0 {
		r.base, r.baseW = make([]*Sketch, t.nBase+1), make([]int64, t.nBase+1)
	}
	t.regions[name] = r
	return r, nil
}

// advance moves r's newest bucket to index b, expiring the buckets that
// fall out of the window into the baseline.
func (t *Tracker) advance(r *region, b int64) {
	if r.head < 0 {
		r.head, r.started = b, b
		return
	}
	if b <= r.head {
		return
	}
	n := int64(t.nBkt)
	for h := max(r.head+1, b-n+1); h <= b; h++ {
		slot := int(h % n)
		if s := r.buckets[slot]; s != nil {
			t.expire(r, s, r.idx[slot])
			r.buckets[slot] = nil
		}
	}
	r.head = b
}

// expire removes bucket s (index idx) from the window sum and adds it to
// the baseline sketch of its aligned window.
func (t *Tracker) expire(r *region, s *Sketch, idx int64) {
	w := r.window
	w.total -= s.total
	if w.exact != nil {
		for term, c := range s.exact {
			if w.exact[term] -= c; w.exact[term] == 0 {
				delete(w.exact, term)
			}
		}
	} else {
		for i, c := range s.counts {
			w.counts[i] -= c
		}
	}
	if len(r.base) == 0 {
		return
	}
	win := idx / int64(t.nBkt)
	slot := int(win % int64(len(r.base)))
	if r.base[slot] == nil {
		r.base[slot] = t.newSketch()
	} else if r.baseW[slot] != win {
		r.base[slot].reset()
	}
	r.baseW[slot] = win
	r.base[slot].Merge(s)
}

// baseline returns, for r at its head, the estimate of term over the
// baseline and how many buckets of time the baseline covers.
func (t *Tracker) baseline(r *region, term string) uint64 {
	var sum uint64
	lo, hi := t.baseRange(r)
	for i, s := range r.base {
		if s != nil && r.baseW[i] >= lo && r.baseW[i] <= hi {
			sum += s.Estimate(term)
		}
	}
	return sum
}

// baseRange returns the window numbers the baseline spans: Options.Baseline
// before the window of the oldest live bucket, up to that window.
func (t *Tracker) baseRange(r *region) (lo, hi int64) {
	oldest := r.head - int64(t.nBkt) + 1
	hi = oldest / int64(t.nBkt)
	return hi - int64(t.nBase), hi
}

// covered returns how many buckets of time the baseline covers, from the
// first observation on.
func (t *Tracker) covered(r *region) int64 {
	oldest := r.head - int64(t.nBkt) + 1
	lo, _ := t.baseRange(r)
	return max(0, oldest-max(r.started, lo*int64(t.nBkt)))
}

// Observe counts the terms of text, said now in region ("" for none).
func (t *Tracker) Observe(region, text string) error {
	return t.ObserveAt(region, text, t.o.Now())
}

// ObserveAt counts the terms of text, said at the given time in region.
// Every observation also counts in the global region "". Texts older than
// the window are dropped. A region beyond Options.MaxRegions returns
// ErrTooManyRegions (the text still counts globally).
func (t *Tracker) ObserveAt(region, text string, at time.Time) error {
	var list []string
	terms(text, t.stop, t.o.MinLength, func(w string) { list = append(list, w) })
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.count(region, list, 1, at)
}

// AddTerm counts n occurrences of term as it is (no stop words, no
// splitting), at the given time in region.
func (t *Tracker) AddTerm(region, term string, n uint64, at time.Time) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.count(region, []string{term}, n, at)
}

func (t *Tracker) count(name string, list []string, n uint64, at time.Time) error {
	b := at.UnixNano() / t.bkt
	var err error
	for _, rn := range []string{"", name} {
		r, e := t.region(rn, true)
		if e != nil {
			err = e
			continue
		}
		t.advance(r, b)
		if b <= r.head-int64(t.nBkt) {
			if rn == "" {
				t.stats.Late++
			}
			continue
		}
		slot := int(b % int64(t.nBkt))
		s := r.buckets[slot]
		if s == nil {
			s = t.newSketch()
			r.buckets[slot], r.idx[slot] = s, b
		}
		for _, term := range list {
			if s.exact != nil {
				s.add(term, n, nil)
				r.window.add(term, n, nil)
				continue
			}
			w := r.window
			w.total += n
			s.add(term, n, func(i int, d uint64) { w.counts[i] += d })
		}
		if rn == "" {
			t.stats.Terms += uint64(len(list)) * n
		}
		if name == "" {
			break
		}
	}
	return err
}

// Top returns the k terms most frequent in region's window ("" for all
// regions), most frequent first.
func (t *Tracker) Top(region string, k int) []Count {
	t.mu.Lock()
	defer t.mu.Unlock()
	r, _ := t.region(region, false)
	if r == nil {
		return nil
	}
	t.advance(r, t.o.Now().UnixNano()/t.bkt)
	return topOf(t.candidates(r), r.window.Estimate, k)
}

func (t *Tracker) candidates(r *region) []string {
	if r.window.exact != nil {
		return r.window.Candidates()
	}
	seen := map[string]bool{}
	var out []string
	for _, s := range r.buckets {
		if s == nil {
			continue
		}
		for _, c := range s.cands.items {
			if !seen[c.term] {
				seen[c.term] = true
				out = append(out, c.term)
			}
		}
	}
	return out
}

// Trending returns up to k terms of region's window whose rate rose the
// most over their baseline rate, with at least minCount occurrences in
// the window, highest velocity first. The baseline is the time before the
// window, Options.Baseline long (less while the tracker is younger);
// Velocity compares occurrences per window, each plus one.
func (t *Tracker) Trending(region string, k int, minCount uint64) []Trend {
	t.mu.Lock()
	defer t.mu.Unlock()
	r, _ := t.region(region, false)
	if r == nil {
		return nil
	}
	now := t.o.Now().UnixNano() / t.bkt
	t.advance(r, now)
	cov := float64(t.covered(r))
	var out []Trend
	for _, term := range t.candidates(r) {
		c := r.window.Estimate(term)
		if c < max(minCount, 1) {
			continue
		}
		var base uint64
		perWindow := 0.0
		if cov > 0 {
			base = t.baseline(r, term)
			perWindow = float64(base) * float64(t.nBkt) / cov
		}
		out = append(out, Trend{Term: term, Count: c, Baseline: base, Velocity: (float64(c) + 1) / (perWindow + 1)})
	}
	slices.SortFunc(out, func(a, b Trend) int {
		if c := cmp.Compare(b.Velocity, a.Velocity); c != 0 {
			return c
		}
		if c := cmp.Compare(b.Count, a.Count); c != 0 {
			return c
		}
		return cmp.Compare(a.Term, b.Term)
	})
	return out[:min(k, len(out))]
}

// Window returns a copy of region's window as a Sketch, with the union of
// its buckets' candidates: merge the windows of several shards with
// Sketch.Merge and call Top on the result.
func (t *Tracker) Window(region string) *Sketch {
	t.mu.Lock()
	defer t.mu.Unlock()
	r, _ := t.region(region, false)
	if r == nil {
		return t.newSketch()
	}
	t.advance(r, t.o.Now().UnixNano()/t.bkt)
	w := r.window.clone()
	if w.exact == nil {
		w.cands = candHeap{pos: map[string]int{}}
		w.capacity = max(w.capacity, t.o.Candidates)
		for _, term := range t.candidates(r) {
			w.offer(term, w.Estimate(term))
		}
	}
	return w
}

// Stats returns the counters and sizes.
func (t *Tracker) Stats() Stats {
	t.mu.Lock()
	defer t.mu.Unlock()
	st := t.stats
	st.Regions = len(t.regions)
	for _, r := range t.regions {
		for _, s := range r.buckets {
			if s != nil {
				st.Bytes += s.Bytes()
			}
		}
		for _, s := range r.base {
			if s != nil {
				st.Bytes += s.Bytes()
			}
		}
		st.Bytes += r.window.Bytes()
	}
	if g := t.regions[""]; g != nil && g.window.exact != nil {
		st.Distinct = len(g.window.exact)
	}
	return st
}
