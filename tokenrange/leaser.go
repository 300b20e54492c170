package tokenrange

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// LeaserOptions configures a [Leaser]. The zero value is valid; every zero
// field takes the default it documents.
type LeaserOptions struct {
	// MinSize is the smallest range the Leaser asks for. Zero means 100.
	MinSize uint64
	// MaxSize is the largest range the Leaser asks for, and so bounds what
	// a crash loses: at most 2*MaxSize tokens (the current and the next
	// range). Zero means 1,000,000. It is raised to MinSize if smaller and
	// lowered to MaxRangeSize if larger.
	MaxSize uint64
	// InitialSize is the size of the first range, before any rate has been
	// measured. Zero means MinSize. It is kept within [MinSize, MaxSize].
	InitialSize uint64

	// Target is how long one range should last: each fetch asks for
	// rate*Target tokens, kept within [MinSize, MaxSize], where rate is a
	// moving average (weight 1/2 per range) of the tokens per second served
	// from the current range since it became current. Zero means 1 minute.
	Target time.Duration

	// RefillAt is the fraction of the current range that is used when the
	// next one is fetched in the background; the store then has the rest
	// of the range, (1-RefillAt)*Target at the measured rate, to answer
	// before any caller waits. It must lie in (0, 1); zero or anything
	// outside means 0.1, as in Leaf.
	RefillAt float64

	// RetryBackoff is the wait after a failed background fetch; it doubles
	// after every further failure up to 5 seconds. Zero means 50ms.
	RetryBackoff time.Duration

	// Now is the clock of the rate estimate. Nil means time.Now.
	Now func() time.Time

	// Logger receives a warning per failed background fetch. Nil discards.
	Logger *slog.Logger
}

// LeaserStats is a snapshot of a Leaser's counters.
type LeaserStats struct {
	Fetches     uint64  // ranges received from the store
	FetchErrors uint64  // failed fetches, exhaustion not counted
	Leased      uint64  // tokens received from the store
	Served      uint64  // tokens returned by Next (exact when no Next is running)
	Stalls      uint64  // Next calls that had to wait for the store
	Rate        float64 // estimated tokens per second
	Size        uint64  // size of the last range asked for
	Exhausted   bool    // the store reported the end of the space
}

// Leaser serves tokens of one namespace from memory, fetching ranges from
// an [Allocator] ahead of need (see the package documentation). It is safe
// for concurrent use.
//
// Run is optional. With Run, the next range is fetched in the background
// when RefillAt of the current one is used, and a caller waits for the store
// only when both ranges are used up. Without Run, the Next call that finds
// both ranges used up fetches the next range itself (one fetch at a time;
// concurrent callers wait for it). The Leaser starts no goroutine of its own.
type Leaser struct {
	cur   atomic.Pointer[segment] // never nil
	alloc *Allocator
	ns    string
	o     LeaserOptions
	log   *slog.Logger
	wake  chan struct{} // capacity 1: the current range reached RefillAt

	errExhausted error
	running      atomic.Bool

	mu        sync.Mutex
	next      *segment
	inflight  chan struct{} // closed when the fetch in flight ends; nil when none
	exhausted bool
	closed    bool
	cancelRun context.CancelFunc
	rate      float64
	size      uint64
	stats     LeaserStats
}

// segment is one leased range. pos is the index of the next token to hand
// out; callers that find pos past n fall back to the slow path.
type segment struct {
	pos     atomic.Uint64
	lo, n   uint64
	trigger uint64    // the caller taking this index wakes the refiller
	start   time.Time // when it became current; guarded by Leaser.mu
}

// NewLeaser returns a Leaser for namespace on alloc. opts may be nil. It
// returns an error matching [ErrInvalid] for a namespace that
// [ValidNamespace] rejects. It starts no goroutine; see [Leaser.Run].
func NewLeaser(alloc *Allocator, namespace string, opts *LeaserOptions) (*Leaser, error) {
	if alloc == nil {
		return nil, fmt.Errorf("tokenrange: new leaser: nil allocator: %w", ErrInvalid)
	}
	if !ValidNamespace(namespace) {
		return nil, fmt.Errorf("tokenrange: new leaser: namespace %q: %w", namespace, ErrInvalid)
	}
	var o LeaserOptions
	if opts != nil {
		o = *opts
	}
	if o.MinSize == 0 {
		o.MinSize = 100
	}
	o.MinSize = min(o.MinSize, MaxRangeSize)
	if o.MaxSize == 0 {
		o.MaxSize = 1_000_000
	}
	o.MaxSize = min(max(o.MaxSize, o.MinSize), MaxRangeSize)
	if o.InitialSize == 0 {
		o.InitialSize = o.MinSize
	}
	o.InitialSize = min(max(o.InitialSize, o.MinSize), o.MaxSize)
	if o.Target <= 0 {
		o.Target = time.Minute
	}
	if !(o.RefillAt > 0 && o.RefillAt < 1) {
		o.RefillAt = 0.1
	}
	if o.RetryBackoff <= 0 {
		o.RetryBackoff = 50 * time.Millisecond
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	log := o.Logger
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	l := &Leaser{
		alloc:        alloc,
		ns:           namespace,
		o:            o,
		log:          log,
		wake:         make(chan struct{}, 1),
		errExhausted: fmt.Errorf("tokenrange: next %q: %w", namespace, ErrExhausted),
	}
	l.cur.Store(&segment{})
	return l, nil
}

// Namespace returns the namespace the Leaser serves.
func (l *Leaser) Namespace() string { return l.ns }

// Next returns a token never returned before by any Leaser or Allocator on
// the same store. While the current range lasts it is an atomic add: no
// lock, no allocation, no I/O, and ctx is not consulted. ctx bounds the wait
// when both ranges are used up. Next returns an error matching
// [ErrExhausted] at the end of the space, [ErrClosed] after Close, or the
// store's error when the fetch it waited for failed.
func (l *Leaser) Next(ctx context.Context) (uint64, error) {
	for {
		s := l.cur.Load()
		i := s.pos.Add(1) - 1
		if i < s.n {
			if i == s.trigger {
				select {
				case l.wake <- struct{}{}:
				default:
				}
			}
			return s.lo + i, nil
		}
		if err := l.advance(ctx, s); err != nil {
			return 0, err
		}
	}
}

// advance replaces the used-up segment s by the next one, fetching it if
// needed. It returns nil when the caller should try the fast path again.
func (l *Leaser) advance(ctx context.Context, s *segment) error {
	stalled := false
	l.mu.Lock()
	defer l.mu.Unlock()
	for {
		switch {
		case l.closed:
			return ErrClosed
		case l.cur.Load() != s:
			return nil // another caller moved on already
		case l.next != nil:
			l.promote()
			return nil
		case l.exhausted:
			return l.errExhausted
		}
		if !stalled {
			stalled = true
			l.stats.Stalls++
		}
		if ch := l.inflight; ch != nil {
			l.mu.Unlock()
			select {
			case <-ch:
			case <-ctx.Done():
				l.mu.Lock()
				return ctx.Err()
			}
			l.mu.Lock()
			continue
		}
		if err := l.fetchLocked(ctx); err != nil && !errors.Is(err, ErrExhausted) {
			return err
		}
	}
}

// promote makes next the current segment. l.mu is held.
func (l *Leaser) promote() {
	old := l.cur.Load()
	l.stats.Served += min(old.pos.Load(), old.n)
	l.next.start = l.o.Now()
	l.cur.Store(l.next)
	l.next = nil
}

// fetchLocked asks the allocator for the next range and stores it in
// l.next. l.mu is held on entry and on return but released during the
// call; l.inflight marks the fetch so that no second one starts.
func (l *Leaser) fetchLocked(ctx context.Context) error {
	size := l.plan()
	ch := make(chan struct{})
	l.inflight = ch
	l.mu.Unlock()
	r, err := l.alloc.Allocate(ctx, l.ns, size)
	l.mu.Lock()
	l.inflight = nil
	close(ch)
	switch {
	case l.closed:
		return ErrClosed // a range fetched now is lost, never reissued
	case err == nil:
		n := r.Len()
		trigger := uint64(float64(n) * l.o.RefillAt)
		if trigger >= n {
			trigger = n - 1
		}
		l.next = &segment{lo: r.Lo, n: n, trigger: trigger}
		l.stats.Fetches++
		l.stats.Leased += n
		return nil
	case errors.Is(err, ErrExhausted):
		l.exhausted = true
		return err
	default:
		l.stats.FetchErrors++
		return err
	}
}

// plan updates the rate estimate from the current segment and returns the
// size of the next range. l.mu is held.
func (l *Leaser) plan() uint64 {
	if cur := l.cur.Load(); cur.n > 0 {
		if used := min(cur.pos.Load(), cur.n); used > 0 {
			elapsed := l.o.Now().Sub(cur.start)
			if elapsed <= 0 {
				elapsed = time.Microsecond // faster than the clock can tell
			}
			sample := float64(used) / elapsed.Seconds()
			if l.rate == 0 {
				l.rate = sample
			} else {
				l.rate = (l.rate + sample) / 2
			}
		}
	}
	size := l.o.InitialSize
	if l.rate > 0 {
		want := l.rate * l.o.Target.Seconds()
		switch {
		case want >= float64(l.o.MaxSize):
			size = l.o.MaxSize
		case want <= float64(l.o.MinSize):
			size = l.o.MinSize
		default:
			size = uint64(want)
		}
	}
	l.size = size
	return size
}

// Run keeps the next range ready until ctx ends or the Leaser is closed,
// then returns nil. It fetches one range at once when none is waiting, and
// another whenever the current range reaches RefillAt. A failed fetch is
// retried with backoff (RetryBackoff, doubling up to 5s) while no range is
// waiting. Run starts no goroutine; calling it while it runs returns
// [ErrRunning].
func (l *Leaser) Run(ctx context.Context) error {
	if !l.running.CompareAndSwap(false, true) {
		return ErrRunning
	}
	defer l.running.Store(false)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return nil
	}
	l.cancelRun = cancel
	l.mu.Unlock()
	defer func() {
		l.mu.Lock()
		l.cancelRun = nil
		l.mu.Unlock()
	}()
	for {
		l.refill(ctx)
		select {
		case <-ctx.Done():
			return nil
		case <-l.wake:
		}
	}
}

// refill fetches a range into l.next unless one is waiting, retrying
// failures with backoff until it succeeds, the space is exhausted, or ctx
// ends.
func (l *Leaser) refill(ctx context.Context) {
	const maxBackoff = 5 * time.Second
	wait := l.o.RetryBackoff
	for {
		l.mu.Lock()
		if l.closed || l.exhausted || l.next != nil || ctx.Err() != nil {
			l.mu.Unlock()
			return
		}
		if ch := l.inflight; ch != nil {
			l.mu.Unlock()
			select {
			case <-ch:
				continue
			case <-ctx.Done():
				return
			}
		}
		err := l.fetchLocked(ctx)
		l.mu.Unlock()
		if err == nil || errors.Is(err, ErrExhausted) || errors.Is(err, ErrClosed) || ctx.Err() != nil {
			return
		}
		l.log.LogAttrs(ctx, slog.LevelWarn, "tokenrange: background fetch failed",
			slog.String("namespace", l.ns), slog.Duration("retry_in", wait), slog.Any("err", err))
		if sleep(ctx, wait) != nil {
			return
		}
		wait = min(2*wait, maxBackoff)
	}
}

// Close stops Run and makes Next return [ErrClosed]. The unused tokens of
// the ranges held are lost (never handed out by anyone). Close is
// idempotent and returns nil.
func (l *Leaser) Close() error {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return nil
	}
	l.closed = true
	old := l.cur.Swap(&segment{})
	l.stats.Served += min(old.pos.Load(), old.n)
	l.next = nil
	cancel := l.cancelRun
	l.mu.Unlock()
	if cancel != nil {
		cancel()
	}
	return nil
}

// Stats returns a snapshot of the Leaser's counters.
func (l *Leaser) Stats() LeaserStats {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := l.stats
	if !l.closed {
		cur := l.cur.Load()
		s.Served += min(cur.pos.Load(), cur.n)
	}
	s.Rate = l.rate
	s.Size = l.size
	s.Exhausted = l.exhausted
	return s
}
