package cache_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/sysblocks/sysblocks/cache"
	"github.com/sysblocks/sysblocks/cache/memstore"
	"github.com/sysblocks/sysblocks/cache/storetest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// hookStore wraps a memstore with fault injection and a log of writes.
type hookStore struct {
	*memstore.Store
	getErr, setErr, delErr atomic.Pointer[error]
	beforeSet              func(key string) // may block
	afterGet               func(ctx context.Context, key string, found bool)
	mu                     sync.Mutex
	log                    []string
	ttls                   []time.Duration
}

func newHookStore(now func() time.Time) *hookStore {
	return &hookStore{Store: memstore.New(&memstore.Options{Now: now})}
}

func (s *hookStore) record(op string, ttl time.Duration) {
	s.mu.Lock()
	s.log = append(s.log, op)
	if ttl > 0 {
		s.ttls = append(s.ttls, ttl)
	}
	s.mu.Unlock()
}

func (s *hookStore) ops() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return strings.Join(s.log, " ")
}

func (s *hookStore) Get(ctx context.Context, key string) ([]byte, bool, error) {
	if p := s.getErr.Load(); p != nil {
		return nil, false, *p
	}
	v, found, err := s.Store.Get(ctx, key)
	if s.afterGet != nil {
		s.afterGet(ctx, key, found)
	}
	return v, found, err
}

func (s *hookStore) Set(ctx context.Context, key string, val []byte, ttl time.Duration) error {
	if s.beforeSet != nil {
		s.beforeSet(key)
	}
	if p := s.setErr.Load(); p != nil {
		return *p
	}
	s.record("set:"+key, ttl)
	return s.Store.Set(ctx, key, val, ttl)
}

func (s *hookStore) Delete(ctx context.Context, key string) error {
	if p := s.delErr.Load(); p != nil {
		return *p
	}
	s.record("del:"+key, 0)
	return s.Store.Delete(ctx, key)
}

func errp(err error) *error { return &err }

func newCache(t *testing.T, s cache.Store, loader func(context.Context, string) (string, error), opts *cache.Options) *cache.Cache[string] {
	t.Helper()
	c, err := cache.New(s, cache.StringCodec{}, loader, opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return c
}

func echo(_ context.Context, key string) (string, error) { return "v:" + key, nil }

func TestNewRejectsInvalidOptions(t *testing.T) {
	s := memstore.New(nil)
	for name, tc := range map[string]struct {
		store cache.Store
		codec cache.Codec[string]
		opts  *cache.Options
	}{
		"nil store":            {nil, cache.StringCodec{}, nil},
		"nil codec":            {s, nil, nil},
		"negative TTL":         {s, cache.StringCodec{}, &cache.Options{TTL: -1}},
		"negative LoadTimeout": {s, cache.StringCodec{}, &cache.Options{LoadTimeout: -1}},
		"jitter above 1":       {s, cache.StringCodec{}, &cache.Options{Jitter: 1.5}},
		"jitter NaN":           {s, cache.StringCodec{}, &cache.Options{Jitter: math.NaN()}},
	} {
		c, err := cache.New(tc.store, tc.codec, echo, tc.opts)
		if !errors.Is(err, cache.ErrInvalidOptions) || c != nil {
			t.Errorf("%s: New = %v, %v; want nil, ErrInvalidOptions", name, c, err)
		}
	}
	if _, err := cache.New(s, cache.StringCodec{}, echo, &cache.Options{Jitter: 1}); err != nil {
		t.Errorf("Jitter 1: %v; want accepted", err)
	}
}

// Rule: a Get on an already cancelled context touches neither store nor
// loader.
func TestGetOnCancelledContext(t *testing.T) {
	var calls atomic.Int64
	c := newCache(t, memstore.New(nil), func(context.Context, string) (string, error) {
		calls.Add(1)
		return "v", nil
	}, nil)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := c.Get(ctx, "k"); !errors.Is(err, context.Canceled) {
		t.Fatalf("Get = %v; want context.Canceled", err)
	}
	if calls.Load() != 0 || c.Stats() != (cache.Stats{}) {
		t.Fatalf("loader calls %d, stats %+v; want nothing", calls.Load(), c.Stats())
	}
}

// Rule: the loader runs with the values of the caller that started it but
// under LoadTimeout, not the caller's deadline.
func TestLoaderContext(t *testing.T) {
	type ctxKey struct{}
	var sawValue any
	var sawDeadline time.Duration
	c := newCache(t, memstore.New(nil), func(ctx context.Context, key string) (string, error) {
		sawValue = ctx.Value(ctxKey{})
		d, _ := ctx.Deadline()
		sawDeadline = time.Until(d)
		return "v", nil
	}, &cache.Options{LoadTimeout: time.Hour})
	ctx, cancel := context.WithTimeout(context.WithValue(context.Background(), ctxKey{}, "trace-42"), time.Minute)
	defer cancel()
	if _, err := c.Get(ctx, "k"); err != nil {
		t.Fatal(err)
	}
	if sawValue != "trace-42" {
		t.Errorf("loader ctx value = %v; want trace-42", sawValue)
	}
	if sawDeadline < 50*time.Minute {
		t.Errorf("loader deadline in %v; want about LoadTimeout (1h), not the caller's minute", sawDeadline)
	}
}

// Rule: a loader that outlives LoadTimeout sees its ctx end, and Get
// returns a *LoadError wrapping context.DeadlineExceeded.
func TestLoadTimeout(t *testing.T) {
	c := newCache(t, memstore.New(nil), func(ctx context.Context, key string) (string, error) {
		<-ctx.Done()
		return "", ctx.Err()
	}, &cache.Options{LoadTimeout: 20 * time.Millisecond})
	_, err := c.Get(context.Background(), "k")
	var le *cache.LoadError
	if !errors.As(err, &le) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Get = %v; want a *LoadError wrapping context.DeadlineExceeded", err)
	}
}

// Rule: a loader that ignores its ctx does not hold callers past
// LoadTimeout nor wedge the key: the next Get starts a new load.
func TestLoaderIgnoringContext(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	var calls atomic.Int64
	c := newCache(t, memstore.New(nil), func(context.Context, string) (string, error) {
		if calls.Add(1) == 1 {
			<-release // stuck, deaf to ctx
			return "late", nil
		}
		return "fresh", nil
	}, &cache.Options{LoadTimeout: 20 * time.Millisecond})
	if _, err := c.Get(context.Background(), "k"); !errors.Is(err, context.DeadlineExceeded) || !errors.Is(err, cache.ErrLoadFailed) {
		t.Fatalf("Get = %v; want a load failure wrapping context.DeadlineExceeded", err)
	}
	if v, err := c.Get(context.Background(), "k"); err != nil || v != "fresh" {
		t.Fatalf("second Get = %q, %v; want a new load", v, err)
	}
}

// Rule: a loader panic becomes a *LoadError for every caller sharing the
// load; the process survives and the next Get loads again.
func TestLoaderPanic(t *testing.T) {
	var calls atomic.Int64
	c := newCache(t, memstore.New(nil), func(context.Context, string) (string, error) {
		if calls.Add(1) == 1 {
			panic("boom")
		}
		return "ok", nil
	}, nil)
	_, err := c.Get(context.Background(), "k")
	if !errors.Is(err, cache.ErrLoadFailed) || !strings.Contains(err.Error(), "boom") {
		t.Fatalf("Get = %v; want a load failure mentioning the panic", err)
	}
	if v, err := c.Get(context.Background(), "k"); err != nil || v != "ok" {
		t.Fatalf("second Get = %q, %v; want ok", v, err)
	}
	if st := c.Stats(); st.LoadErrors != 1 || st.Loads != 2 {
		t.Fatalf("stats %+v; want LoadErrors 1, Loads 2", st)
	}
}

// Rule: all callers sharing a failed load get the failure; the loader ran
// once.
func TestCoalescedCallersShareFailure(t *testing.T) {
	const n = 50
	errDB := errors.New("db down")
	release := make(chan struct{})
	var calls atomic.Int64
	c := newCache(t, memstore.New(nil), func(context.Context, string) (string, error) {
		calls.Add(1)
		<-release
		return "", errDB
	}, nil)
	errs := make(chan error, n)
	for range n {
		go func() { _, err := c.Get(context.Background(), "k"); errs <- err }()
	}
	for c.Stats().Misses < n {
		time.Sleep(time.Millisecond)
	}
	for c.Stats().Coalesced < n-1 && calls.Load() == 1 {
		time.Sleep(time.Millisecond)
	}
	close(release)
	for range n {
		if err := <-errs; !errors.Is(err, errDB) {
			t.Fatalf("Get = %v; want %v", err, errDB)
		}
	}
	if got := calls.Load(); got != 1 {
		t.Fatalf("loader calls = %d; want 1", got)
	}
}

// Rule: IsNotFound decides which loader errors are negative entries.
func TestIsNotFound(t *testing.T) {
	errNoRows := errors.New("sql: no rows in result set")
	var calls atomic.Int64
	c := newCache(t, memstore.New(nil), func(context.Context, string) (string, error) {
		calls.Add(1)
		return "", errNoRows
	}, &cache.Options{IsNotFound: func(err error) bool { return errors.Is(err, errNoRows) }})
	for range 3 {
		if _, err := c.Get(context.Background(), "k"); err != cache.ErrNotFound {
			t.Fatalf("Get = %v; want ErrNotFound", err)
		}
	}
	if calls.Load() != 1 {
		t.Fatalf("loader calls = %d; want 1", calls.Load())
	}
}

// Rule: a negative NegativeTTL disables negative caching, for not-found and
// (even with CacheErrors) for failures.
func TestNegativeCachingDisabled(t *testing.T) {
	var calls atomic.Int64
	c := newCache(t, memstore.New(nil), func(_ context.Context, key string) (string, error) {
		calls.Add(1)
		if key == "gone" {
			return "", cache.ErrNotFound
		}
		return "", errors.New("down")
	}, &cache.Options{NegativeTTL: -1, CacheErrors: true})
	for range 3 {
		if _, err := c.Get(context.Background(), "gone"); err != cache.ErrNotFound {
			t.Fatalf("Get = %v; want ErrNotFound", err)
		}
		if _, err := c.Get(context.Background(), "bad"); !errors.Is(err, cache.ErrLoadFailed) {
			t.Fatalf("Get = %v; want ErrLoadFailed", err)
		}
	}
	if calls.Load() != 6 {
		t.Fatalf("loader calls = %d; want 6", calls.Load())
	}
}

// Rule: without a loader the cache serves what Set put in and reports a
// miss as ErrNotFound.
func TestNilLoader(t *testing.T) {
	c := newCache(t, memstore.New(nil), nil, nil)
	ctx := context.Background()
	if _, err := c.Get(ctx, "k"); err != cache.ErrNotFound {
		t.Fatalf("Get = %v; want ErrNotFound", err)
	}
	if err := c.Set(ctx, "k", "v"); err != nil {
		t.Fatal(err)
	}
	if v, err := c.Get(ctx, "k"); err != nil || v != "v" {
		t.Fatalf("Get = %q, %v; want v", v, err)
	}
	if st := c.Stats(); st.Hits != 1 || st.Misses != 1 || st.Loads != 0 {
		t.Fatalf("stats %+v; want Hits 1, Misses 1, Loads 0", st)
	}
	// Without a loader to fall back on, a store failure is Get's error.
	s := newHookStore(time.Now)
	s.getErr.Store(errp(errors.New("read refused")))
	c = newCache(t, s, nil, nil)
	if _, err := c.Get(ctx, "k"); err == nil || err == cache.ErrNotFound || !strings.Contains(err.Error(), "read refused") {
		t.Fatalf("Get on a failing store = %v; want the store's error", err)
	}
}

// Rule: every TTL handed to the store lies in [ttl, ttl*(1+Jitter)], for
// values (loaded or Set) and negative entries; the default Jitter is 10%.
func TestJitterBounds(t *testing.T) {
	for _, tc := range []struct {
		name   string
		jitter float64
		want   float64
	}{{"default", 0, 0.1}, {"quarter", 0.25, 0.25}, {"off", -1, 0}} {
		t.Run(tc.name, func(t *testing.T) {
			s := newHookStore(time.Now)
			const ttl, neg = time.Hour, time.Minute
			c := newCache(t, s, func(_ context.Context, key string) (string, error) {
				if strings.HasPrefix(key, "n") {
					return "", cache.ErrNotFound
				}
				return "v", nil
			}, &cache.Options{TTL: ttl, NegativeTTL: neg, Jitter: tc.jitter})
			ctx := context.Background()
			const n = 300
			for i := range n {
				_, _ = c.Get(ctx, fmt.Sprint("v", i))
				_, _ = c.Get(ctx, fmt.Sprint("n", i))
				_ = c.Set(ctx, fmt.Sprint("s", i), "x")
			}
			s.mu.Lock()
			defer s.mu.Unlock()
			check := func(kind string, base time.Duration, ttls []time.Duration) {
				upper := time.Duration(float64(base) * (1 + tc.want))
				lo, hi := ttls[0], ttls[0]
				for _, d := range ttls {
					lo, hi = min(lo, d), max(hi, d)
				}
				if lo < base || hi > upper {
					t.Errorf("%s: TTLs in [%v, %v]; want within [%v, %v]", kind, lo, hi, base, upper)
				}
				if tc.want > 0 && hi-lo < time.Duration(float64(upper-base)*0.8) {
					t.Errorf("%s: TTLs in [%v, %v]; want spread over most of [%v, %v]", kind, lo, hi, base, upper)
				}
			}
			var loaded, set, negs []time.Duration
			for i, op := range s.log {
				switch {
				case strings.HasPrefix(op, "set:n"):
					negs = append(negs, s.ttls[i])
				case strings.HasPrefix(op, "set:v"):
					loaded = append(loaded, s.ttls[i])
				default:
					set = append(set, s.ttls[i])
				}
			}
			if len(loaded) != n || len(set) != n || len(negs) != n {
				t.Fatalf("writes: %d loaded, %d set, %d negative; want %d each", len(loaded), len(set), len(negs), n)
			}
			check("loaded values", ttl, loaded)
			check("set values", ttl, set)
			check("negative", neg, negs)
		})
	}
}

// Rule: a store that fails to read is bypassed: Get loads through and
// counts the failure. A failed write loses only the caching.
func TestStoreFailuresLoadThrough(t *testing.T) {
	s := newHookStore(time.Now)
	var calls atomic.Int64
	c := newCache(t, s, func(_ context.Context, key string) (string, error) {
		calls.Add(1)
		return "v", nil
	}, nil)
	ctx := context.Background()
	s.getErr.Store(errp(errors.New("read refused")))
	s.setErr.Store(errp(errors.New("write refused")))
	for range 2 {
		if v, err := c.Get(ctx, "k"); err != nil || v != "v" {
			t.Fatalf("Get = %q, %v; want v", v, err)
		}
	}
	if st := c.Stats(); st.StoreErrors != 4 || calls.Load() != 2 {
		t.Fatalf("stats %+v, loader calls %d; want StoreErrors 4 (2 reads, 2 writes), 2 calls", st, calls.Load())
	}
	s.getErr.Store(nil)
	s.setErr.Store(nil)
	_, _ = c.Get(ctx, "k")
	_, _ = c.Get(ctx, "k")
	if calls.Load() != 3 || c.Stats().Hits != 1 {
		t.Fatalf("after recovery: calls %d, stats %+v; want 3 calls, 1 hit", calls.Load(), c.Stats())
	}
	// Set and Delete report store failures to their caller.
	s.setErr.Store(errp(errors.New("write refused")))
	if err := c.Set(ctx, "k", "x"); err == nil || !strings.Contains(err.Error(), "write refused") {
		t.Fatalf("Set = %v; want the store's error", err)
	}
	s.delErr.Store(errp(errors.New("del refused")))
	if err := c.Delete(ctx, "k"); err == nil || !strings.Contains(err.Error(), "del refused") {
		t.Fatalf("Delete = %v; want the store's error", err)
	}
}

// Rule: a caller that read the store just before a load wrote it, and
// reaches the coalescing point just after that load ended, does not call
// the loader again: the new load looks at the store first.
func TestLateJoinerDoesNotReload(t *testing.T) {
	type lateKey struct{}
	s := newHookStore(time.Now)
	lateMissed, firstDone := make(chan struct{}), make(chan struct{})
	var once sync.Once
	s.afterGet = func(ctx context.Context, key string, found bool) {
		if ctx.Value(lateKey{}) != nil && !found {
			once.Do(func() { close(lateMissed); <-firstDone }) // hold the late caller after its miss
		}
	}
	var calls atomic.Int64
	c := newCache(t, s, func(_ context.Context, key string) (string, error) {
		calls.Add(1)
		return "v", nil
	}, nil)
	late := make(chan error, 1)
	go func() {
		_, err := c.Get(context.WithValue(context.Background(), lateKey{}, true), "k")
		late <- err
	}()
	<-lateMissed
	if v, err := c.Get(context.Background(), "k"); err != nil || v != "v" {
		t.Fatalf("Get = %q, %v", v, err)
	}
	close(firstDone)
	if err := <-late; err != nil {
		t.Fatal(err)
	}
	if got := calls.Load(); got != 1 {
		t.Fatalf("loader calls = %d; want 1", got)
	}
}

// Rule: a Delete while a load is in flight keeps that load's (possibly
// stale) result out of the store; the next Get loads again.
func TestDeleteDuringLoadDropsStaleWrite(t *testing.T) {
	s := newHookStore(time.Now)
	var version atomic.Int64
	started, release := make(chan struct{}, 10), make(chan struct{})
	c := newCache(t, s, func(_ context.Context, key string) (string, error) {
		v := fmt.Sprintf("%s@%d", key, version.Load()) // read the source of truth
		started <- struct{}{}
		<-release
		return v, nil
	}, nil)
	ctx := context.Background()
	got := make(chan string, 1)
	go func() { v, _ := c.Get(ctx, "k"); got <- v }()
	<-started
	// The source changes and the writer invalidates.
	version.Store(1)
	if err := c.Delete(ctx, "k"); err != nil {
		t.Fatal(err)
	}
	close(release)
	if v := <-got; v != "k@0" {
		t.Fatalf("in-flight Get = %q; want k@0 (it started before the change)", v)
	}
	v, err := c.Get(ctx, "k")
	if err != nil || v != "k@1" {
		t.Fatalf("Get after Delete = %q, %v; want k@1", v, err)
	}
	if ops := s.ops(); ops != "del:k set:k" {
		t.Fatalf("store ops %q; want %q (the stale load never wrote)", ops, "del:k set:k")
	}
}

// Rule: a Delete that arrives while a load is writing waits for the write
// and then deletes, so the store ends empty.
func TestDeleteWaitsForWriteInFlight(t *testing.T) {
	inSet, releaseSet := make(chan struct{}), make(chan struct{})
	var once sync.Once
	s := newHookStore(time.Now)
	s.beforeSet = func(string) {
		once.Do(func() { close(inSet); <-releaseSet })
	}
	c := newCache(t, s, echo, nil)
	ctx := context.Background()
	got := make(chan error, 1)
	go func() { _, err := c.Get(ctx, "k"); got <- err }()
	<-inSet // the load is writing
	deleted := make(chan error, 1)
	go func() { deleted <- c.Delete(ctx, "k") }()
	select {
	case err := <-deleted:
		t.Fatalf("Delete returned (%v) while the write was in flight", err)
	case <-time.After(50 * time.Millisecond):
	}
	close(releaseSet)
	if err := <-deleted; err != nil {
		t.Fatal(err)
	}
	if err := <-got; err != nil {
		t.Fatal(err)
	}
	if ops := s.ops(); ops != "set:k del:k" {
		t.Fatalf("store ops %q; want %q", ops, "set:k del:k")
	}
	if _, found, _ := s.Store.Get(ctx, "k"); found {
		t.Fatal("key present after Delete")
	}
}

// Rule: a Set while a load is in flight wins over the load's result.
func TestSetDuringLoadWins(t *testing.T) {
	started, release := make(chan struct{}, 1), make(chan struct{})
	c := newCache(t, memstore.New(nil), func(context.Context, string) (string, error) {
		started <- struct{}{}
		<-release
		return "loaded", nil
	}, nil)
	ctx := context.Background()
	done := make(chan string, 1)
	go func() { v, _ := c.Get(ctx, "k"); done <- v }()
	<-started
	if err := c.Set(ctx, "k", "written"); err != nil {
		t.Fatal(err)
	}
	close(release)
	<-done
	if v, err := c.Get(ctx, "k"); err != nil || v != "written" {
		t.Fatalf("Get = %q, %v; want written", v, err)
	}
}

// Rule: a value the codec cannot encode is a load failure, and Set
// reports it; nothing is stored.
func TestCodecEncodeFailure(t *testing.T) {
	type bad struct{ C chan int }
	s := newHookStore(time.Now)
	c, err := cache.New(s, cache.JSONCodec[bad]{}, func(context.Context, string) (bad, error) {
		return bad{C: make(chan int)}, nil
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := c.Get(ctx, "k"); !errors.Is(err, cache.ErrLoadFailed) {
		t.Fatalf("Get = %v; want ErrLoadFailed", err)
	}
	if err := c.Set(ctx, "k", bad{}); err == nil {
		t.Fatal("Set of an unencodable value: nil error")
	}
	if ops := s.ops(); ops != "" {
		t.Fatalf("store ops %q; want none", ops)
	}
}

func TestJSONCodec(t *testing.T) {
	type link struct {
		Target string
		Hits   int
	}
	c, err := cache.New(memstore.New(nil), cache.JSONCodec[link]{}, func(_ context.Context, code string) (link, error) {
		return link{Target: "https://example.com/" + code, Hits: 7}, nil
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if v, err := c.Get(context.Background(), "abc"); err != nil || v != (link{"https://example.com/abc", 7}) {
			t.Fatalf("Get = %+v, %v", v, err)
		}
	}
	if st := c.Stats(); st.Hits != 1 || st.Loads != 1 {
		t.Fatalf("stats %+v; want a load then a hit", st)
	}
}

// Rule: under concurrent Get, Set and Delete on shared keys (run with
// -race), every Get returns a value that was loaded or set for that key,
// and the counters add up.
func TestConcurrentMixed(t *testing.T) {
	clk := storetest.NewClock()
	var calls atomic.Int64
	c := newCache(t, memstore.New(&memstore.Options{Now: clk.Now, MaxEntries: 64}), func(_ context.Context, key string) (string, error) {
		calls.Add(1)
		if strings.HasSuffix(key, "0") {
			return "", cache.ErrNotFound
		}
		return "L:" + key, nil
	}, &cache.Options{Now: clk.Now, TTL: time.Second, NegativeTTL: 100 * time.Millisecond})
	const goroutines, rounds = 32, 300
	var gets atomic.Uint64
	var wg sync.WaitGroup
	errs := make(chan error, goroutines)
	for g := range goroutines {
		wg.Go(func() {
			ctx := context.Background()
			for i := range rounds {
				key := fmt.Sprintf("k%d", (g*7+i)%20)
				switch i % 10 {
				case 0:
					_ = c.Delete(ctx, key)
				case 1:
					_ = c.Set(ctx, key, "S:"+key)
				case 2:
					clk.Advance(10 * time.Millisecond)
				default:
					gets.Add(1)
					v, err := c.Get(ctx, key)
					switch {
					case err == cache.ErrNotFound && strings.HasSuffix(key, "0"):
					case err != nil:
						errs <- fmt.Errorf("Get(%s): %v", key, err)
						return
					case v != "L:"+key && v != "S:"+key:
						errs <- fmt.Errorf("Get(%s) = %q; want a value of that key", key, v)
						return
					}
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	st := c.Stats()
	if st.Hits+st.NegativeHits+st.Misses != gets.Load() {
		t.Errorf("Hits+NegativeHits+Misses = %d; want %d Gets", st.Hits+st.NegativeHits+st.Misses, gets.Load())
	}
	if st.Loads != uint64(calls.Load()) || st.Loads > st.Misses {
		t.Errorf("Loads = %d, loader calls %d, Misses %d; want Loads = calls <= Misses", st.Loads, calls.Load(), st.Misses)
	}
}

// BenchmarkGetHit measures a hit on memstore: one store read, an entry
// decode and a codec decode.
func BenchmarkGetHit(b *testing.B) {
	c, err := cache.New(memstore.New(nil), cache.StringCodec{}, echo, nil)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	_, _ = c.Get(ctx, "abc1234")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Get(ctx, "abc1234"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkGetHitParallel measures hits on 1024 keys from all Ps.
func BenchmarkGetHitParallel(b *testing.B) {
	c, err := cache.New(memstore.New(nil), cache.StringCodec{}, echo, nil)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	keys := make([]string, 1024)
	for i := range keys {
		keys[i] = fmt.Sprint("k", i)
		_, _ = c.Get(ctx, keys[i])
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			_, _ = c.Get(ctx, keys[i&1023])
			i++
		}
	})
}

// BenchmarkStampede sends N concurrent Gets at one missing key per
// iteration, the loader taking 1ms, and reports loader calls per
// iteration (1 is ideal; a cache without coalescing makes N).
func BenchmarkStampede(b *testing.B) {
	for _, n := range []int{10, 100, 1000} {
		b.Run(fmt.Sprint("N=", n), func(b *testing.B) {
			var calls atomic.Int64
			c, err := cache.New(memstore.New(nil), cache.StringCodec{}, func(_ context.Context, key string) (string, error) {
				calls.Add(1)
				time.Sleep(time.Millisecond)
				return key, nil
			}, nil)
			if err != nil {
				b.Fatal(err)
			}
			ctx := context.Background()
			iter := 0
			for b.Loop() {
				key := fmt.Sprint("miss-", iter)
				iter++
				var wg sync.WaitGroup
				for range n {
					wg.Go(func() { _, _ = c.Get(ctx, key) })
				}
				wg.Wait()
			}
			b.ReportMetric(float64(calls.Load())/float64(iter), "loads/op")
			b.ReportMetric(float64(n), "callers/op")
		})
	}
}
