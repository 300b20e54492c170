package redisstore

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/redis/go-redis/v9"

	"github.com/sysblocks/sysblocks/tokenrange"
)

// Options configures a [Store]. The zero value is valid.
type Options struct {
	// Prefix is prepended to the namespace to form the counter's key.
	// Empty means "tokenrange:".
	Prefix string
}

// Store is a [tokenrange.Store] on Redis. It is safe for concurrent use.
type Store struct {
	rdb    redis.UniversalClient
	prefix string
}

// New returns a Store on rdb. opts may be nil.
func New(rdb redis.UniversalClient, opts *Options) *Store {
	prefix := "tokenrange:"
	if opts != nil && opts.Prefix != "" {
		prefix = opts.Prefix
	}
	return &Store{rdb: rdb, prefix: prefix}
}

// Key returns the Redis key of namespace's counter.
func (s *Store) Key(namespace string) string { return s.prefix + namespace }

// Reserve implements [tokenrange.Store] with one INCRBY.
func (s *Store) Reserve(ctx context.Context, namespace string, n, limit uint64) (tokenrange.Range, error) {
	if n == 0 || n > tokenrange.MaxRangeSize || limit == 0 || limit > tokenrange.MaxLimit {
		return tokenrange.Range{}, fmt.Errorf("redisstore: reserve %q: n %d, limit %d: %w", namespace, n, limit, tokenrange.ErrInvalid)
	}
	if err := ctx.Err(); err != nil {
		return tokenrange.Range{}, err
	}
	hi, err := s.rdb.IncrBy(ctx, s.Key(namespace), int64(n)).Result()
	if err != nil {
		if strings.Contains(err.Error(), "overflow") {
			return tokenrange.Range{}, fmt.Errorf("redisstore: reserve %q: counter overflow: %w", namespace, tokenrange.ErrExhausted)
		}
		return tokenrange.Range{}, fmt.Errorf("redisstore: reserve %q: %w", namespace, err)
	}
	if hi < int64(n) {
		return tokenrange.Range{}, fmt.Errorf("redisstore: reserve %q: counter %d is below %d after INCRBY: the key was changed by something else", namespace, hi, n)
	}
	r := tokenrange.Range{Lo: uint64(hi) - n, Hi: uint64(hi)}
	if r.Lo >= limit {
		return tokenrange.Range{}, fmt.Errorf("redisstore: reserve %q: counter %d, limit %d: %w", namespace, r.Lo, limit, tokenrange.ErrExhausted)
	}
	r.Hi = min(r.Hi, limit)
	return r, nil
}

// Counter implements [tokenrange.Store].
func (s *Store) Counter(ctx context.Context, namespace string) (uint64, error) {
	v, err := s.rdb.Get(ctx, s.Key(namespace)).Uint64()
	if errors.Is(err, redis.Nil) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("redisstore: counter %q: %w", namespace, err)
	}
	return v, nil
}
