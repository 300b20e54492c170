package memstore

import (
	"context"
	"fmt"
	"sync"

	"github.com/sysblocks/sysblocks/tokenrange"
)

// Store is an in-memory [tokenrange.Store]. The zero value is not usable;
// call [New]. It is safe for concurrent use.
type Store struct {
	mu     sync.Mutex
	counts map[string]uint64
	issued map[string][]tokenrange.Range
}

// New returns an empty Store.
func New() *Store {
	return &Store{counts: make(map[string]uint64), issued: make(map[string][]tokenrange.Range)}
}

// Reserve implements [tokenrange.Store].
func (s *Store) Reserve(ctx context.Context, namespace string, n, limit uint64) (tokenrange.Range, error) {
	if err := ctx.Err(); err != nil {
		return tokenrange.Range{}, err
	}
	if n == 0 || limit == 0 {
		return tokenrange.Range{}, fmt.Errorf("memstore: reserve %q: n %d, limit %d: %w", namespace, n, limit, tokenrange.ErrInvalid)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	lo := s.counts[namespace]
	if lo >= limit {
		return tokenrange.Range{}, fmt.Errorf("memstore: reserve %q: counter %d, limit %d: %w", namespace, lo, limit, tokenrange.ErrExhausted)
	}
	hi := limit
	if limit-lo > n {
		hi = lo + n
	}
	s.counts[namespace] = hi
	r := tokenrange.Range{Lo: lo, Hi: hi}
	s.issued[namespace] = append(s.issued[namespace], r)
	return r, nil
}

// Counter implements [tokenrange.Store].
func (s *Store) Counter(ctx context.Context, namespace string) (uint64, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.counts[namespace], nil
}

// Issued implements [tokenrange.Auditor].
func (s *Store) Issued(ctx context.Context, namespace string) ([]tokenrange.Range, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]tokenrange.Range(nil), s.issued[namespace]...), nil
}
