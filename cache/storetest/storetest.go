package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sysblocks/sysblocks/cache"
)

// Config describes the store under test.
type Config struct {
	// New returns an empty store whose keys do not collide with those of
	// any other store New returns. now is the suite's fake clock: a store
	// that expires keys on a clock it is given must use it.
	New func(tb testing.TB, now func() time.Time) cache.Store

	// ServerClock reports that the store expires keys on a clock of its
	// own (a server's) and ignores now. The suite then checks store expiry
	// by waiting for short TTLs to pass in real time. Cache-level expiry is
	// still checked on the fake clock, since the cache keeps its own.
	ServerClock bool
}

// Clock is a fake clock safe for concurrent use. The zero value is not
// usable; call [NewClock].
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// NewClock returns a Clock set to a fixed instant.
func NewClock() *Clock {
	return &Clock{now: time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)}
}

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// Run runs the conformance suite as subtests of t.
func Run(t *testing.T, cfg Config) {
	if cfg.New == nil {
		t.Fatal("storetest: Config.New is nil")
	}
	for _, tc := range []struct {
		name string
		f    func(*testing.T, Config)
	}{
		{"GetAbsent", testGetAbsent},
		{"SetGet", testSetGet},
		{"Overwrite", testOverwrite},
		{"Delete", testDelete},
		{"SliceOwnership", testSliceOwnership},
		{"DistinctKeys", testDistinctKeys},
		{"NonPositiveTTL", testNonPositiveTTL},
		{"Expiry", testExpiry},
		{"SetReplacesTTL", testSetReplacesTTL},
		{"CancelledContext", testCancelledContext},
		{"ConcurrentWriters", testConcurrentWriters},
		{"Cache/Stampede", testCacheStampede},
		{"Cache/CancelledCallerDoesNotFailOthers", testCacheCancelIsolation},
		{"Cache/ValueExpiry", testCacheValueExpiry},
		{"Cache/NegativeEntryExpiry", testCacheNegativeExpiry},
		{"Cache/LoaderErrorNotCachedByDefault", testCacheErrorNotCached},
		{"Cache/LoaderErrorCachedWhenConfigured", testCacheErrorCached},
		{"Cache/DeleteInvalidates", testCacheDelete},
		{"Cache/SetReplacesNegativeEntry", testCacheSetReplacesNegative},
		{"Cache/UndecodableEntryReloads", testCacheUndecodable},
	} {
		t.Run(tc.name, func(t *testing.T) { tc.f(t, cfg) })
	}
}

func newStore(t *testing.T, cfg Config) (cache.Store, *Clock) {
	t.Helper()
	clk := NewClock()
	s := cfg.New(t, clk.Now)
	if s == nil {
		t.Fatal("storetest: Config.New returned nil")
	}
	return s, clk
}

func mustGet(t *testing.T, s cache.Store, key string) ([]byte, bool) {
	t.Helper()
	v, found, err := s.Get(context.Background(), key)
	if err != nil {
		t.Fatalf("Get(%q): %v", key, err)
	}
	return v, found
}

func mustSet(t *testing.T, s cache.Store, key string, val []byte, ttl time.Duration) {
	t.Helper()
	if err := s.Set(context.Background(), key, val, ttl); err != nil {
		t.Fatalf("Set(%q): %v", key, err)
	}
}

func wantValue(t *testing.T, s cache.Store, key string, want []byte) {
	t.Helper()
	got, found := mustGet(t, s, key)
	if !found {
		t.Fatalf("Get(%q): not found; want %q", key, want)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("Get(%q) = %q; want %q", key, got, want)
	}
}

func wantAbsent(t *testing.T, s cache.Store, key string) {
	t.Helper()
	if got, found := mustGet(t, s, key); found {
		t.Fatalf("Get(%q) = %q, found; want absent", key, got)
	}
}

// Rule: an absent key is found=false with a nil error.
func testGetAbsent(t *testing.T, cfg Config) {
	s, _ := newStore(t, cfg)
	v, found, err := s.Get(context.Background(), "never-set")
	if err != nil || found || v != nil {
		t.Fatalf("Get(absent) = %q, %v, %v; want nil, false, nil", v, found, err)
	}
}

// Rule: bytes come back exactly, whatever they hold and however long.
func testSetGet(t *testing.T, cfg Config) {
	s, _ := newStore(t, cfg)
	big := bytes.Repeat([]byte{0, 1, 2, 0xff, '\n'}, 1<<18) // 1.25 MiB
	for name, val := range map[string][]byte{
		"empty":  {},
		"binary": {0, 0xff, 0, '\r', '\n', 0x80},
		"text":   []byte("https://example.com/a?b=c"),
		"big":    big,
	} {
		mustSet(t, s, name, val, time.Hour)
		wantValue(t, s, name, val)
	}
}

// Rule: Set replaces the previous value.
func testOverwrite(t *testing.T, cfg Config) {
	s, _ := newStore(t, cfg)
	mustSet(t, s, "k", []byte("first, and longer"), time.Hour)
	mustSet(t, s, "k", []byte("second"), time.Hour)
	wantValue(t, s, "k", []byte("second"))
}

// Rule: Delete removes the key; deleting an absent key is not an error.
func testDelete(t *testing.T, cfg Config) {
	s, _ := newStore(t, cfg)
	ctx := context.Background()
	mustSet(t, s, "k", []byte("v"), time.Hour)
	mustSet(t, s, "other", []byte("w"), time.Hour)
	if err := s.Delete(ctx, "k"); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	wantAbsent(t, s, "k")
	wantValue(t, s, "other", []byte("w"))
	if err := s.Delete(ctx, "k"); err != nil {
		t.Fatalf("Delete(absent): got %v; want nil", err)
	}
}

// Rule: the store keeps neither the slice given to Set nor the one
// returned by Get.
func testSliceOwnership(t *testing.T, cfg Config) {
	s, _ := newStore(t, cfg)
	val := []byte("original")
	mustSet(t, s, "k", val, time.Hour)
	copy(val, "XXXXXXXX")
	got, _ := mustGet(t, s, "k")
	if string(got) != "original" {
		t.Fatalf("after changing the slice passed to Set, Get = %q; want %q", got, "original")
	}
	copy(got, "YYYYYYYY")
	wantValue(t, s, "k", []byte("original"))
}

// Rule: keys are compared byte for byte.
func testDistinctKeys(t *testing.T, cfg Config) {
	s, _ := newStore(t, cfg)
	keys := []string{"", "a", "A", "a ", " a", "a:b", "a\x00b", "ä", "日本", strings.Repeat("k", 1000)}
	for i, k := range keys {
		mustSet(t, s, k, []byte{byte(i)}, time.Hour)
	}
	for i, k := range keys {
		wantValue(t, s, k, []byte{byte(i)})
	}
}

// Rule: Set with ttl <= 0 is an error and stores nothing.
func testNonPositiveTTL(t *testing.T, cfg Config) {
	s, _ := newStore(t, cfg)
	for _, ttl := range []time.Duration{0, -time.Second} {
		if err := s.Set(context.Background(), "k", []byte("v"), ttl); err == nil {
			t.Fatalf("Set(ttl=%v): got nil error; want an error", ttl)
		}
		wantAbsent(t, s, "k")
	}
}

// waitAbsent polls until key is gone, for stores on a server clock.
func waitAbsent(t *testing.T, s cache.Store, key string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		if _, found := mustGet(t, s, key); !found {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("Get(%q): still found 30s after its 50ms TTL; want expired", key)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Rule: a key is found before its TTL passes and absent from then on.
func testExpiry(t *testing.T, cfg Config) {
	s, clk := newStore(t, cfg)
	if cfg.ServerClock {
		mustSet(t, s, "long", []byte("v"), time.Hour)
		mustSet(t, s, "short", []byte("v"), 50*time.Millisecond)
		waitAbsent(t, s, "short")
		wantValue(t, s, "long", []byte("v"))
		return
	}
	mustSet(t, s, "k", []byte("v"), 10*time.Second)
	clk.Advance(10*time.Second - time.Nanosecond)
	wantValue(t, s, "k", []byte("v"))
	clk.Advance(time.Nanosecond)
	wantAbsent(t, s, "k")
	// Expired keys stay absent and can be set again.
	wantAbsent(t, s, "k")
	mustSet(t, s, "k", []byte("w"), time.Second)
	wantValue(t, s, "k", []byte("w"))
}

// Rule: Set replaces the TTL along with the value.
func testSetReplacesTTL(t *testing.T, cfg Config) {
	s, clk := newStore(t, cfg)
	if cfg.ServerClock {
		mustSet(t, s, "k", []byte("v1"), 50*time.Millisecond)
		mustSet(t, s, "k", []byte("v2"), time.Hour)
		mustSet(t, s, "probe", []byte("p"), 50*time.Millisecond)
		waitAbsent(t, s, "probe")
		wantValue(t, s, "k", []byte("v2"))
		// And shortening works too.
		mustSet(t, s, "k", []byte("v3"), 50*time.Millisecond)
		waitAbsent(t, s, "k")
		return
	}
	mustSet(t, s, "k", []byte("v1"), time.Second)
	mustSet(t, s, "k", []byte("v2"), time.Hour)
	clk.Advance(time.Minute)
	wantValue(t, s, "k", []byte("v2"))
	mustSet(t, s, "k", []byte("v3"), time.Second)
	clk.Advance(time.Second)
	wantAbsent(t, s, "k")
}

// Rule: every method fails with an error wrapping context.Canceled on a
// cancelled context, and Set then stores nothing.
func testCancelledContext(t *testing.T, cfg Config) {
	s, _ := newStore(t, cfg)
	mustSet(t, s, "k", []byte("v"), time.Hour)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, _, err := s.Get(ctx, "k"); !errors.Is(err, context.Canceled) {
		t.Errorf("Get(cancelled ctx): got %v; want context.Canceled", err)
	}
	if err := s.Set(ctx, "new", []byte("v"), time.Hour); !errors.Is(err, context.Canceled) {
		t.Errorf("Set(cancelled ctx): got %v; want context.Canceled", err)
	}
	if err := s.Delete(ctx, "k"); !errors.Is(err, context.Canceled) {
		t.Errorf("Delete(cancelled ctx): got %v; want context.Canceled", err)
	}
	wantAbsent(t, s, "new")
	wantValue(t, s, "k", []byte("v"))
}

// Rule: concurrent Sets and Gets on shared keys never tear a value: every
// read returns one of the values written.
func testConcurrentWriters(t *testing.T, cfg Config) {
	s, _ := newStore(t, cfg)
	const goroutines, rounds, keys = 16, 50, 4
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make(chan error, goroutines)
	for g := range goroutines {
		wg.Go(func() {
			for i := range rounds {
				key := fmt.Sprintf("k%d", (g+i)%keys)
				val := fmt.Sprintf("%s|g%d|i%d|%s", key, g, i, strings.Repeat("x", g*10))
				if err := s.Set(ctx, key, []byte(val), time.Hour); err != nil {
					errs <- err
					return
				}
				got, found, err := s.Get(ctx, key)
				if err != nil {
					errs <- err
					return
				}
				if !found {
					errs <- fmt.Errorf("Get(%q) after Set: not found", key)
					return
				}
				var pg, pi int
				var pad string
				parts := strings.Split(string(got), "|")
				if len(parts) != 4 || parts[0] != key {
					errs <- fmt.Errorf("Get(%q) = %q; want a value written for that key", key, got)
					return
				}
				if _, err := fmt.Sscanf(parts[1]+" "+parts[2], "g%d i%d", &pg, &pi); err != nil {
					errs <- fmt.Errorf("Get(%q) = %q: torn value", key, got)
					return
				}
				pad = parts[3]
				if pad != strings.Repeat("x", pg*10) {
					errs <- fmt.Errorf("Get(%q) = %q: torn value", key, got)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// gate is a loader that blocks until released and counts its calls.
type gate struct {
	calls   atomic.Int64
	started chan struct{} // receives once per call
	release chan struct{}
	ctxErr  atomic.Value // error seen on the loader's ctx when released
	result  func(key string) (string, error)
}

func newGate(result func(string) (string, error)) *gate {
	return &gate{started: make(chan struct{}, 1000), release: make(chan struct{}), result: result}
}

func (g *gate) load(ctx context.Context, key string) (string, error) {
	g.calls.Add(1)
	g.started <- struct{}{}
	select {
	case <-g.release:
	case <-ctx.Done():
	}
	g.ctxErr.Store(fmt.Sprint(ctx.Err()))
	return g.result(key)
}

func valueOf(key string) (string, error) { return "value-of-" + key, nil }

func newCache(t *testing.T, cfg Config, loader func(context.Context, string) (string, error), opts *cache.Options) (*cache.Cache[string], cache.Store, *Clock) {
	t.Helper()
	s, clk := newStore(t, cfg)
	o := cache.Options{Now: clk.Now, Jitter: -1}
	if opts != nil {
		o = *opts
		o.Now = clk.Now
	}
	c, err := cache.New(s, cache.StringCodec{}, loader, &o)
	if err != nil {
		t.Fatalf("cache.New: %v", err)
	}
	return c, s, clk
}

// waitStats polls until cond holds, failing after a generous bound.
func waitStats(t *testing.T, c *cache.Cache[string], what string, cond func(cache.Stats) bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond(c.Stats()) {
		if time.Now().After(deadline) {
			t.Fatalf("waiting for %s: stats %+v", what, c.Stats())
		}
		time.Sleep(time.Millisecond)
	}
}

// Rule: N concurrent Gets of one missing key call the loader once; all N
// get the value; N-1 are counted as coalesced.
func testCacheStampede(t *testing.T, cfg Config) {
	const n = 100
	g := newGate(valueOf)
	c, _, _ := newCache(t, cfg, g.load, nil)
	results := make(chan error, n)
	for range n {
		go func() {
			v, err := c.Get(context.Background(), "hot")
			if err == nil && v != "value-of-hot" {
				err = fmt.Errorf("got Get = %q; want %q", v, "value-of-hot")
			}
			results <- err
		}()
	}
	<-g.started
	waitStats(t, c, "all callers to join the load", func(s cache.Stats) bool { return s.Coalesced == n-1 })
	close(g.release)
	for range n {
		if err := <-results; err != nil {
			t.Error(err)
		}
	}
	if got := g.calls.Load(); got != 1 {
		t.Fatalf("loader calls = %d; want 1", got)
	}
	st := c.Stats()
	if st.Loads != 1 || st.Misses != n || st.Coalesced != n-1 {
		t.Fatalf("stats %+v; want Loads 1, Misses %d, Coalesced %d", st, n, n-1)
	}
	if v, err := c.Get(context.Background(), "hot"); err != nil || v != "value-of-hot" {
		t.Fatalf("Get after load = %q, %v; want a hit", v, err)
	}
	if st := c.Stats(); st.Hits != 1 || g.calls.Load() != 1 {
		t.Fatalf("after a hit: stats %+v, loader calls %d; want Hits 1, calls 1", st, g.calls.Load())
	}
}

// Rule: the caller that started a load returns ctx.Err() as soon as its ctx
// ends, while the load goes on, unaffected, for the other callers.
func testCacheCancelIsolation(t *testing.T, cfg Config) {
	const others = 10
	g := newGate(valueOf)
	c, _, _ := newCache(t, cfg, g.load, nil)

	type res struct {
		v   string
		err error
	}
	ctxA, cancelA := context.WithCancel(context.Background())
	defer cancelA()
	first := make(chan res, 1)
	go func() {
		v, err := c.Get(ctxA, "k")
		first <- res{v, err}
	}()
	<-g.started // the first caller's load is running
	rest := make(chan res, others)
	for range others {
		go func() {
			v, err := c.Get(context.Background(), "k")
			rest <- res{v, err}
		}()
	}
	waitStats(t, c, "the other callers to join", func(s cache.Stats) bool { return s.Coalesced == others })

	cancelA()
	r := <-first // returns while the loader is still blocked
	if !errors.Is(r.err, context.Canceled) {
		t.Fatalf("cancelled caller: Get = %q, %v; want context.Canceled", r.v, r.err)
	}
	select {
	case r := <-rest:
		t.Fatalf("another caller returned %q, %v before the load ended", r.v, r.err)
	default:
	}

	close(g.release)
	for range others {
		r := <-rest
		if r.err != nil || r.v != "value-of-k" {
			t.Errorf("other caller: Get = %q, %v; want %q", r.v, r.err, "value-of-k")
		}
	}
	if got := g.ctxErr.Load(); got != "<nil>" {
		t.Errorf("loader ctx.Err() after the first caller's cancel = %v; want <nil>", got)
	}
	if got := g.calls.Load(); got != 1 {
		t.Errorf("loader calls = %d; want 1", got)
	}
	// The load filled the cache although its first caller had gone.
	if v, err := c.Get(context.Background(), "k"); err != nil || v != "value-of-k" {
		t.Fatalf("Get after load = %q, %v", v, err)
	}
	if st := c.Stats(); st.Hits != 1 || st.Loads != 1 {
		t.Fatalf("stats %+v; want Hits 1, Loads 1", st)
	}
}

type countingLoader struct {
	calls atomic.Int64
	f     func(key string) (string, error)
}

func (l *countingLoader) load(_ context.Context, key string) (string, error) {
	l.calls.Add(1)
	return l.f(key)
}

// Rule: a value is served until TTL passes on the cache's clock, then
// reloaded.
func testCacheValueExpiry(t *testing.T, cfg Config) {
	l := &countingLoader{f: valueOf}
	c, _, clk := newCache(t, cfg, l.load, &cache.Options{TTL: time.Hour, Jitter: -1})
	ctx := context.Background()
	for range 3 {
		if v, err := c.Get(ctx, "k"); err != nil || v != "value-of-k" {
			t.Fatalf("Get = %q, %v", v, err)
		}
	}
	clk.Advance(time.Hour - time.Nanosecond)
	if _, err := c.Get(ctx, "k"); err != nil || l.calls.Load() != 1 {
		t.Fatalf("1ns before TTL: err %v, loader calls %d; want nil, 1", err, l.calls.Load())
	}
	clk.Advance(time.Nanosecond)
	if _, err := c.Get(ctx, "k"); err != nil || l.calls.Load() != 2 {
		t.Fatalf("at TTL: err %v, loader calls %d; want nil, 2", err, l.calls.Load())
	}
}

// Rule: a not-found result is cached for NegativeTTL: Gets return
// ErrNotFound without calling the loader until it passes.
func testCacheNegativeExpiry(t *testing.T, cfg Config) {
	var exists atomic.Bool
	l := &countingLoader{f: func(key string) (string, error) {
		if exists.Load() {
			return "now-" + key, nil
		}
		return "", fmt.Errorf("lookup %s: %w", key, cache.ErrNotFound)
	}}
	c, _, clk := newCache(t, cfg, l.load, &cache.Options{TTL: time.Hour, NegativeTTL: 30 * time.Second, Jitter: -1})
	ctx := context.Background()
	for i := range 5 {
		if _, err := c.Get(ctx, "missing"); err != cache.ErrNotFound {
			t.Fatalf("Get #%d: got %v; want ErrNotFound itself", i, err)
		}
	}
	if got := l.calls.Load(); got != 1 {
		t.Fatalf("loader calls = %d; want 1", got)
	}
	if st := c.Stats(); st.NegativeHits != 4 || st.Loads != 1 || st.LoadErrors != 0 {
		t.Fatalf("stats %+v; want NegativeHits 4, Loads 1, LoadErrors 0", st)
	}
	exists.Store(true)
	clk.Advance(30*time.Second - time.Nanosecond)
	if _, err := c.Get(ctx, "missing"); err != cache.ErrNotFound || l.calls.Load() != 1 {
		t.Fatalf("1ns before NegativeTTL: got %v, loader calls %d; want ErrNotFound, 1", err, l.calls.Load())
	}
	clk.Advance(time.Nanosecond)
	if v, err := c.Get(ctx, "missing"); err != nil || v != "now-missing" || l.calls.Load() != 2 {
		t.Fatalf("at NegativeTTL: got %q, %v, loader calls %d; want %q, nil, 2", v, err, l.calls.Load(), "now-missing")
	}
}

var errBackend = errors.New("backend down")

// Rule: by default a loader failure is returned (matching both the
// loader's error and ErrLoadFailed) and not cached.
func testCacheErrorNotCached(t *testing.T, cfg Config) {
	l := &countingLoader{f: func(string) (string, error) { return "", errBackend }}
	c, _, _ := newCache(t, cfg, l.load, nil)
	for i := range 3 {
		_, err := c.Get(context.Background(), "k")
		var le *cache.LoadError
		if !errors.Is(err, errBackend) || !errors.Is(err, cache.ErrLoadFailed) || !errors.As(err, &le) || le.Cached {
			t.Fatalf("Get #%d: got %v; want a live *LoadError wrapping %v", i, err, errBackend)
		}
	}
	if got := l.calls.Load(); got != 3 {
		t.Fatalf("loader calls = %d; want 3 (failures not cached)", got)
	}
	if st := c.Stats(); st.LoadErrors != 3 || st.NegativeHits != 0 {
		t.Fatalf("stats %+v; want LoadErrors 3, NegativeHits 0", st)
	}
}

// Rule: with CacheErrors a failure is served from the store for
// NegativeTTL, as a cached *LoadError carrying the message.
func testCacheErrorCached(t *testing.T, cfg Config) {
	var fail atomic.Bool
	fail.Store(true)
	l := &countingLoader{f: func(key string) (string, error) {
		if fail.Load() {
			return "", errBackend
		}
		return valueOf(key)
	}}
	c, _, clk := newCache(t, cfg, l.load, &cache.Options{CacheErrors: true, NegativeTTL: 5 * time.Second, Jitter: -1})
	ctx := context.Background()
	if _, err := c.Get(ctx, "k"); !errors.Is(err, errBackend) {
		t.Fatalf("first Get: got %v; want %v", err, errBackend)
	}
	_, err := c.Get(ctx, "k")
	var le *cache.LoadError
	if !errors.As(err, &le) || !le.Cached || !errors.Is(err, cache.ErrLoadFailed) || le.Err.Error() != errBackend.Error() || le.Key != "k" {
		t.Fatalf("second Get: got %#v; want a cached *LoadError for %q with message %q", err, "k", errBackend)
	}
	if l.calls.Load() != 1 {
		t.Fatalf("loader calls = %d; want 1", l.calls.Load())
	}
	fail.Store(false)
	clk.Advance(5 * time.Second)
	if v, err := c.Get(ctx, "k"); err != nil || v != "value-of-k" || l.calls.Load() != 2 {
		t.Fatalf("after NegativeTTL: got %q, %v, calls %d; want value, nil, 2", v, err, l.calls.Load())
	}
}

// Rule: Delete makes the next Get call the loader.
func testCacheDelete(t *testing.T, cfg Config) {
	var version atomic.Int64
	l := &countingLoader{f: func(key string) (string, error) { return fmt.Sprintf("%s@%d", key, version.Load()), nil }}
	c, s, _ := newCache(t, cfg, l.load, nil)
	ctx := context.Background()
	if v, _ := c.Get(ctx, "k"); v != "k@0" {
		t.Fatalf("Get = %q; want k@0", v)
	}
	version.Store(1)
	if v, _ := c.Get(ctx, "k"); v != "k@0" {
		t.Fatalf("Get before Delete = %q; want the cached k@0", v)
	}
	if err := c.Delete(ctx, "k"); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	wantAbsent(t, s, "k")
	if v, _ := c.Get(ctx, "k"); v != "k@1" || l.calls.Load() != 2 {
		t.Fatalf("Get after Delete = %q (calls %d); want k@1 (calls 2)", v, l.calls.Load())
	}
}

// Rule: Set overwrites a negative entry.
func testCacheSetReplacesNegative(t *testing.T, cfg Config) {
	l := &countingLoader{f: func(string) (string, error) { return "", cache.ErrNotFound }}
	c, _, _ := newCache(t, cfg, l.load, nil)
	ctx := context.Background()
	if _, err := c.Get(ctx, "k"); err != cache.ErrNotFound {
		t.Fatalf("Get: %v; want ErrNotFound", err)
	}
	if err := c.Set(ctx, "k", "created"); err != nil {
		t.Fatalf("Set: %v", err)
	}
	if v, err := c.Get(ctx, "k"); err != nil || v != "created" || l.calls.Load() != 1 {
		t.Fatalf("Get after Set = %q, %v (calls %d); want created, nil, 1", v, err, l.calls.Load())
	}
}

// Rule: bytes the cache cannot decode (another format, another writer)
// count as a miss: the cache reloads and overwrites them.
func testCacheUndecodable(t *testing.T, cfg Config) {
	l := &countingLoader{f: valueOf}
	c, s, _ := newCache(t, cfg, l.load, nil)
	ctx := context.Background()
	for _, junk := range [][]byte{{}, []byte("plain text from elsewhere"), {9, 0, 0, 0, 0, 0, 0, 0, 0}} {
		mustSet(t, s, "k", junk, time.Hour)
		if v, err := c.Get(ctx, "k"); err != nil || v != "value-of-k" {
			t.Fatalf("Get over %q = %q, %v; want a reload", junk, v, err)
		}
		if v, err := c.Get(ctx, "k"); err != nil || v != "value-of-k" {
			t.Fatalf("second Get = %q, %v", v, err)
		}
	}
	if got := l.calls.Load(); got != 3 {
		t.Fatalf("loader calls = %d; want 3 (one per undecodable entry)", got)
	}
	if st := c.Stats(); st.StoreErrors != 3 || st.Hits != 3 {
		t.Fatalf("stats %+v; want StoreErrors 3, Hits 3", st)
	}
}

// Bench runs the store benchmarks as sub-benchmarks of b: raw Get and Set,
// and a Cache Get hit on the store.
func Bench(b *testing.B, cfg Config) {
	ctx := context.Background()
	val := []byte("https://example.com/some/long/target/path?with=query&and=more")
	b.Run("StoreGet", func(b *testing.B) {
		s := cfg.New(b, time.Now)
		if err := s.Set(ctx, "k", val, time.Hour); err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		for b.Loop() {
			if _, found, err := s.Get(ctx, "k"); err != nil || !found {
				b.Fatal(err, found)
			}
		}
	})
	b.Run("StoreSet", func(b *testing.B) {
		s := cfg.New(b, time.Now)
		b.ReportAllocs()
		for b.Loop() {
			if err := s.Set(ctx, "k", val, time.Hour); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("CacheGetHit", func(b *testing.B) {
		s := cfg.New(b, time.Now)
		c, err := cache.New(s, cache.StringCodec{}, func(context.Context, string) (string, error) {
			return string(val), nil
		}, nil)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := c.Get(ctx, "k"); err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		for b.Loop() {
			if _, err := c.Get(ctx, "k"); err != nil {
				b.Fatal(err)
			}
		}
		if st := c.Stats(); st.Loads != 1 {
			b.Fatalf("loads = %d; want 1", st.Loads)
		}
	})
}
