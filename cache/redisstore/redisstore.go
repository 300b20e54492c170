package redisstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sysblocks/sysblocks/cache"
)

// Options tunes a [Store]. A nil *Options means no prefix.
type Options struct {
	// Prefix is prepended to every key, e.g. "links:". Empty means none.
	Prefix string
}

// Store is a [cache.Store] on Redis. It is safe for concurrent use.
type Store struct {
	c      redis.UniversalClient
	prefix string
}

var _ cache.Store = (*Store)(nil)

// New returns a Store using c. opts may be nil.
func New(c redis.UniversalClient, opts *Options) *Store {
	s := &Store{c: c}
	if opts != nil {
		s.prefix = opts.Prefix
	}
	return s
}

// Get returns the value of prefix+key, with GET.
func (s *Store) Get(ctx context.Context, key string) ([]byte, bool, error) {
	b, err := s.c.Get(ctx, s.prefix+key).Bytes()
	switch {
	case errors.Is(err, redis.Nil):
		return nil, false, nil
	case err != nil:
		return nil, false, fmt.Errorf("redisstore: get: %w", err)
	}
	return b, true, nil
}

// Set stores val under prefix+key with SET PX, the TTL rounded up to a
// whole millisecond.
func (s *Store) Set(ctx context.Context, key string, val []byte, ttl time.Duration) error {
	if ttl <= 0 {
		return fmt.Errorf("redisstore: set: ttl %v must be positive", ttl)
	}
	ms := (ttl + time.Millisecond - 1) / time.Millisecond
	if err := s.c.Do(ctx, "set", s.prefix+key, val, "px", int64(ms)).Err(); err != nil {
		return fmt.Errorf("redisstore: set: %w", err)
	}
	return nil
}

// Delete removes prefix+key with DEL.
func (s *Store) Delete(ctx context.Context, key string) error {
	if err := s.c.Del(ctx, s.prefix+key).Err(); err != nil {
		return fmt.Errorf("redisstore: delete: %w", err)
	}
	return nil
}
