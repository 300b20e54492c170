package memstore

import (
	"context"
	"fmt"
	"hash/maphash"
	"sync"
	"time"

	"github.com/sysblocks/sysblocks/cache"
)

// DefaultMaxEntries is the bound used when Options.MaxEntries is zero.
const DefaultMaxEntries = 100_000

const (
	shards         = 16
	minShardedSize = 1024
)

// Options tunes a [Store]. A nil *Options, and every zero field, means the
// documented default.
type Options struct {
	// MaxEntries bounds the number of keys held; setting a new key beyond
	// it evicts the least recently used one. Zero means DefaultMaxEntries;
	// a negative value means no bound.
	MaxEntries int

	// Now is the clock that expires keys. Nil means time.Now.
	Now func() time.Time
}

// Store is an in-memory [cache.Store]. It is safe for concurrent use. It
// copies values on Set and on Get, so callers may reuse or modify their
// slices.
type Store struct {
	now    func() time.Time
	seed   maphash.Seed
	shards []shard
}

var _ cache.Store = (*Store)(nil)

type shard struct {
	mu    sync.Mutex
	max   int // 0: unbounded
	items map[string]*item
	head  item // sentinel of the LRU ring: head.next is the most recent
}

type item struct {
	key        string
	val        []byte
	expires    time.Time
	prev, next *item
}

// New returns an empty Store. opts may be nil.
func New(opts *Options) *Store {
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	maxEntries := o.MaxEntries
	switch {
	case maxEntries == 0:
		maxEntries = DefaultMaxEntries
	case maxEntries < 0:
		maxEntries = 0
	}
	n := shards
	if maxEntries > 0 && maxEntries < minShardedSize {
		n = 1
	}
	s := &Store{now: o.Now, seed: maphash.MakeSeed(), shards: make([]shard, n)}
	for i := range s.shards {
		sh := &s.shards[i]
		sh.items = make(map[string]*item)
		sh.head.prev, sh.head.next = &sh.head, &sh.head
		if maxEntries > 0 {
			sh.max = (maxEntries + n - 1) / n
		}
	}
	return s
}

func (s *Store) shard(key string) *shard {
	if len(s.shards) == 1 {
		return &s.shards[0]
	}
	return &s.shards[maphash.String(s.seed, key)%uint64(len(s.shards))]
}

// Get returns a copy of the value under key if it has not expired.
func (s *Store) Get(ctx context.Context, key string) ([]byte, bool, error) {
	if err := ctx.Err(); err != nil {
		return nil, false, fmt.Errorf("memstore: get: %w", err)
	}
	now := s.now()
	sh := s.shard(key)
	sh.mu.Lock()
	it, ok := sh.items[key]
	if !ok {
		sh.mu.Unlock()
		return nil, false, nil
	}
	if !now.Before(it.expires) {
		sh.remove(it)
		sh.mu.Unlock()
		return nil, false, nil
	}
	sh.moveToFront(it)
	val := append([]byte(nil), it.val...)
	sh.mu.Unlock()
	if val == nil {
		val = []byte{}
	}
	return val, true, nil
}

// Set stores a copy of val under key until ttl from now, evicting the
// least recently used key of the shard if the store is full.
func (s *Store) Set(ctx context.Context, key string, val []byte, ttl time.Duration) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("memstore: set: %w", err)
	}
	if ttl <= 0 {
		return fmt.Errorf("memstore: set: ttl %v must be positive", ttl)
	}
	expires := s.now().Add(ttl)
	val = append([]byte(nil), val...)
	sh := s.shard(key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if it, ok := sh.items[key]; ok {
		it.val, it.expires = val, expires
		sh.moveToFront(it)
		return nil
	}
	it := &item{key: key, val: val, expires: expires}
	sh.items[key] = it
	sh.pushFront(it)
	if sh.max > 0 && len(sh.items) > sh.max {
		sh.remove(sh.head.prev)
	}
	return nil
}

// Delete removes key.
func (s *Store) Delete(ctx context.Context, key string) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("memstore: delete: %w", err)
	}
	sh := s.shard(key)
	sh.mu.Lock()
	if it, ok := sh.items[key]; ok {
		sh.remove(it)
	}
	sh.mu.Unlock()
	return nil
}

// Len returns the number of keys held, expired ones not yet removed
// included.
func (s *Store) Len() int {
	n := 0
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.Lock()
		n += len(sh.items)
		sh.mu.Unlock()
	}
	return n
}

func (sh *shard) pushFront(it *item) {
	it.prev, it.next = &sh.head, sh.head.next
	it.prev.next, it.next.prev = it, it
}

func (sh *shard) unlink(it *item) {
	it.prev.next, it.next.prev = it.next, it.prev
	it.prev, it.next = nil, nil
}

func (sh *shard) moveToFront(it *item) {
	if sh.head.next == it {
		return
	}
	sh.unlink(it)
	sh.pushFront(it)
}

func (sh *shard) remove(it *item) {
	sh.unlink(it)
	delete(sh.items, it.key)
}
