package tokenrange

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"time"
)

// AllocatorOptions configures an [Allocator]. The zero value is valid.
type AllocatorOptions struct {
	// Limit is the end of every namespace's token space: tokens lie in
	// [0, Limit). Zero means MaxLimit. Set it to the code space, for
	// example shortid.Capacity(7), so that every token has a code.
	Limit uint64

	// MaxAttempts is how many times Allocate tries a reservation that the
	// store rolled back with ErrConflict. Zero means 8.
	MaxAttempts int

	// Backoff is the wait before the first retry; it doubles with every
	// further retry, with random jitter of up to half of it. Zero means
	// 5ms.
	Backoff time.Duration

	// Logger receives a debug record per retried conflict. Nil discards.
	Logger *slog.Logger
}

// Allocator hands out disjoint ranges of tokens from a [Store]. It is safe
// for concurrent use; any number of Allocators, in any number of processes,
// may share one store.
type Allocator struct {
	store       Store
	limit       uint64
	maxAttempts int
	backoff     time.Duration
	log         *slog.Logger
}

// NewAllocator returns an Allocator on store. opts may be nil. It returns
// an error matching [ErrInvalid] when Limit exceeds MaxLimit.
func NewAllocator(store Store, opts *AllocatorOptions) (*Allocator, error) {
	var o AllocatorOptions
	if opts != nil {
		o = *opts
	}
	if store == nil {
		return nil, fmt.Errorf("tokenrange: new allocator: nil store: %w", ErrInvalid)
	}
	if o.Limit == 0 {
		o.Limit = MaxLimit
	}
	if o.Limit > MaxLimit {
		return nil, fmt.Errorf("tokenrange: new allocator: limit %d above MaxLimit %d: %w", o.Limit, MaxLimit, ErrInvalid)
	}
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = 8
	}
	if o.Backoff <= 0 {
		o.Backoff = 5 * time.Millisecond
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return &Allocator{store: store, limit: o.Limit, maxAttempts: o.MaxAttempts, backoff: o.Backoff, log: o.Logger}, nil
}

// Limit returns the end of the token space.
func (a *Allocator) Limit() uint64 { return a.limit }

// Allocate reserves the next n tokens of namespace and returns them as
// [lo, hi). The range is shorter than n only at the end of the space; after
// that Allocate returns an error matching [ErrExhausted]. n must lie in
// [1, MaxRangeSize] and namespace must pass [ValidNamespace], or the error
// matches [ErrInvalid]. Conflicts reported by the store are retried with
// backoff up to MaxAttempts times.
func (a *Allocator) Allocate(ctx context.Context, namespace string, n uint64) (Range, error) {
	if !ValidNamespace(namespace) {
		return Range{}, fmt.Errorf("tokenrange: allocate: namespace %q: %w", namespace, ErrInvalid)
	}
	if n == 0 || n > MaxRangeSize {
		return Range{}, fmt.Errorf("tokenrange: allocate %q: size %d outside [1, %d]: %w", namespace, n, MaxRangeSize, ErrInvalid)
	}
	wait := a.backoff
	for attempt := 1; ; attempt++ {
		if err := ctx.Err(); err != nil {
			return Range{}, err
		}
		r, err := a.store.Reserve(ctx, namespace, n, a.limit)
		if err == nil {
			if r.Lo >= r.Hi || r.Hi > a.limit || r.Len() > n {
				return Range{}, fmt.Errorf("tokenrange: allocate %q: store returned %v for %d tokens below %d", namespace, r, n, a.limit)
			}
			return r, nil
		}
		if !errors.Is(err, ErrConflict) || attempt >= a.maxAttempts {
			return Range{}, err
		}
		a.log.LogAttrs(ctx, slog.LevelDebug, "tokenrange: reserve conflict, retrying",
			slog.String("namespace", namespace), slog.Int("attempt", attempt), slog.Any("err", err))
		if err := sleep(ctx, jitter(wait)); err != nil {
			return Range{}, err
		}
		wait *= 2
	}
}

// Remaining returns how many tokens of namespace have not been issued yet.
func (a *Allocator) Remaining(ctx context.Context, namespace string) (uint64, error) {
	if !ValidNamespace(namespace) {
		return 0, fmt.Errorf("tokenrange: remaining: namespace %q: %w", namespace, ErrInvalid)
	}
	c, err := a.store.Counter(ctx, namespace)
	if err != nil {
		return 0, err
	}
	return a.limit - min(c, a.limit), nil
}

// sleep waits d or until ctx is done.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// jitter returns d plus a random part of up to d/2.
func jitter(d time.Duration) time.Duration {
	if d <= 1 {
		return d
	}
	return d + time.Duration(rand.Int64N(int64(d/2)+1))
}
