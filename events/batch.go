package events

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// BatchOptions configures a [BatchPublisher]. A nil *BatchOptions is the
// same as a zero one.
type BatchOptions struct {
	// Topic is used for messages whose Topic is empty. Empty means no
	// default: such messages are refused with [ErrNoTopic].
	Topic string

	// MaxRecords is M: a flush starts as soon as M records wait, and each
	// Send carries at most M records. Zero means 1000.
	MaxRecords int

	// MaxDelay is T: a record waits at most about T before a flush takes
	// it, however few records there are. Zero means 1s.
	MaxDelay time.Duration

	// QueueSize bounds the records waiting for a flush; beyond it Publish
	// drops. Zero means 10*MaxRecords; a smaller value lowers MaxRecords to
	// it.
	QueueSize int

	// ShutdownTimeout bounds the last flush, after Run's context ends.
	// Zero means 5s.
	ShutdownTimeout time.Duration

	// Now stamps, at flush time, messages whose Time is zero. Nil means
	// time.Now.
	Now func() time.Time

	// Logger receives failed flushes. Nil means discard.
	Logger *slog.Logger
}

// BatchStats counts the records given to a [BatchPublisher] since it was
// created. Every accepted record is in exactly one of Queued, Sending,
// Published and Failed, so when Run has returned,
// Published + Failed + Dropped + Queued is the number of Publish calls.
type BatchStats struct {
	Queued    int    // waiting for a flush
	Sending   int    // in a Send that has not returned
	Published uint64 // sent successfully
	Failed    uint64 // in a Send that failed; they are not retried
	Dropped   uint64 // refused by Publish: queue full or no topic
}

// BatchPublisher is a lossy, never-blocking publisher for high-volume data
// where a few lost records are acceptable, such as click analytics:
// Publish appends to a bounded in-memory queue, and Run flushes the queue
// to the Sender when it holds MaxRecords records or MaxDelay has passed,
// so the broker sees one request per M records instead of one per record.
//
// Publish never waits for the network: when the broker is slow or down,
// the queue fills and further records are dropped and counted (see
// [BatchStats]). A failed flush is counted and not retried; for Kafka the
// Writer's own MaxAttempts still apply. Records still queued when the
// process dies are lost. Records of one key reach the broker in publish
// order, minus the lost ones.
//
// A BatchPublisher is safe for concurrent use. Publish before Run is
// allowed: records wait in the queue.
type BatchPublisher struct {
	s       Sender
	o       BatchOptions
	log     *slog.Logger
	running atomic.Bool

	mu     sync.Mutex
	buf    []Message     // the queue; cap is QueueSize
	full   chan struct{} // signalled when the queue reaches MaxRecords
	isFull atomic.Bool   // len(buf) == cap(buf), give or take a flush: drops skip the lock

	sending                    atomic.Int64
	published, failed, dropped atomic.Uint64
}

// NewBatchPublisher returns a BatchPublisher that sends through s. It
// starts nothing; call Run.
func NewBatchPublisher(s Sender, opts *BatchOptions) *BatchPublisher {
	var o BatchOptions
	if opts != nil {
		o = *opts
	}
	if o.MaxRecords <= 0 {
		o.MaxRecords = 1000
	}
	if o.MaxDelay <= 0 {
		o.MaxDelay = time.Second
	}
	if o.QueueSize <= 0 {
		o.QueueSize = 10 * o.MaxRecords
	}
	o.MaxRecords = min(o.MaxRecords, o.QueueSize)
	if o.ShutdownTimeout <= 0 {
		o.ShutdownTimeout = 5 * time.Second
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &BatchPublisher{
		s: s, o: o, log: log,
		buf:  make([]Message, 0, o.QueueSize),
		full: make(chan struct{}, 1),
	}
}

// Publish queues m and returns at once, without allocating or reading the
// clock. A zero m.Time is filled in when the record leaves the queue, at
// most about MaxDelay after Publish (sooner under load, when batches fill
// quickly); set Time before Publish for the exact event time. It returns
// [ErrQueueFull] when the queue is full and [ErrNoTopic] when m has no
// topic and there is no default; in both cases m is dropped and counted.
// The queue keeps m's slices until the flush: the caller must not change
// them after Publish.
func (b *BatchPublisher) Publish(m Message) error {
	if m.Topic == "" {
		if b.o.Topic == "" {
			b.dropped.Add(1)
			return ErrNoTopic
		}
		m.Topic = b.o.Topic
	}
	if b.isFull.Load() {
		b.dropped.Add(1)
		return ErrQueueFull
	}
	b.mu.Lock()
	n := len(b.buf)
	if n == cap(b.buf) {
		b.mu.Unlock()
		b.dropped.Add(1)
		return ErrQueueFull
	}
	b.buf = append(b.buf, m)
	if n+1 == cap(b.buf) {
		b.isFull.Store(true)
	}
	b.mu.Unlock()
	if n+1 == b.o.MaxRecords {
		select {
		case b.full <- struct{}{}:
		default:
		}
	}
	return nil
}

// Stats returns a snapshot of the counters.
func (b *BatchPublisher) Stats() BatchStats {
	b.mu.Lock()
	q := len(b.buf)
	b.mu.Unlock()
	return BatchStats{
		Queued:    q,
		Sending:   int(b.sending.Load()),
		Published: b.published.Load(),
		Failed:    b.failed.Load(),
		Dropped:   b.dropped.Load(),
	}
}

// Run flushes the queue until ctx ends, then flushes what is left within
// ShutdownTimeout and returns nil. Records that did not make it count as
// Failed. Run starts no goroutine. Calling Run while it runs returns
// [ErrRunning].
func (b *BatchPublisher) Run(ctx context.Context) error {
	if !b.running.CompareAndSwap(false, true) {
		return ErrRunning
	}
	defer b.running.Store(false)
	spare := make([]Message, 0, b.o.QueueSize)
	var pending []Message // cut off by ctx's end; sent by the last flush
	tick := time.NewTicker(b.o.MaxDelay)
	defer tick.Stop()
	for ctx.Err() == nil {
		select {
		case <-ctx.Done():
			continue
		case <-b.full:
		case <-tick.C:
		}
		batch := b.take(spare)
		if rest := b.flush(ctx, batch, false); len(rest) > 0 {
			pending = append(pending, rest...)
		}
		clear(batch) // let go of the records' buffers
		spare = batch[:0]
	}
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), b.o.ShutdownTimeout)
	defer cancel()
	b.flush(fctx, pending, true)
	b.flush(fctx, b.take(spare), true)
	return nil
}

// take swaps the queue for spare (which must be empty and of capacity
// QueueSize, or nil to allocate one) and returns the queued records.
func (b *BatchPublisher) take(spare []Message) []Message {
	if spare == nil {
		spare = make([]Message, 0, b.o.QueueSize)
	}
	b.mu.Lock()
	batch := b.buf
	b.buf = spare
	b.isFull.Store(false)
	b.mu.Unlock()
	if len(batch) > 0 {
		now := b.o.Now()
		for i := range batch {
			if batch[i].Time.IsZero() {
				batch[i].Time = now
			}
		}
	}
	return batch
}

// flush sends batch in chunks of MaxRecords. Unless final, it stops when
// ctx ends during a Send and returns the records not sent; other failures
// are counted as Failed.
func (b *BatchPublisher) flush(ctx context.Context, batch []Message, final bool) []Message {
	for len(batch) > 0 {
		n := min(len(batch), b.o.MaxRecords)
		chunk := batch[:n]
		b.sending.Add(int64(n))
		err := b.s.Send(ctx, chunk)
		b.sending.Add(-int64(n))
		switch {
		case err == nil:
			b.published.Add(uint64(n))
		case !final && ctx.Err() != nil:
			return batch
		default:
			b.failed.Add(uint64(n))
			b.log.LogAttrs(ctx, slog.LevelWarn, "events: batch flush failed; records lost",
				slog.Int("records", n), slog.Any("err", err))
		}
		batch = batch[n:]
	}
	return nil
}
