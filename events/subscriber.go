package events

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// SubscriberOptions configures a [Subscriber]. A nil *SubscriberOptions is
// the same as a zero one.
type SubscriberOptions struct {
	// Concurrency is the number of goroutines running the handler. All
	// messages of one partition go to the same goroutine, one at a time and
	// in order, so ordering per key holds for any Concurrency; more
	// goroutines than assigned partitions add nothing. Zero means 1.
	Concurrency int

	// MaxAttempts is how many times in a row the handler may fail on one
	// message before Run gives up and returns a [*HandlerError]. The message
	// stays uncommitted, so the group receives it again. Zero means no limit:
	// the partition waits, retrying, until the handler succeeds or Run stops.
	MaxAttempts int

	// Backoff is the wait after the first failure; it doubles after each
	// further failure up to MaxBackoff. Zero means 100ms and 10s.
	Backoff, MaxBackoff time.Duration

	// CommitTimeout bounds each commit. Commits run even after Run's context
	// ends, so that work a handler finished is not done twice. Zero means 10s.
	CommitTimeout time.Duration

	// CommitInterval chooses how commits are made. Zero commits each
	// message right after its handler returns nil, before the next message
	// of the partition is handled: a crash redelivers at most the messages
	// being handled, but each message waits for a commit round trip. A
	// positive interval commits in a background goroutine instead, at most
	// once per interval, the latest message handled in each partition: one
	// round trip covers many messages and handlers never wait, and a crash
	// also redelivers what was handled since the last completed commit.
	// Either way delivery is at-least-once, and a clean stop commits
	// everything handled.
	CommitInterval time.Duration

	// Logger receives handler failures and commit errors. Nil means discard.
	Logger *slog.Logger
}

// SubscriberStats counts what a [Subscriber] did since it was created.
type SubscriberStats struct {
	Fetched      uint64 // messages received from the adapter
	Handled      uint64 // handler calls that returned nil
	Failures     uint64 // handler calls that returned an error
	Committed    uint64 // successful commits
	CommitErrors uint64 // failed commits (the message may come again)
}

// Subscriber delivers the messages of one topic to a [Handler], as one
// member of a consumer group, at least once: a message is committed only
// after the handler returned nil for it, and anything not committed when a
// member stops, crashes or is removed is delivered again to a member of the
// group. Messages with the same key are handled in publish order; after a
// failure or a rebalance a run of them may be handled again.
//
// A Subscriber is safe for concurrent use. Run it with [Subscriber.Run];
// run it again after Run returns to rejoin the group.
type Subscriber struct {
	r    Receiver
	h    Handler
	o    SubscriberOptions
	log  *slog.Logger
	busy atomic.Bool

	fetched, handled, failures, committed, commitErrors atomic.Uint64
}

// NewSubscriber returns a Subscriber that joins r's consumer group and
// passes each message to h. It starts nothing; call Run.
func NewSubscriber(r Receiver, h Handler, opts *SubscriberOptions) *Subscriber {
	var o SubscriberOptions
	if opts != nil {
		o = *opts
	}
	if o.Concurrency <= 0 {
		o.Concurrency = 1
	}
	if o.Backoff <= 0 {
		o.Backoff = 100 * time.Millisecond
	}
	if o.MaxBackoff <= 0 {
		o.MaxBackoff = 10 * time.Second
	}
	o.MaxBackoff = max(o.MaxBackoff, o.Backoff)
	if o.CommitTimeout <= 0 {
		o.CommitTimeout = 10 * time.Second
	}
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Subscriber{r: r, h: h, o: o, log: log}
}

// Stats returns a snapshot of the counters.
func (s *Subscriber) Stats() SubscriberStats {
	return SubscriberStats{
		Fetched:      s.fetched.Load(),
		Handled:      s.handled.Load(),
		Failures:     s.failures.Load(),
		Committed:    s.committed.Load(),
		CommitErrors: s.commitErrors.Load(),
	}
}

// Run joins the consumer group and handles messages until ctx ends, then
// waits for running handlers, commits what they finished, leaves the group
// and returns nil. It returns early with an error when the adapter fails,
// or with a [*HandlerError] when MaxAttempts runs out. Every goroutine Run
// starts has stopped when it returns. Calling Run while it runs returns
// [ErrRunning].
func (s *Subscriber) Run(ctx context.Context) error {
	if !s.busy.CompareAndSwap(false, true) {
		return ErrRunning
	}
	defer s.busy.Store(false)
	mem, err := s.r.Join(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return err
	}
	// Commits outlive ctx, so that finished work is not done again.
	base := context.WithoutCancel(ctx)
	done := func(pos Message) { s.commit(base, mem, pos) }
	var ac *asyncCommitter
	if s.o.CommitInterval > 0 {
		ac = newAsyncCommitter(base, s, mem)
		done = ac.mark
	}
	if s.o.Concurrency == 1 {
		err = s.serial(ctx, mem, done)
	} else {
		err = s.parallel(ctx, mem, done)
	}
	if ac != nil {
		ac.stop() // commits what the handlers finished
	}
	if cerr := mem.Close(); err == nil && cerr != nil && !errors.Is(cerr, ErrClosed) {
		err = cerr
	}
	return err
}

// commitFunc records that the handler succeeded on the message at pos
// (Topic, Partition and Offset).
type commitFunc func(pos Message)

func (s *Subscriber) serial(ctx context.Context, mem Member, done commitFunc) error {
	for ctx.Err() == nil {
		msg, err := mem.Fetch(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		s.fetched.Add(1)
		if err := s.process(ctx, msg, done); err != nil {
			return err
		}
	}
	return nil
}

func (s *Subscriber) parallel(parent context.Context, mem Member, done commitFunc) error {
	ctx, cancel := context.WithCancel(parent)
	defer cancel()
	var (
		wg      sync.WaitGroup
		errOnce sync.Once
		werr    error // the first worker's *HandlerError
	)
	queues := make([]chan Message, s.o.Concurrency)
	for i := range queues {
		q := make(chan Message, 1)
		queues[i] = q
		wg.Go(func() {
			for msg := range q {
				if err := s.process(ctx, msg, done); err != nil {
					errOnce.Do(func() { werr = err })
					cancel()
				}
			}
		})
	}
	var err error
	for err == nil && ctx.Err() == nil {
		var msg Message
		msg, err = mem.Fetch(ctx)
		if err != nil {
			break
		}
		s.fetched.Add(1)
		select {
		case queues[msg.Partition%len(queues)] <- msg:
		case <-ctx.Done():
			err = ctx.Err()
		}
	}
	for _, q := range queues {
		close(q)
	}
	wg.Wait()
	if werr != nil {
		return werr
	}
	if ctx.Err() != nil {
		return nil
	}
	return err
}

// process runs the handler on msg until it succeeds, then calls done. It
// returns nil when ctx ends first (leaving msg uncommitted) and a
// *HandlerError when MaxAttempts runs out.
func (s *Subscriber) process(ctx context.Context, msg Message, done commitFunc) error {
	wait := s.o.Backoff
	for attempt := 1; ; attempt++ {
		if ctx.Err() != nil {
			return nil
		}
		m := msg // the handler may change its copy
		err := s.h(ctx, &m)
		if err == nil {
			s.handled.Add(1)
			done(Message{Topic: msg.Topic, Partition: msg.Partition, Offset: msg.Offset})
			return nil
		}
		s.failures.Add(1)
		if ctx.Err() != nil {
			return nil
		}
		if s.o.MaxAttempts > 0 && attempt >= s.o.MaxAttempts {
			return &HandlerError{Topic: msg.Topic, Partition: msg.Partition, Offset: msg.Offset, Attempts: attempt, Err: err}
		}
		s.log.LogAttrs(ctx, slog.LevelWarn, "events: handler failed; retrying",
			slog.String("topic", msg.Topic), slog.Int("partition", msg.Partition),
			slog.Int64("offset", msg.Offset), slog.Int("attempt", attempt),
			slog.Duration("backoff", wait), slog.Any("err", err))
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
		wait = min(2*wait, s.o.MaxBackoff)
	}
}

// commit commits the message at pos and reports whether it worked. ctx
// must not be canceled with Run's context.
func (s *Subscriber) commit(ctx context.Context, mem Member, pos Message) bool {
	cctx, cancel := context.WithTimeout(ctx, s.o.CommitTimeout)
	err := mem.Commit(cctx, pos)
	cancel()
	if err == nil {
		s.committed.Add(1)
		return true
	}
	s.commitErrors.Add(1)
	s.log.LogAttrs(ctx, slog.LevelWarn, "events: commit failed; the message may be delivered again",
		slog.String("topic", pos.Topic), slog.Int("partition", pos.Partition),
		slog.Int64("offset", pos.Offset), slog.Any("err", err))
	return false
}

// asyncCommitter commits in a goroutine of its own, at most once per
// CommitInterval, the latest handled message of each partition.
type asyncCommitter struct {
	ctx  context.Context
	s    *Subscriber
	mem  Member
	kick chan struct{} // a mark is waiting
	quit chan struct{}
	wg   sync.WaitGroup

	mu     sync.Mutex
	latest map[int]Message // partition -> last handled, not yet committed
}

func newAsyncCommitter(ctx context.Context, s *Subscriber, mem Member) *asyncCommitter {
	c := &asyncCommitter{
		ctx: ctx, s: s, mem: mem,
		kick: make(chan struct{}, 1), quit: make(chan struct{}),
		latest: make(map[int]Message),
	}
	c.wg.Go(func() {
		for {
			select {
			case <-c.kick:
			case <-c.quit:
				return
			}
			c.flush()
			t := time.NewTimer(s.o.CommitInterval)
			select {
			case <-t.C:
			case <-c.quit:
				t.Stop()
				return
			}
		}
	})
	return c
}

// mark records that the handler succeeded on the message at pos.
func (c *asyncCommitter) mark(pos Message) {
	c.mu.Lock()
	if cur, ok := c.latest[pos.Partition]; !ok || pos.Offset > cur.Offset {
		c.latest[pos.Partition] = pos
	}
	c.mu.Unlock()
	select {
	case c.kick <- struct{}{}:
	default:
	}
}

// flush commits every marked partition. A failed commit stays marked,
// unless a later message of its partition was marked meanwhile.
func (c *asyncCommitter) flush() {
	c.mu.Lock()
	batch := c.latest
	c.latest = make(map[int]Message, len(batch))
	c.mu.Unlock()
	for _, m := range batch {
		if !c.s.commit(c.ctx, c.mem, m) {
			c.mu.Lock()
			if _, newer := c.latest[m.Partition]; !newer {
				c.latest[m.Partition] = m
			}
			c.mu.Unlock()
		}
	}
}

// stop ends the goroutine and commits what is still marked.
func (c *asyncCommitter) stop() {
	close(c.quit)
	c.wg.Wait()
	c.flush()
}
