package wsregistry

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"
)

// MaxNameLen is the longest user, device, host or conversation name, in
// bytes.
const MaxNameLen = 256

// Options configures a [Registry]. The zero value is valid.
type Options struct {
	// Lease is how long a registration or heartbeat keeps a socket
	// registered. Zero means 30s. Clients heartbeat well within it (a
	// third of it is usual).
	Lease time.Duration

	// CacheTTL is how long a host keeps a user's non-empty lookup result
	// in its local cache. Zero means 2s; negative disables the cache.
	// Empty results are never cached, so a user who comes online is seen
	// by the next lookup.
	CacheTTL time.Duration

	// CacheSize bounds the number of cached users. Zero means 100000.
	CacheSize int

	// LastSeen, if set, answers [Registry.Presence] for users who are
	// offline.
	LastSeen LastSeenStore

	// OnSeen, if set, is called after every successful Register,
	// Heartbeat and Unregister with the user and the time, for example to
	// publish last-seen updates (see package wsregistry/lastseen). It must
	// not block.
	OnSeen func(user string, at time.Time)

	// Now returns the current time. Nil means time.Now.
	Now func() time.Time

	// Logger receives debug records. Nil discards them.
	Logger *slog.Logger
}

// Stats counts the lookups of a [Registry].
type Stats struct {
	CacheHits     uint64 // lookups answered from the local cache
	CacheMisses   uint64 // lookups that read the store
	Invalidations uint64 // cache entries dropped because they proved stale
}

// Registry records which gateway host holds each user's sockets. Each
// gateway host has one Registry over the shared [Store]; lookups go through
// a short-lived local cache. A Registry is safe for concurrent use.
type Registry struct {
	store Store
	opts  Options

	mu    sync.Mutex
	cache map[string]cacheEntry
	gen   uint64 // bumped by every invalidation, under mu

	hits, misses, invalidations atomic.Uint64
}

type cacheEntry struct {
	conns []Conn
	until time.Time
}

// New returns a Registry over store.
func New(store Store, opts *Options) (*Registry, error) {
	if store == nil {
		return nil, &InputError{Op: "new", Field: "store", Reason: "nil"}
	}
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.Lease < 0 {
		return nil, &InputError{Op: "new", Field: "Lease", Reason: "negative"}
	}
	if o.Lease == 0 {
		o.Lease = 30 * time.Second
	}
	if o.CacheTTL == 0 {
		o.CacheTTL = 2 * time.Second
	}
	if o.CacheSize <= 0 {
		o.CacheSize = 100000
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return &Registry{store: store, opts: o, cache: make(map[string]cacheEntry)}, nil
}

// Lease returns the lease duration.
func (r *Registry) Lease() time.Duration { return r.opts.Lease }

// Register records that user's device is connected to host for one lease,
// replacing whatever host held the device before, and returns the lease.
// A reconnecting client registers first and then resyncs
// ([Router.Resync]), so that nothing sent meanwhile is missed.
func (r *Registry) Register(ctx context.Context, user, device, host string) (Conn, error) {
	if err := checkConn("register", user, device, host); err != nil {
		return Conn{}, err
	}
	now := r.opts.Now()
	c := Conn{User: user, Device: device, Host: host, Expires: now.Add(r.opts.Lease)}
	if err := r.store.Put(ctx, c, now); err != nil {
		return Conn{}, err
	}
	r.Invalidate(user)
	r.seen(user, now)
	return c, nil
}

// Heartbeat extends the lease of user's device on host by one lease from
// now. It returns an error matching [ErrNotFound] if the lease expired or
// another host took the device over: the gateway should then close the
// socket, or Register again.
func (r *Registry) Heartbeat(ctx context.Context, user, device, host string) (Conn, error) {
	if err := checkConn("heartbeat", user, device, host); err != nil {
		return Conn{}, err
	}
	now := r.opts.Now()
	c := Conn{User: user, Device: device, Host: host, Expires: now.Add(r.opts.Lease)}
	if err := r.store.Renew(ctx, user, device, host, c.Expires, now); err != nil {
		return Conn{}, err
	}
	r.seen(user, now)
	return c, nil
}

// Unregister removes the lease of user's device if host holds it. It is
// idempotent: a lease already gone or taken over by another host is not an
// error and is left alone.
func (r *Registry) Unregister(ctx context.Context, user, device, host string) error {
	if err := checkConn("unregister", user, device, host); err != nil {
		return err
	}
	err := r.store.Delete(ctx, user, device, host)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return err
	}
	r.Invalidate(user)
	r.seen(user, r.opts.Now())
	return nil
}

// Lookup returns user's live connections, sorted by device, from the
// local cache when it holds a fresh non-empty answer, else from the store.
// Connections whose lease has expired are never returned.
func (r *Registry) Lookup(ctx context.Context, user string) ([]Conn, error) {
	return r.lookup(ctx, "lookup", user, false)
}

// LookupFresh is [Registry.Lookup] bypassing the cache; it refreshes the
// cache with its answer.
func (r *Registry) LookupFresh(ctx context.Context, user string) ([]Conn, error) {
	return r.lookup(ctx, "lookup", user, true)
}

func (r *Registry) lookup(ctx context.Context, op, user string, fresh bool) ([]Conn, error) {
	if err := checkName(op, "user", user); err != nil {
		return nil, err
	}
	now := r.opts.Now()
	r.mu.Lock()
	gen := r.gen
	e, ok := r.cache[user]
	r.mu.Unlock()
	if !fresh && r.opts.CacheTTL > 0 {
		if ok && now.Before(e.until) {
			live := make([]Conn, 0, len(e.conns))
			for _, c := range e.conns {
				if c.Expires.After(now) {
					live = append(live, c)
				}
			}
			if len(live) > 0 {
				r.hits.Add(1)
				return live, nil
			}
		}
	}
	r.misses.Add(1)
	conns, err := r.store.List(ctx, user, now)
	if err != nil {
		return nil, err
	}
	if r.opts.CacheTTL > 0 {
		r.mu.Lock()
		defer r.mu.Unlock()
		if r.gen != gen {
			// An invalidation ran during the read: the answer may
			// predate it, so it must not be cached.
			return conns, nil
		}
		if len(conns) == 0 {
			delete(r.cache, user)
		} else {
			if _, ok := r.cache[user]; !ok && len(r.cache) >= r.opts.CacheSize {
				for k := range r.cache { // evict an arbitrary entry
					delete(r.cache, k)
					break
				}
			}
			r.cache[user] = cacheEntry{conns: slices.Clone(conns), until: now.Add(r.opts.CacheTTL)}
		}
	}
	return conns, nil
}

// Invalidate drops user's entry from the local cache. The [Router] calls
// it when a delivery proves the cached answer stale; gateways call it when
// they learn of a change another way.
func (r *Registry) Invalidate(user string) {
	r.mu.Lock()
	_, ok := r.cache[user]
	delete(r.cache, user)
	r.gen++
	r.mu.Unlock()
	if ok {
		r.invalidations.Add(1)
	}
}

// Presence is whether a user is online and when they were last seen.
type Presence struct {
	Online   bool
	Devices  int       // live connections
	LastSeen time.Time // zero if unknown; the current time while online
}

// Presence reports whether user has a live connection and, from
// Options.LastSeen, when they were last seen. It reads the store, not the
// cache.
func (r *Registry) Presence(ctx context.Context, user string) (Presence, error) {
	conns, err := r.lookup(ctx, "presence", user, true)
	if err != nil {
		return Presence{}, err
	}
	if len(conns) > 0 {
		return Presence{Online: true, Devices: len(conns), LastSeen: r.opts.Now()}, nil
	}
	var p Presence
	if r.opts.LastSeen != nil {
		at, err := r.opts.LastSeen.LastSeen(ctx, user)
		if err != nil && !errors.Is(err, ErrNotFound) {
			return Presence{}, err
		}
		p.LastSeen = at
	}
	return p, nil
}

// Stats returns a snapshot of the lookup counters.
func (r *Registry) Stats() Stats {
	return Stats{CacheHits: r.hits.Load(), CacheMisses: r.misses.Load(), Invalidations: r.invalidations.Load()}
}

func (r *Registry) seen(user string, at time.Time) {
	if r.opts.OnSeen != nil {
		r.opts.OnSeen(user, at)
	}
}

func checkConn(op, user, device, host string) error {
	if err := checkName(op, "user", user); err != nil {
		return err
	}
	if err := checkName(op, "device", device); err != nil {
		return err
	}
	return checkName(op, "host", host)
}

// checkName accepts 1 to MaxNameLen bytes of UTF-8 without control
// characters.
func checkName(op, field, s string) error {
	switch {
	case s == "":
		return &InputError{Op: op, Field: field, Reason: "empty"}
	case len(s) > MaxNameLen:
		return &InputError{Op: op, Field: field, Reason: "longer than 256 bytes"}
	case !utf8.ValidString(s):
		return &InputError{Op: op, Field: field, Reason: "not valid UTF-8"}
	}
	for _, c := range s {
		if c < 0x20 || c == 0x7f {
			return &InputError{Op: op, Field: field, Reason: "contains a control character"}
		}
	}
	return nil
}
