package trending_test

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/sysblocks/sysblocks/trending"
)

// zipf returns a stream of n terms over a vocabulary of v, Zipf-distributed
// with exponent s.
func zipf(seed uint64, n, v int, s float64) []string {
	r := rand.New(rand.NewPCG(seed, 5))
	z := rand.NewZipf(r, s, 1, uint64(v-1))
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("t%d", z.Uint64())
	}
	return out
}

func exactTop(counts map[string]uint64, k int) []trending.Count {
	var all []trending.Count
	for t, c := range counts {
		all = append(all, trending.Count{Term: t, Count: c})
	}
	slices.SortFunc(all, func(a, b trending.Count) int {
		if a.Count != b.Count {
			if a.Count > b.Count {
				return -1
			}
			return 1
		}
		if a.Term < b.Term {
			return -1
		}
		return 1
	})
	return all[:min(k, len(all))]
}

// recall is the share of want's terms found in got, counting ties at the
// k-th count as found when got holds a term with that count.
func recall(got, want []trending.Count) float64 {
	if len(want) == 0 {
		return 1
	}
	in := map[string]bool{}
	for _, c := range got {
		in[c.Term] = true
	}
	hit := 0
	for _, c := range want {
		if in[c.Term] {
			hit++
		}
	}
	return float64(hit) / float64(len(want))
}

func TestSketchNeverUndercounts(t *testing.T) {
	seed := uint64(1)
	s, err := trending.NewSketch(256, 4, 32, seed)
	if err != nil {
		t.Fatal(err)
	}
	exact := map[string]uint64{}
	for _, term := range zipf(1, 50000, 5000, 1.2) {
		s.Add(term, 1)
		exact[term]++
	}
	over := 0
	for term, c := range exact {
		e := s.Estimate(term)
		if e < c {
			t.Fatalf("Estimate(%s) = %d below the true %d", term, e, c)
		}
		if e > c {
			over++
		}
	}
	if over == 0 {
		t.Fatal("a 256-wide sketch of 5000 terms never overcounted: is it a sketch?")
	}
	if s.Total() != 50000 {
		t.Fatalf("Total = %d; want 50000", s.Total())
	}
}

// TestTopKRecallZipf compares the sketch's top k with exact counts on a
// Zipf stream, at a memory far below the exact map's.
func TestTopKRecallZipf(t *testing.T) {
	stream := zipf(2, 300000, 100000, 1.1)
	exact := map[string]uint64{}
	for _, term := range stream {
		exact[term]++
	}
	for _, c := range []struct {
		width, depth, cands, k int
		min                    float64
	}{
		{2048, 4, 256, 10, 0.9},
		{2048, 4, 256, 50, 0.9},
		{1024, 4, 128, 100, 0.8},
	} {
		s, _ := trending.NewSketch(c.width, c.depth, c.cands, 1)
		for _, term := range stream {
			s.Add(term, 1)
		}
		want := exactTop(exact, c.k)
		got := s.Top(c.k)
		if r := recall(got, want); r < c.min {
			t.Errorf("%dx%d, %d candidates: recall@%d = %.2f; want >= %.2f", c.width, c.depth, c.cands, c.k, r, c.min)
		}
		ex := trending.NewExact()
		for _, term := range stream {
			ex.Add(term, 1)
		}
		if s.Bytes()*5 > ex.Bytes() {
			t.Errorf("sketch %d bytes is not much smaller than the exact map's %d", s.Bytes(), ex.Bytes())
		}
	}
}

func TestMerge(t *testing.T) {
	seed := uint64(1)
	stream := zipf(3, 100000, 20000, 1.1)
	a, _ := trending.NewSketch(2048, 4, 256, seed)
	b, _ := trending.NewSketch(2048, 4, 256, seed)
	ea, eb := trending.NewExact(), trending.NewExact()
	exact := map[string]uint64{}
	for i, term := range stream {
		exact[term]++
		if i%2 == 0 {
			a.Add(term, 1)
			ea.Add(term, 1)
		} else {
			b.Add(term, 1)
			eb.Add(term, 1)
		}
	}
	if err := a.Merge(b); err != nil {
		t.Fatal(err)
	}
	if err := ea.Merge(eb); err != nil {
		t.Fatal(err)
	}
	for term, c := range exact {
		if a.Estimate(term) < c {
			t.Fatalf("merged estimate of %s = %d below %d", term, a.Estimate(term), c)
		}
		if ea.Estimate(term) != c {
			t.Fatalf("merged exact count of %s = %d; want %d", term, ea.Estimate(term), c)
		}
	}
	if r := recall(a.Top(20), exactTop(exact, 20)); r < 1 {
		t.Errorf("merged recall@20 = %.2f; want 1", r)
	}
	other, _ := trending.NewSketch(2048, 4, 256, 2)
	small, _ := trending.NewSketch(1024, 4, 256, seed)
	for _, o := range []*trending.Sketch{other, small, trending.NewExact()} {
		if err := a.Merge(o); !errors.Is(err, trending.ErrIncompatible) {
			t.Errorf("Merge of an incompatible sketch = %v; want ErrIncompatible", err)
		}
	}
}

type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

// windowModel mirrors the tracker's rules for one region: an observation
// is dropped when its bucket already left the window of the region when it
// arrived; Top counts the accepted ones whose bucket is still in the window.
type windowModel struct {
	head     int64
	accepted []acceptedObs
}

type acceptedObs struct {
	bucket int64
	term   string
}

func (m *windowModel) add(bucket, n int64, term string) {
	if m.head == 0 {
		m.head = bucket
	}
	m.head = max(m.head, bucket)
	if bucket > m.head-n {
		m.accepted = append(m.accepted, acceptedObs{bucket, term})
	}
}

func (m *windowModel) counts(now, n int64) map[string]uint64 {
	if m.head != 0 {
		m.head = max(m.head, now)
	}
	out := map[string]uint64{}
	for _, o := range m.accepted {
		if o.bucket > m.head-n {
			out[o.term]++
		}
	}
	return out
}

// TestSlidingWindowExact drives an exact tracker and a sketching one with
// observations at random times, moving forward with occasional late
// arrivals, and checks Top against a model of the window built from the
// raw observations.
func TestSlidingWindowExact(t *testing.T) {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	c := &clock{t: start}
	opts := trending.Options{Window: 10 * time.Minute, Bucket: time.Minute, Now: c.now, StopWords: []string{}}
	exactOpts := opts
	exactOpts.Exact = true
	ex, _ := trending.New(&exactOpts)
	sk, _ := trending.New(&opts)
	r := rand.New(rand.NewPCG(4, 4))
	n := int64(opts.Window / opts.Bucket)
	bucket := func(at time.Time) int64 { return at.UnixNano() / int64(opts.Bucket) }
	regions := []string{"", "paris", "lyon"}
	models := map[string]*windowModel{"": {}, "paris": {}, "lyon": {}}
	late := 0
	for step := range 4000 {
		c.t = c.t.Add(time.Duration(r.IntN(3)) * time.Second * 7)
		at := c.t
		if r.IntN(10) == 0 {
			at = at.Add(-time.Duration(r.IntN(15)) * time.Minute) // late, maybe too late
			if bucket(at) <= bucket(c.t)-n {
				late++
			}
		}
		term := fmt.Sprintf("w%d", int(r.ExpFloat64()*4))
		region := regions[r.IntN(len(regions))]
		ex.AddTerm(region, term, 1, at)
		sk.AddTerm(region, term, 1, at)
		models[""].add(bucket(at), n, term)
		if region != "" {
			models[region].add(bucket(at), n, term)
		}
		if step%100 == 99 {
			for _, reg := range regions {
				checkWindow(t, ex, sk, reg, models[reg].counts(bucket(c.t), n), c.t)
			}
		}
	}
	if late == 0 {
		t.Fatal("no observation arrived too late")
	}
	// Jump past the window: everything expires.
	c.t = c.t.Add(time.Hour)
	if top := ex.Top("", 5); len(top) != 0 {
		t.Fatalf("after an hour of silence Top = %v; want empty", top)
	}
}

func checkWindow(t *testing.T, ex, sk *trending.Tracker, region string, want map[string]uint64, now time.Time) {
	t.Helper()
	got := ex.Top(region, 1000)
	if len(got) != len(want) {
		t.Fatalf("region %q at %v: exact Top has %d terms; want %d", region, now, len(got), len(want))
	}
	for _, c := range got {
		if want[c.Term] != c.Count {
			t.Fatalf("region %q at %v: %s = %d; want %d", region, now, c.Term, c.Count, want[c.Term])
		}
	}
	for _, c := range sk.Top(region, 5) {
		if c.Count < want[c.Term] {
			t.Fatalf("region %q: sketch %s = %d below %d", region, c.Term, c.Count, want[c.Term])
		}
	}
	if r := recall(sk.Top(region, 5), exactTop(want, 5)); r < 0.8 {
		t.Fatalf("region %q: sketch recall@5 %.2f", region, r)
	}
}

func TestTrendingVelocity(t *testing.T) {
	c := &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	tr, _ := trending.New(&trending.Options{Window: time.Hour, Bucket: time.Minute, Baseline: 6 * time.Hour, Now: c.now})
	// Six hours of steady chatter about the weather and a little football.
	for range 6 * 60 {
		for range 20 {
			tr.Observe("", "The weather is nice today")
		}
		tr.Observe("", "football tonight")
		c.t = c.t.Add(time.Minute)
	}
	// Then an earthquake: fewer mentions than the weather, but new.
	for range 60 {
		for range 20 {
			tr.Observe("", "the weather is nice")
		}
		for range 5 {
			tr.Observe("tokyo", "Earthquake in #Tokyo right now!")
		}
		c.t = c.t.Add(time.Minute)
	}
	top := tr.Top("", 3)
	if top[0].Term != "nice" && top[0].Term != "weather" {
		t.Fatalf("Top = %v; want weather words first", top)
	}
	tt := tr.Trending("", 3, 10)
	if len(tt) < 2 || !(tt[0].Term == "earthquake" || tt[0].Term == "#tokyo") || tt[0].Velocity < 100 {
		t.Fatalf("Trending = %+v; want earthquake and #tokyo with a high velocity", tt)
	}
	for _, x := range tt {
		if x.Term == "weather" && x.Velocity > 1.5 {
			t.Fatalf("weather velocity %.2f; want about 1", x.Velocity)
		}
	}
	// The current minute is empty: the window holds the 59 minutes before.
	if rt := tr.Top("tokyo", 5); len(rt) != 3 || rt[0].Count != 295 || rt[2].Term != "right" {
		t.Fatalf("Top(tokyo) = %v; want #tokyo, earthquake, right with 295 each", rt)
	}
	if got := tr.Top("paris", 5); got != nil {
		t.Fatalf("Top of an unseen region = %v; want nil", got)
	}
	for _, c := range tr.Top("", 50) {
		if c.Term == "the" || c.Term == "is" || c.Term == "in" {
			t.Fatalf("stop word %q counted", c.Term)
		}
	}
}

func TestShardsMerge(t *testing.T) {
	c := &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	seed := uint64(1)
	opts := &trending.Options{Window: 10 * time.Minute, Now: c.now, Seed: seed, StopWords: []string{}}
	a, _ := trending.New(opts)
	b, _ := trending.New(opts)
	whole, _ := trending.New(&trending.Options{Window: 10 * time.Minute, Now: c.now, Exact: true, StopWords: []string{}})
	for i, term := range zipf(6, 60000, 10000, 1.1) {
		if i%1000 == 0 {
			c.t = c.t.Add(time.Minute)
		}
		shard := a
		if len(term)%2 == 1 {
			shard = b
		}
		shard.AddTerm("", term, 1, c.t)
		whole.AddTerm("", term, 1, c.t)
	}
	merged := a.Window("")
	if err := merged.Merge(b.Window("")); err != nil {
		t.Fatal(err)
	}
	if r := recall(merged.Top(20), whole.Top("", 20)); r < 0.95 {
		t.Fatalf("merged shards recall@20 = %.2f", r)
	}
}

func TestInvalidOptions(t *testing.T) {
	for _, o := range []trending.Options{
		{Window: time.Hour, Bucket: 7 * time.Minute}, {Bucket: -1}, {Baseline: 90 * time.Minute},
		{Width: -1}, {Depth: 17}, {Candidates: -3}, {MinLength: -1},
	} {
		if _, err := trending.New(&o); !errors.Is(err, trending.ErrInvalidOptions) {
			t.Errorf("New(%+v) = %v; want ErrInvalidOptions", o, err)
		}
	}
	if _, err := trending.NewSketch(0, 4, 1, 1); !errors.Is(err, trending.ErrInvalidOptions) {
		t.Errorf("NewSketch(0, ...) = %v; want ErrInvalidOptions", err)
	}
	tr, _ := trending.New(&trending.Options{MaxRegions: 2})
	for i := range 2 {
		if err := tr.Observe(fmt.Sprint("r", i), "hello world"); err != nil {
			t.Fatal(err)
		}
	}
	if err := tr.Observe("r9", "hello world"); !errors.Is(err, trending.ErrTooManyRegions) {
		t.Fatalf("third region = %v; want ErrTooManyRegions", err)
	}
	if top := tr.Top("", 1); top[0].Count != 3 {
		t.Fatalf("global count %v; want 3 (the refused region still counts globally)", top)
	}
}

func TestConcurrentObserve(t *testing.T) {
	tr, _ := trending.New(&trending.Options{Exact: true})
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 2000 {
				tr.Observe(fmt.Sprint("r", g%3), fmt.Sprintf("golang news%d", i%7))
				if i%100 == 0 {
					tr.Top("", 3)
					tr.Trending("r0", 3, 1)
					tr.Stats()
				}
			}
		})
	}
	wg.Wait()
	top := tr.Top("", 1)
	if top[0].Term != "golang" || top[0].Count != 16000 {
		t.Fatalf("Top = %v; want golang 16000", top)
	}
	if st := tr.Stats(); st.Terms != 32000 || st.Regions != 4 {
		t.Fatalf("stats %+v; want 32000 terms in 4 regions", st)
	}
}

// TestRowsIndependent catches rows that share hash bits: with a
// power-of-two width, double hashing makes a light term collide with a
// heavy one in every row about once per million pairs, which 300,000 light
// terms find. Independent rows make that vanishingly rare.
func TestRowsIndependent(t *testing.T) {
	s, _ := trending.NewSketch(1024, 4, 16, 7)
	for i := range 10 {
		s.Add(fmt.Sprint("heavy", i), 1_000_000)
	}
	inflated := 0
	for i := range 300_000 {
		if s.Add(fmt.Sprint("light", i), 1) >= 1_000_000 {
			inflated++
		}
	}
	if inflated > 0 {
		t.Fatalf("%d light terms estimated as heavy as the heavy ones", inflated)
	}
}
