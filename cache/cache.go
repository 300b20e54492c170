package cache

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"
)

// Defaults of [Options] fields left at zero.
const (
	DefaultTTL         = 10 * time.Minute
	DefaultJitter      = 0.1
	DefaultNegativeTTL = 30 * time.Second
	DefaultLoadTimeout = 10 * time.Second
)

// Options tunes a [Cache]. A nil *Options, and every zero field, means the
// documented default.
type Options struct {
	// TTL is how long a loaded or Set value stays cached, before jitter.
	// Zero means DefaultTTL (10 minutes). Negative is invalid.
	TTL time.Duration

	// Jitter spreads expiries so that keys written together do not expire
	// together: every entry lives for a duration drawn uniformly from
	// [ttl, ttl*(1+Jitter)], where ttl is TTL or NegativeTTL. Zero means
	// DefaultJitter (0.1, that is up to 10% longer); a negative value
	// disables jitter; values above 1 are invalid.
	Jitter float64

	// NegativeTTL is how long the cache remembers that a key was not found
	// (and, with CacheErrors, that its load failed), before jitter. During
	// that time Get returns at once without calling the loader. Zero means
	// DefaultNegativeTTL (30 seconds); a negative value disables negative
	// caching.
	NegativeTTL time.Duration

	// CacheErrors makes a loader failure (an error that is not a
	// not-found) a negative entry for NegativeTTL, so that a failing
	// backend is not hit by every request. Get then returns a
	// [*LoadError] with Cached set. The default, false, caches only
	// not-found results: every Get after a failure calls the loader again
	// (still coalesced per key).
	CacheErrors bool

	// IsNotFound reports whether a loader error means "no such key". Nil
	// means errors.Is(err, ErrNotFound). Set it to recognise, for example,
	// sql.ErrNoRows without wrapping.
	IsNotFound func(error) bool

	// LoadTimeout bounds one run of the loader. The loader runs on a
	// context detached from the callers (it keeps their values, not their
	// cancellation), so this timeout is what ends a stuck load: when it
	// passes, the callers sharing the load get a [*LoadError] wrapping
	// context.DeadlineExceeded and the next Get starts a new load, even if
	// the loader ignores its ctx (its late result is then dropped). Zero
	// means DefaultLoadTimeout (10 seconds). Negative is invalid.
	LoadTimeout time.Duration

	// Now is the clock that decides expiry. Nil means time.Now.
	Now func() time.Time

	// Logger receives store failures (which the cache survives by loading
	// through) and loader panics. Nil discards them.
	Logger *slog.Logger
}

// Stats is a snapshot of a Cache's counters since New.
type Stats struct {
	// Hits counts Gets served a value from the store.
	Hits uint64
	// NegativeHits counts Gets served a negative entry (not found or a
	// cached failure) from the store, without a load.
	NegativeHits uint64
	// Misses counts Gets that found no fresh entry and so started or
	// joined a load (or, without a loader, returned ErrNotFound).
	Misses uint64
	// Loads counts calls of the loader.
	Loads uint64
	// Coalesced counts Gets that joined a load already in flight for their
	// key instead of starting one.
	Coalesced uint64
	// LoadErrors counts loader failures other than not-found, panics
	// included.
	LoadErrors uint64
	// StoreErrors counts failed store reads and writes and undecodable
	// entries; the cache goes on without the store in each case.
	StoreErrors uint64
}

// Cache is a cache-aside front for a loader: Get reads the store and, on a
// miss, calls the loader once per key however many callers are waiting,
// then stores the result with a jittered TTL. Not-found results (and,
// optionally, failures) are cached too, for a shorter NegativeTTL.
//
// A Cache is safe for concurrent use. Values handed to the callers that
// shared one load are the same V: treat them as read-only when V holds
// pointers, slices or maps.
type Cache[V any] struct {
	store  Store
	codec  Codec[V]
	loader func(context.Context, string) (V, error)

	ttl, negTTL, loadTimeout time.Duration
	jitter                   float64
	cacheErrors              bool
	isNotFound               func(error) bool
	now                      func() time.Time
	log                      *slog.Logger

	mu    sync.Mutex
	calls map[string]*call[V]

	hits, negHits, misses, loads, coalesced, loadErrs, storeErrs atomic.Uint64
}

// call is one load in flight.
type call[V any] struct {
	done chan struct{} // closed when val and err are set
	val  V
	err  error

	// Guarded by Cache.mu.
	forgotten bool          // a Set or Delete ran: do not write the result
	writing   chan struct{} // non-nil once the write began; closed when it ends
}

// New returns a Cache over store, encoding values with codec and filling
// misses with loader. The loader returns the value for a key, ErrNotFound
// (or an error matched by Options.IsNotFound) when there is none, or
// another error when it cannot tell. loader may be nil: Get then reports
// ErrNotFound on a miss and the cache holds only what Set puts in it.
// opts may be nil. New starts no goroutine.
func New[V any](store Store, codec Codec[V], loader func(ctx context.Context, key string) (V, error), opts *Options) (*Cache[V], error) {
	if store == nil {
		return nil, fmt.Errorf("%w: nil store", ErrInvalidOptions)
	}
	if codec == nil {
		return nil, fmt.Errorf("%w: nil codec", ErrInvalidOptions)
	}
	var o Options
	if opts != nil {
		o = *opts
	}
	c := &Cache[V]{
		store:       store,
		codec:       codec,
		loader:      loader,
		ttl:         o.TTL,
		negTTL:      o.NegativeTTL,
		loadTimeout: o.LoadTimeout,
		jitter:      o.Jitter,
		cacheErrors: o.CacheErrors,
		isNotFound:  o.IsNotFound,
		now:         o.Now,
		log:         o.Logger,
		calls:       make(map[string]*call[V]),
	}
	switch {
	case c.ttl < 0:
		return nil, fmt.Errorf("%w: negative TTL %v", ErrInvalidOptions, c.ttl)
	case c.ttl == 0:
		c.ttl = DefaultTTL
	}
	switch {
	case c.loadTimeout < 0:
		return nil, fmt.Errorf("%w: negative LoadTimeout %v", ErrInvalidOptions, c.loadTimeout)
	case c.loadTimeout == 0:
		c.loadTimeout = DefaultLoadTimeout
	}
	switch {
	case c.negTTL == 0:
		c.negTTL = DefaultNegativeTTL
	case c.negTTL < 0:
		c.negTTL = 0 // disabled
	}
	switch {
	case math.IsNaN(c.jitter) || c.jitter > 1:
		return nil, fmt.Errorf("%w: Jitter %v not in [0, 1]", ErrInvalidOptions, c.jitter)
	case c.jitter == 0:
		c.jitter = DefaultJitter
	case c.jitter < 0:
		c.jitter = 0 // disabled
	}
	if c.isNotFound == nil {
		c.isNotFound = func(err error) bool { return errors.Is(err, ErrNotFound) }
	}
	if c.now == nil {
		c.now = time.Now
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	return c, nil
}

// Get returns the value for key: from the store when a fresh entry is
// there, otherwise from the loader, whose result is then stored.
//
// Concurrent misses on one key share a single loader call. That call runs
// on a context detached from every caller and bounded by
// Options.LoadTimeout, so a caller whose ctx ends gets ctx.Err() at once
// while the load goes on for the others and still fills the cache.
//
// Get returns [ErrNotFound] when the loader reports no value (live or from
// a negative entry), a [*LoadError] when the loader fails, and ctx.Err()
// when ctx ends first. A store that fails is logged, counted in
// StoreErrors and bypassed: Get then loads through (without a loader, Get
// returns the store's error).
func (c *Cache[V]) Get(ctx context.Context, key string) (V, error) {
	var zero V
	if err := ctx.Err(); err != nil {
		return zero, err
	}
	b, found, err := c.store.Get(ctx, key)
	switch {
	case err != nil:
		if ctx.Err() != nil {
			return zero, ctx.Err()
		}
		c.storeErrs.Add(1)
		if c.loader == nil {
			return zero, fmt.Errorf("cache: get %q: %w", key, err)
		}
		c.log.WarnContext(ctx, "cache: store get failed; loading through", "key", key, "err", err)
	case found:
		if v, err, ok := c.serve(ctx, key, b, true); ok {
			if err != nil {
				c.negHits.Add(1)
			} else {
				c.hits.Add(1)
			}
			return v, err
		}
	}
	c.misses.Add(1)
	if c.loader == nil {
		return zero, ErrNotFound
	}
	return c.join(ctx, key)
}

// serve turns stored bytes into Get's result. ok is false when the entry
// is expired or undecodable, which counts as a miss. report says whether
// to count and log an undecodable entry (the second look of a load does
// not, having been preceded by the first).
func (c *Cache[V]) serve(ctx context.Context, key string, b []byte, report bool) (v V, err error, ok bool) {
	e, derr := decodeEntry(b)
	if derr != nil {
		if !report {
			return v, nil, false
		}
		c.storeErrs.Add(1)
		c.log.WarnContext(ctx, "cache: undecodable entry; reloading", "key", key, "len", len(b))
		return v, nil, false
	}
	if !e.fresh(c.now()) {
		return v, nil, false
	}
	switch e.kind {
	case kindNotFound:
		return v, ErrNotFound, true
	case kindFailed:
		return v, &LoadError{Key: key, Cached: true, Err: errors.New(string(e.payload))}, true
	}
	v, derr = c.codec.Decode(e.payload)
	if derr != nil {
		if !report {
			return v, nil, false
		}
		c.storeErrs.Add(1)
		c.log.WarnContext(ctx, "cache: undecodable value; reloading", "key", key, "err", derr)
		return v, nil, false
	}
	return v, nil, true
}

// join starts a load for key or joins the one in flight, and waits for it
// or for ctx, whichever comes first.
func (c *Cache[V]) join(ctx context.Context, key string) (V, error) {
	c.mu.Lock()
	cl, ok := c.calls[key]
	if ok {
		c.coalesced.Add(1)
	} else {
		cl = &call[V]{done: make(chan struct{})}
		c.calls[key] = cl
		go c.load(context.WithoutCancel(ctx), key, cl)
	}
	c.mu.Unlock()
	select {
	case <-cl.done:
		return cl.val, cl.err
	case <-ctx.Done():
		var zero V
		return zero, ctx.Err()
	}
}

// load runs in its own goroutine, one per key in flight. The second look
// at the store, the loader and the write share one LoadTimeout deadline.
func (c *Cache[V]) load(base context.Context, key string, cl *call[V]) {
	ctx, cancel := context.WithTimeout(base, c.loadTimeout)
	defer cancel()
	defer func() {
		c.mu.Lock()
		if c.calls[key] == cl {
			delete(c.calls, key)
		}
		c.mu.Unlock()
		close(cl.done)
	}()

	// A caller that read the store just before the previous load for this
	// key wrote it may start a new load after that one ended: look again
	// before calling the loader, so that each fill costs one loader call.
	if b, found, err := c.store.Get(ctx, key); err == nil && found {
		if v, err, ok := c.serve(ctx, key, b, false); ok {
			cl.val, cl.err = v, err
			return
		}
	}

	c.loads.Add(1)
	v, err := c.callLoader(ctx, key)
	var (
		kind    entryKind
		payload []byte
		ttl     time.Duration
	)
	switch {
	case err == nil:
		p, eerr := c.codec.Encode(v)
		if eerr != nil {
			c.loadErrs.Add(1)
			cl.err = &LoadError{Key: key, Err: eerr}
			return
		}
		cl.val = v
		kind, payload, ttl = kindValue, p, c.jittered(c.ttl)
	case c.isNotFound(err):
		cl.err = ErrNotFound
		if c.negTTL == 0 {
			return
		}
		kind, ttl = kindNotFound, c.jittered(c.negTTL)
	default:
		c.loadErrs.Add(1)
		cl.err = &LoadError{Key: key, Err: err}
		if !c.cacheErrors || c.negTTL == 0 {
			return
		}
		kind, payload, ttl = kindFailed, []byte(err.Error()), c.jittered(c.negTTL)
	}
	// The store's TTL and the expiry inside the entry are the same.
	buf := appendEntry(make([]byte, 0, entryHeader+len(payload)), kind, c.now().Add(ttl), payload)
	c.write(ctx, key, cl, buf, ttl)
}

// write stores the result of cl unless a Set or Delete of key ran since
// the load began; the Set or Delete waits for a write already under way.
func (c *Cache[V]) write(ctx context.Context, key string, cl *call[V], buf []byte, ttl time.Duration) {
	c.mu.Lock()
	if cl.forgotten {
		c.mu.Unlock()
		return
	}
	cl.writing = make(chan struct{})
	c.mu.Unlock()
	defer close(cl.writing)
	if err := c.store.Set(ctx, key, buf, ttl); err != nil {
		c.storeErrs.Add(1)
		c.log.WarnContext(ctx, "cache: store set failed", "key", key, "err", err)
	}
}

// callLoader runs the loader in a goroutine of its own and waits for it
// at most until ctx ends, so that a loader ignoring its ctx cannot hold
// the key's callers past LoadTimeout (its late result is dropped). A panic
// becomes an error, so that the callers sharing the load get an answer.
func (c *Cache[V]) callLoader(ctx context.Context, key string) (V, error) {
	type result struct {
		v   V
		err error
	}
	ch := make(chan result, 1)
	go func() {
		var r result
		defer func() {
			if p := recover(); p != nil {
				c.log.ErrorContext(ctx, "cache: loader panicked", "key", key, "panic", p)
				r.err = fmt.Errorf("loader panic: %v", p)
			}
			ch <- r
		}()
		r.v, r.err = c.loader(ctx, key)
	}()
	select {
	case r := <-ch:
		return r.v, r.err
	case <-ctx.Done():
		var zero V
		return zero, ctx.Err()
	}
}

// jittered returns a duration drawn uniformly from [d, d*(1+jitter)].
func (c *Cache[V]) jittered(d time.Duration) time.Duration {
	extra := int64(float64(d) * c.jitter)
	if extra <= 0 {
		return d
	}
	return d + time.Duration(rand.Int64N(extra+1))
}

// forget detaches the load in flight for key, if any, so that its result
// is not written, and waits for a write of it already under way. Later
// Gets start a new load.
func (c *Cache[V]) forget(ctx context.Context, key string) error {
	c.mu.Lock()
	cl := c.calls[key]
	var writing chan struct{}
	if cl != nil {
		cl.forgotten = true
		writing = cl.writing
		delete(c.calls, key)
	}
	c.mu.Unlock()
	if writing == nil {
		return nil
	}
	select {
	case <-writing:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Set stores v under key for TTL (jittered), replacing whatever is cached,
// a negative entry included. A load of key in flight in this Cache still
// answers its callers but no longer writes its result.
func (c *Cache[V]) Set(ctx context.Context, key string, v V) error {
	p, err := c.codec.Encode(v)
	if err != nil {
		return fmt.Errorf("cache: set %q: %w", key, err)
	}
	if err := c.forget(ctx, key); err != nil {
		return err
	}
	ttl := c.jittered(c.ttl)
	buf := appendEntry(make([]byte, 0, entryHeader+len(p)), kindValue, c.now().Add(ttl), p)
	if err := c.store.Set(ctx, key, buf, ttl); err != nil {
		return fmt.Errorf("cache: set %q: %w", key, err)
	}
	return nil
}

// Delete invalidates key: the next Get calls the loader. Call it after
// changing the source of truth. A load of key in flight in this Cache
// (which may have read the old data) still answers its callers but no
// longer writes its result. Loads in other processes are not covered; a
// stale value they write lives at most TTL.
func (c *Cache[V]) Delete(ctx context.Context, key string) error {
	if err := c.forget(ctx, key); err != nil {
		return err
	}
	if err := c.store.Delete(ctx, key); err != nil {
		return fmt.Errorf("cache: delete %q: %w", key, err)
	}
	return nil
}

// Stats returns a snapshot of the counters.
func (c *Cache[V]) Stats() Stats {
	return Stats{
		Hits:         c.hits.Load(),
		NegativeHits: c.negHits.Load(),
		Misses:       c.misses.Load(),
		Loads:        c.loads.Load(),
		Coalesced:    c.coalesced.Load(),
		LoadErrors:   c.loadErrs.Load(),
		StoreErrors:  c.storeErrs.Load(),
	}
}
