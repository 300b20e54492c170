package storetest

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/sysblocks/sysblocks/tokenrange"
)

// Config describes the store under test.
type Config struct {
	// Open returns a new handle on the backend under test. Handles from
	// one Run must share their counters.
	Open func(tb testing.TB) tokenrange.Store

	// Handles is the number of handles in the concurrent cases. Zero
	// means 4.
	Handles int

	// Reserves is the number of Reserve calls in the concurrent cases.
	// Zero means 400.
	Reserves int
}

func (c *Config) defaults() {
	if c.Handles <= 0 {
		c.Handles = 4
	}
	if c.Reserves <= 0 {
		c.Reserves = 400
	}
}

// Namespace returns a namespace unique to this call, for tests that share a
// backend.
func Namespace(prefix string) string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return prefix + "-" + hex.EncodeToString(b)
}

// Run runs the conformance suite as subtests of t.
func Run(t *testing.T, cfg Config) {
	if cfg.Open == nil {
		t.Fatal("storetest: Config.Open is nil")
	}
	cfg.defaults()
	for _, tc := range []struct {
		name string
		fn   func(*testing.T, Config)
	}{
		{"Sequence", testSequence},
		{"Namespaces", testNamespaces},
		{"PartialLastRange", testPartialLastRange},
		{"ExactEnd", testExactEnd},
		{"LargeValues", testLargeValues},
		{"Cancelled", testCancelled},
		{"Audit", testAudit},
		{"ConcurrentDisjoint", testConcurrentDisjoint},
		{"ConcurrentExhaustion", testConcurrentExhaustion},
		{"Leasers", testLeasers},
	} {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, cfg) })
	}
}

func reserve(t *testing.T, s tokenrange.Store, ns string, n, limit uint64) tokenrange.Range {
	t.Helper()
	r, err := s.Reserve(context.Background(), ns, n, limit)
	if err != nil {
		t.Fatalf("Reserve(%q, %d, %d): %v", ns, n, limit, err)
	}
	return r
}

func counter(t *testing.T, s tokenrange.Store, ns string) uint64 {
	t.Helper()
	c, err := s.Counter(context.Background(), ns)
	if err != nil {
		t.Fatalf("Counter(%q): %v", ns, err)
	}
	return c
}

// Rule: a fresh namespace starts at 0 and ranges follow one another.
func testSequence(t *testing.T, cfg Config) {
	s := cfg.Open(t)
	ns := Namespace("seq")
	if c := counter(t, s, ns); c != 0 {
		t.Fatalf("Counter of a fresh namespace = %d; want 0", c)
	}
	want := []tokenrange.Range{{Lo: 0, Hi: 10}, {Lo: 10, Hi: 15}, {Lo: 15, Hi: 16}, {Lo: 16, Hi: 116}}
	for i, n := range []uint64{10, 5, 1, 100} {
		if got := reserve(t, s, ns, n, 1000); got != want[i] {
			t.Fatalf("Reserve #%d of %d: got %v; want %v", i, n, got, want[i])
		}
	}
	if c := counter(t, s, ns); c != 116 {
		t.Fatalf("Counter = %d; want 116", c)
	}
	// A second handle sees the same counter.
	if got := reserve(t, cfg.Open(t), ns, 4, 1000); got != (tokenrange.Range{Lo: 116, Hi: 120}) {
		t.Fatalf("Reserve on a second handle: got %v; want [116, 120)", got)
	}
}

// Rule: namespaces have independent counters, and names differ by case.
func testNamespaces(t *testing.T, cfg Config) {
	s := cfg.Open(t)
	a, b := Namespace("nsa"), Namespace("nsb")
	reserve(t, s, a, 50, 1000)
	if got := reserve(t, s, b, 7, 1000); got != (tokenrange.Range{Lo: 0, Hi: 7}) {
		t.Fatalf("first range of a second namespace: got %v; want [0, 7)", got)
	}
	if got := reserve(t, s, a, 1, 1000); got != (tokenrange.Range{Lo: 50, Hi: 51}) {
		t.Fatalf("namespace a after b: got %v; want [50, 51)", got)
	}
	upper := strings.ToUpper(a)
	if got := reserve(t, s, upper, 2, 1000); got != (tokenrange.Range{Lo: 0, Hi: 2}) {
		t.Fatalf("namespace %q after %q: got %v; want [0, 2): names are case-sensitive", upper, a, got)
	}
	long := strings.Repeat("x", tokenrange.MaxNamespaceLen-13) + Namespace("")
	if got := reserve(t, s, long, 3, 1000); got != (tokenrange.Range{Lo: 0, Hi: 3}) {
		t.Fatalf("namespace of %d bytes: got %v; want [0, 3)", len(long), got)
	}
}

// Rule: the last range is cut at the limit, then ErrExhausted, which
// changes nothing.
func testPartialLastRange(t *testing.T, cfg Config) {
	s := cfg.Open(t)
	ns := Namespace("part")
	for i, want := range []tokenrange.Range{{Lo: 0, Hi: 10}, {Lo: 10, Hi: 20}, {Lo: 20, Hi: 25}} {
		if got := reserve(t, s, ns, 10, 25); got != want {
			t.Fatalf("Reserve #%d: got %v; want %v", i, got, want)
		}
	}
	for range 3 {
		r, err := s.Reserve(context.Background(), ns, 10, 25)
		if !errors.Is(err, tokenrange.ErrExhausted) {
			t.Fatalf("Reserve past the limit: got %v, %v; want ErrExhausted", r, err)
		}
	}
	if c := counter(t, s, ns); min(c, 25) != 25 {
		t.Fatalf("Counter after exhaustion = %d; want >= 25", c)
	}
}

// Rule: a range ending exactly at the limit is whole; the next call is
// ErrExhausted. A limit of 1 gives one token.
func testExactEnd(t *testing.T, cfg Config) {
	s := cfg.Open(t)
	ns := Namespace("exact")
	reserve(t, s, ns, 10, 20)
	if got := reserve(t, s, ns, 10, 20); got != (tokenrange.Range{Lo: 10, Hi: 20}) {
		t.Fatalf("got %v; want [10, 20)", got)
	}
	if _, err := s.Reserve(context.Background(), ns, 1, 20); !errors.Is(err, tokenrange.ErrExhausted) {
		t.Fatalf("Reserve at the limit: err %v; want ErrExhausted", err)
	}
	one := Namespace("one")
	if got := reserve(t, s, one, 5, 1); got != (tokenrange.Range{Lo: 0, Hi: 1}) {
		t.Fatalf("limit 1: got %v; want [0, 1)", got)
	}
	if _, err := s.Reserve(context.Background(), one, 5, 1); !errors.Is(err, tokenrange.ErrExhausted) {
		t.Fatalf("limit 1, second call: err %v; want ErrExhausted", err)
	}
}

// Rule: ranges of MaxRangeSize and counters far above 2^32 are exact.
func testLargeValues(t *testing.T, cfg Config) {
	s := cfg.Open(t)
	ns := Namespace("large")
	m := tokenrange.MaxRangeSize
	for i := range uint64(3) {
		want := tokenrange.Range{Lo: i * m, Hi: (i + 1) * m}
		if got := reserve(t, s, ns, m, tokenrange.MaxLimit); got != want {
			t.Fatalf("Reserve #%d of MaxRangeSize: got %v; want %v", i, got, want)
		}
	}
	limit := 3*m + 12345
	if got := reserve(t, s, ns, m, limit); got != (tokenrange.Range{Lo: 3 * m, Hi: limit}) {
		t.Fatalf("partial range at %d: got %v", limit, got)
	}
}

// Rule: a cancelled context returns its error and issues nothing.
func testCancelled(t *testing.T, cfg Config) {
	s := cfg.Open(t)
	ns := Namespace("cancel")
	reserve(t, s, ns, 3, 100)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.Reserve(ctx, ns, 5, 100); !errors.Is(err, context.Canceled) {
		t.Fatalf("Reserve with a cancelled context: err %v; want context.Canceled", err)
	}
	if _, err := s.Counter(ctx, ns); !errors.Is(err, context.Canceled) {
		t.Fatalf("Counter with a cancelled context: err %v; want context.Canceled", err)
	}
	if c := counter(t, s, ns); c != 3 {
		t.Fatalf("Counter after a cancelled Reserve = %d; want 3", c)
	}
}

// Rule: an Auditor records every issued range, in order.
func testAudit(t *testing.T, cfg Config) {
	s := cfg.Open(t)
	a, ok := s.(tokenrange.Auditor)
	if !ok {
		t.Log("store does not implement tokenrange.Auditor; nothing to check")
		return
	}
	ns := Namespace("audit")
	var want []tokenrange.Range
	for _, n := range []uint64{4, 1, 9} {
		want = append(want, reserve(t, s, ns, n, 12))
	}
	got, err := a.Issued(context.Background(), ns)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, want) {
		t.Fatalf("Issued = %v; want %v", got, want)
	}
	if got, _ := a.Issued(context.Background(), Namespace("none")); len(got) != 0 {
		t.Fatalf("Issued of a fresh namespace = %v; want none", got)
	}
}

// CheckDisjoint sorts ranges and reports the first overlap, and the number
// of tokens below the highest end that no range covers (the gap).
func CheckDisjoint(ranges []tokenrange.Range) (gap uint64, err error) {
	rs := slices.Clone(ranges)
	slices.SortFunc(rs, func(a, b tokenrange.Range) int { return cmp.Compare(a.Lo, b.Lo) })
	var end uint64
	for i, r := range rs {
		if r.Lo >= r.Hi {
			return 0, fmt.Errorf("empty range %v", r)
		}
		if i > 0 && r.Lo < end {
			return 0, fmt.Errorf("ranges %v and %v overlap", rs[i-1], r)
		}
		gap += r.Lo - end
		end = r.Hi
	}
	return gap, nil
}

// allocateConcurrently runs cfg.Reserves Reserve calls of random sizes in
// [1, maxN] spread over cfg.Handles handles with 4 goroutines each, until
// the count is reached or the space is exhausted.
func allocateConcurrently(t *testing.T, cfg Config, ns string, maxN, limit uint64) []tokenrange.Range {
	var (
		mu     sync.Mutex
		ranges []tokenrange.Range
		left   = cfg.Reserves
		wg     sync.WaitGroup
		errs   = make(chan error, cfg.Handles*4)
	)
	for h := range cfg.Handles {
		s := cfg.Open(t)
		alloc, err := tokenrange.NewAllocator(s, &tokenrange.AllocatorOptions{Limit: limit, MaxAttempts: 50})
		if err != nil {
			t.Fatal(err)
		}
		for g := range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				rnd := mrand.New(mrand.NewPCG(uint64(h), uint64(g)))
				for {
					mu.Lock()
					if left == 0 {
						mu.Unlock()
						return
					}
					left--
					mu.Unlock()
					r, err := alloc.Allocate(context.Background(), ns, 1+rnd.Uint64N(maxN))
					if errors.Is(err, tokenrange.ErrExhausted) {
						return
					}
					if err != nil {
						errs <- err
						return
					}
					mu.Lock()
					ranges = append(ranges, r)
					mu.Unlock()
				}
			}()
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("Allocate: %v", err)
	}
	return ranges
}

// Rule: many allocators on many handles never get overlapping ranges, and
// with no crash the ranges cover [0, counter) with no gap.
func testConcurrentDisjoint(t *testing.T, cfg Config) {
	ns := Namespace("conc")
	ranges := allocateConcurrently(t, cfg, ns, 50, tokenrange.MaxLimit)
	if len(ranges) != cfg.Reserves {
		t.Fatalf("got %d ranges; want %d", len(ranges), cfg.Reserves)
	}
	gap, err := CheckDisjoint(ranges)
	if err != nil {
		t.Fatal(err)
	}
	var total uint64
	for _, r := range ranges {
		total += r.Len()
	}
	if c := counter(t, cfg.Open(t), ns); gap != 0 || c != total {
		t.Fatalf("gap %d, counter %d, tokens issued %d; want gap 0 and counter == tokens", gap, c, total)
	}
	if a, ok := cfg.Open(t).(tokenrange.Auditor); ok {
		issued, err := a.Issued(context.Background(), ns)
		if err != nil {
			t.Fatal(err)
		}
		want := slices.Clone(ranges)
		slices.SortFunc(want, func(a, b tokenrange.Range) int { return cmp.Compare(a.Lo, b.Lo) })
		if !slices.Equal(issued, want) {
			t.Fatalf("audit log holds %d ranges; want the %d issued", len(issued), len(want))
		}
	}
}

// Rule: under contention at the end of the space exactly [0, limit) is
// issued, once.
func testConcurrentExhaustion(t *testing.T, cfg Config) {
	ns := Namespace("exh")
	const limit = 1000
	c := cfg
	c.Reserves = 1 << 30 // run until exhausted
	ranges := allocateConcurrently(t, c, ns, 17, limit)
	gap, err := CheckDisjoint(ranges)
	if err != nil {
		t.Fatal(err)
	}
	var total uint64
	for _, r := range ranges {
		total += r.Len()
		if r.Hi > limit {
			t.Fatalf("range %v passes the limit %d", r, limit)
		}
	}
	if gap != 0 || total != limit {
		t.Fatalf("issued %d tokens with gap %d; want %d with no gap", total, gap, limit)
	}
}

// Rule: Leasers on several handles hand out distinct tokens, and every
// token leased is accounted for: served, or left in a Leaser's ranges.
func testLeasers(t *testing.T, cfg Config) {
	ns := Namespace("lease")
	const perGoroutine = 3000
	var (
		mu   sync.Mutex
		seen = make(map[uint64]bool)
		wg   sync.WaitGroup
	)
	leasers := make([]*tokenrange.Leaser, cfg.Handles)
	ctx, cancel := context.WithCancel(context.Background())
	var runs sync.WaitGroup
	for h := range cfg.Handles {
		alloc, err := tokenrange.NewAllocator(cfg.Open(t), &tokenrange.AllocatorOptions{MaxAttempts: 50})
		if err != nil {
			t.Fatal(err)
		}
		l, err := tokenrange.NewLeaser(alloc, ns, &tokenrange.LeaserOptions{MinSize: 10, MaxSize: 200})
		if err != nil {
			t.Fatal(err)
		}
		leasers[h] = l
		if h%2 == 0 { // half with background refill, half without
			runs.Go(func() { _ = l.Run(ctx) })
		}
		for range 3 {
			wg.Go(func() {
				local := make([]uint64, 0, perGoroutine)
				for range perGoroutine {
					tok, err := l.Next(context.Background())
					if err != nil {
						t.Errorf("Next: %v", err)
						return
					}
					local = append(local, tok)
				}
				mu.Lock()
				defer mu.Unlock()
				for _, tok := range local {
					if seen[tok] {
						t.Errorf("token %d handed out twice", tok)
						return
					}
					seen[tok] = true
				}
			})
		}
	}
	wg.Wait()
	cancel()
	runs.Wait()
	var leased, served uint64
	for _, l := range leasers {
		st := l.Stats()
		leased += st.Leased
		served += st.Served
		if st.Leased-st.Served > 2*200 {
			t.Errorf("a Leaser holds %d unused tokens; want <= 2*MaxSize", st.Leased-st.Served)
		}
		_ = l.Close()
	}
	if want := uint64(cfg.Handles * 3 * perGoroutine); served != want || uint64(len(seen)) != want {
		t.Fatalf("served %d, distinct %d; want %d", served, len(seen), want)
	}
	if c := counter(t, cfg.Open(t), ns); c != leased {
		t.Fatalf("counter %d; want the %d tokens leased", c, leased)
	}
}
