package tokenrange_test

import (
	"context"
	"errors"
	"math"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/sysblocks/sysblocks/tokenrange"
	"github.com/sysblocks/sysblocks/tokenrange/memstore"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

func newLeaser(t testing.TB, s tokenrange.Store, limit uint64, o *tokenrange.LeaserOptions) *tokenrange.Leaser {
	t.Helper()
	a, err := tokenrange.NewAllocator(s, &tokenrange.AllocatorOptions{Limit: limit})
	if err != nil {
		t.Fatal(err)
	}
	l, err := tokenrange.NewLeaser(a, "links", o)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// run starts l.Run and returns a function that stops it and checks that it
// returned nil.
func run(t testing.TB, l *tokenrange.Leaser) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- l.Run(ctx) }()
	return func() {
		cancel()
		if err := <-errc; err != nil {
			t.Errorf("Run returned %v; want nil", err)
		}
	}
}

// TestLeaserConcurrentUnique runs 4 Leasers (2 with Run, 2 without) with 8
// goroutines each on one store, with tiny ranges so that refills race with
// Next all the time: every token is distinct, and every leased token is
// either served or still held, never more than two ranges per Leaser.
func TestLeaserConcurrentUnique(t *testing.T) {
	const leasers, goroutines, each, maxSize = 4, 8, 3000, 64
	s := memstore.New()
	var (
		mu    sync.Mutex
		seen  = make(map[uint64]bool, leasers*goroutines*each)
		wg    sync.WaitGroup
		stops []func()
		ls    []*tokenrange.Leaser
	)
	for i := range leasers {
		l := newLeaser(t, s, 0, &tokenrange.LeaserOptions{MinSize: 1, MaxSize: maxSize})
		ls = append(ls, l)
		if i%2 == 0 {
			stops = append(stops, run(t, l))
		}
		for range goroutines {
			wg.Go(func() {
				got := make([]uint64, 0, each)
				for range each {
					tok, err := l.Next(context.Background())
					if err != nil {
						t.Errorf("Next: %v", err)
						return
					}
					got = append(got, tok)
				}
				mu.Lock()
				defer mu.Unlock()
				for _, tok := range got {
					if seen[tok] {
						t.Errorf("token %d handed out twice", tok)
					}
					seen[tok] = true
				}
			})
		}
	}
	wg.Wait()
	for _, stop := range stops {
		stop()
	}
	var leased uint64
	for _, l := range ls {
		st := l.Stats()
		if st.Served != goroutines*each {
			t.Errorf("Served = %d; want %d", st.Served, goroutines*each)
		}
		if held := st.Leased - st.Served; held > 2*maxSize {
			t.Errorf("a Leaser holds %d unused tokens; want <= %d", held, 2*maxSize)
		}
		leased += st.Leased
		_ = l.Close()
	}
	if c, _ := s.Counter(context.Background(), "links"); c != leased {
		t.Fatalf("counter %d; want the %d tokens leased", c, leased)
	}
	if len(seen) != leasers*goroutines*each {
		t.Fatalf("%d distinct tokens; want %d", len(seen), leasers*goroutines*each)
	}
}

// TestLeaserExhaustedSequential checks that one Leaser serves exactly
// [0, limit) in order and then ErrExhausted, every time.
func TestLeaserExhaustedSequential(t *testing.T) {
	l := newLeaser(t, memstore.New(), 1000, &tokenrange.LeaserOptions{MinSize: 64, MaxSize: 64})
	ctx := context.Background()
	for want := uint64(0); want < 1000; want++ {
		got, err := l.Next(ctx)
		if err != nil || got != want {
			t.Fatalf("Next = %d, %v; want %d", got, err, want)
		}
	}
	for range 3 {
		if tok, err := l.Next(ctx); !errors.Is(err, tokenrange.ErrExhausted) {
			t.Fatalf("Next past the limit = %d, %v; want ErrExhausted", tok, err)
		}
	}
	if st := l.Stats(); !st.Exhausted || st.Served != 1000 {
		t.Fatalf("Stats = %+v; want Exhausted and Served 1000", st)
	}
}

// TestLeaserExhaustedConcurrent checks that at the end of the space
// goroutines racing on Leasers with and without Run get exactly
// [0, limit) between them and then all see ErrExhausted.
func TestLeaserExhaustedConcurrent(t *testing.T) {
	const limit = 20_000
	s := memstore.New()
	var mu sync.Mutex
	seen := make(map[uint64]bool, limit)
	var wg sync.WaitGroup
	for i := range 3 {
		l := newLeaser(t, s, limit, &tokenrange.LeaserOptions{MinSize: 7, MaxSize: 300})
		if i == 0 {
			defer run(t, l)()
		}
		for range 4 {
			wg.Go(func() {
				var got []uint64
				for {
					tok, err := l.Next(context.Background())
					if errors.Is(err, tokenrange.ErrExhausted) {
						break
					}
					if err != nil {
						t.Errorf("Next: %v", err)
						return
					}
					got = append(got, tok)
				}
				mu.Lock()
				defer mu.Unlock()
				for _, tok := range got {
					if seen[tok] || tok >= limit {
						t.Errorf("token %d twice or past the limit", tok)
					}
					seen[tok] = true
				}
			})
		}
	}
	wg.Wait()
	if len(seen) != limit {
		t.Fatalf("%d distinct tokens served; want all %d", len(seen), limit)
	}
}

// TestLeaserPrefetch holds the store while the next range is being
// fetched: callers keep getting tokens from the current range without
// waiting, and wait only once both ranges are used up.
func TestLeaserPrefetch(t *testing.T) {
	g := newGateStore()
	l := newLeaser(t, g, 0, &tokenrange.LeaserOptions{MinSize: 100, MaxSize: 100, RefillAt: 0.1})
	defer run(t, l)()
	<-g.done // Run fetched [0, 100) at start
	g.setClosed(true)
	ctx := context.Background()
	for want := uint64(0); want <= 10; want++ { // index 10 = RefillAt of 100
		if got, err := l.Next(ctx); err != nil || got != want {
			t.Fatalf("Next = %d, %v; want %d", got, err, want)
		}
	}
	<-g.entered // the background fetch of the next range is now held
	for want := uint64(11); want < 100; want++ {
		if got, err := l.Next(ctx); err != nil || got != want {
			t.Fatalf("Next while the store is held = %d, %v; want %d", got, err, want)
		}
	}
	if st := l.Stats(); st.Stalls != 0 {
		t.Fatalf("Stalls = %d while the current range lasted; want 0", st.Stalls)
	}
	// Both ranges used up and the fetch held: now, and only now, a caller
	// waits, and its context bounds the wait.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if tok, err := l.Next(cctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("Next with both ranges empty = %d, %v; want context.Canceled", tok, err)
	}
	if st := l.Stats(); st.Stalls != 1 {
		t.Fatalf("Stalls = %d; want 1", st.Stalls)
	}
	g.setClosed(false)
	g.release <- struct{}{}
	if got, err := l.Next(ctx); err != nil || got != 100 {
		t.Fatalf("Next after the fetch = %d, %v; want 100", got, err)
	}
}

// TestLeaserWithoutRun checks the synchronous mode: each range is fetched
// by the Next call that needs it.
func TestLeaserWithoutRun(t *testing.T) {
	s := memstore.New()
	l := newLeaser(t, s, 0, &tokenrange.LeaserOptions{MinSize: 10, MaxSize: 10})
	for want := uint64(0); want < 95; want++ {
		if got, err := l.Next(context.Background()); err != nil || got != want {
			t.Fatalf("Next = %d, %v; want %d", got, err, want)
		}
	}
	st := l.Stats()
	if st.Fetches != 10 || st.Stalls != 10 || st.Leased != 100 || st.Served != 95 {
		t.Fatalf("Stats = %+v; want 10 fetches, 10 stalls, 100 leased, 95 served", st)
	}
	if c, _ := s.Counter(context.Background(), "links"); c != 100 {
		t.Fatalf("counter = %d; want 100 (no range fetched ahead)", c)
	}
}

// fakeClock is a manual clock.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// TestLeaserAdaptiveSize consumes tokens at set rates on a fake clock and
// checks that the range size follows rate*Target within [MinSize, MaxSize]
// and shrinks again when the rate drops.
func TestLeaserAdaptiveSize(t *testing.T) {
	clock := &fakeClock{now: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)}
	l := newLeaser(t, memstore.New(), 0, &tokenrange.LeaserOptions{
		MinSize: 10, MaxSize: 10_000, InitialSize: 10, Target: 10 * time.Second, Now: clock.Now,
	})
	ctx := context.Background()
	consume := func(perSecond float64, ranges int) []uint64 {
		var sizes []uint64
		dt := time.Duration(float64(time.Second) / perSecond)
		fetches := l.Stats().Fetches
		for len(sizes) < ranges {
			clock.Advance(dt)
			if _, err := l.Next(ctx); err != nil {
				t.Fatal(err)
			}
			if st := l.Stats(); st.Fetches != fetches {
				fetches = st.Fetches
				sizes = append(sizes, st.Size)
			}
		}
		return sizes
	}
	if sizes := consume(50, 3); sizes[0] != 10 || sizes[2] != 500 {
		t.Fatalf("sizes at 50/s = %v; want 10 (initial) then 500 (50/s * 10s)", sizes)
	}
	if sizes := consume(5000, 3); sizes[2] != 10_000 {
		t.Fatalf("sizes at 5000/s = %v; want MaxSize 10000", sizes)
	}
	sizes := consume(50, 14)
	for i := 1; i < len(sizes); i++ {
		if sizes[i] > sizes[i-1] {
			t.Fatalf("sizes after the rate fell = %v; want non-increasing", sizes)
		}
	}
	if last := sizes[len(sizes)-1]; math.Abs(float64(last)-500) > 25 {
		t.Fatalf("sizes after the rate fell = %v; want the last within 5%% of 500", sizes)
	}
	if sizes := consume(0.2, 8); sizes[7] != 10 {
		t.Fatalf("sizes at 0.2/s = %v; want MinSize 10", sizes)
	}
}

// TestLeaserClose checks that Close stops Run, makes Next fail with
// ErrClosed, and is idempotent.
func TestLeaserClose(t *testing.T) {
	l := newLeaser(t, memstore.New(), 0, nil)
	errc := make(chan error, 1)
	go func() { errc <- l.Run(context.Background()) }()
	if _, err := l.Next(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-errc; err != nil {
		t.Fatalf("Run after Close returned %v; want nil", err)
	}
	if _, err := l.Next(context.Background()); !errors.Is(err, tokenrange.ErrClosed) {
		t.Fatalf("Next after Close: err %v; want ErrClosed", err)
	}
	if err := l.Close(); err != nil {
		t.Fatalf("second Close = %v; want nil", err)
	}
	if err := l.Run(context.Background()); err != nil {
		t.Fatalf("Run on a closed Leaser = %v; want nil at once", err)
	}
}

func TestLeaserRunTwice(t *testing.T) {
	l := newLeaser(t, memstore.New(), 0, nil)
	defer run(t, l)()
	<-waitFetched(l)
	if err := l.Run(context.Background()); !errors.Is(err, tokenrange.ErrRunning) {
		t.Fatalf("second Run = %v; want ErrRunning", err)
	}
}

// waitFetched returns a channel closed once l has fetched a range. It polls
// Stats; there is no timing assertion.
func waitFetched(l *tokenrange.Leaser) <-chan struct{} {
	ch := make(chan struct{})
	go func() {
		defer close(ch)
		for l.Stats().Fetches == 0 {
			time.Sleep(time.Millisecond)
		}
	}()
	return ch
}

// TestLeaserRunRetries checks that Run retries failed fetches with backoff
// until one succeeds, and that callers then get tokens without waiting.
func TestLeaserRunRetries(t *testing.T) {
	s := newFlakyStore(3, errors.New("fake: connection refused"))
	l := newLeaser(t, s, 0, &tokenrange.LeaserOptions{RetryBackoff: time.Millisecond})
	defer run(t, l)()
	<-s.ok
	// The store has answered; wait until the Leaser has installed the range
	// (Fetches is counted under the same lock), so Next must not stall.
	<-waitFetched(l)
	if got, err := l.Next(context.Background()); err != nil || got != 0 {
		t.Fatalf("Next = %d, %v; want 0", got, err)
	}
	if st := l.Stats(); st.FetchErrors != 3 || st.Fetches != 1 || st.Stalls != 0 {
		t.Fatalf("Stats = %+v; want 3 errors, 1 fetch, no stall", st)
	}
}

// TestLeaserNextReturnsStoreError checks that without Run a failed fetch
// reaches the caller, and the next call fetches again.
func TestLeaserNextReturnsStoreError(t *testing.T) {
	boom := errors.New("fake: connection refused")
	l := newLeaser(t, newFlakyStore(1, boom), 0, nil)
	if _, err := l.Next(context.Background()); !errors.Is(err, boom) {
		t.Fatalf("Next = %v; want the store's error", err)
	}
	if got, err := l.Next(context.Background()); err != nil || got != 0 {
		t.Fatalf("Next after the failure = %d, %v; want 0", got, err)
	}
}

// TestLeaserNextAllocs checks that Next does not allocate while the
// current range lasts.
func TestLeaserNextAllocs(t *testing.T) {
	l := newLeaser(t, memstore.New(), 0, &tokenrange.LeaserOptions{InitialSize: 100_000})
	ctx := context.Background()
	if _, err := l.Next(ctx); err != nil {
		t.Fatal(err)
	}
	if n := testing.AllocsPerRun(10_000, func() { _, _ = l.Next(ctx) }); n != 0 {
		t.Fatalf("Next allocates %v times per call; want 0", n)
	}
}

func BenchmarkLeaserNext(b *testing.B) {
	for _, parallel := range []bool{false, true} {
		name := "single"
		if parallel {
			name = "parallel"
		}
		b.Run(name, func(b *testing.B) {
			l := newLeaser(b, memstore.New(), 0, nil)
			defer run(b, l)()
			ctx := context.Background()
			if _, err := l.Next(ctx); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			if parallel {
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						_, _ = l.Next(ctx)
					}
				})
			} else {
				for b.Loop() {
					_, _ = l.Next(ctx)
				}
			}
			st := l.Stats()
			b.ReportMetric(float64(st.Fetches)/float64(st.Served)*1e6, "fetches/Mtoken")
			b.ReportMetric(float64(st.Stalls), "stalls")
		})
	}
}
