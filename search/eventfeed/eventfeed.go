package eventfeed

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sysblocks/sysblocks/events"
	"github.com/sysblocks/sysblocks/search"
)

// ErrUndecodable is returned by Decode for a message that does not hold a
// change event. The feed skips such messages (counting them in
// Stats.Invalid): retrying cannot fix them.
var ErrUndecodable = errors.New("eventfeed: undecodable message")

// wireEvent is the JSON form of a change event.
type wireEvent struct {
	Op  string          `json:"op"`
	Doc search.Document `json:"doc"`
}

// Encode returns the message that carries ev on topic: key the entity ID,
// value the event as JSON ({"op":"updated","doc":{...}}).
func Encode(topic string, ev search.ChangeEvent) (events.Message, error) {
	if ev.Op < search.OpCreated || ev.Op > search.OpDeleted || ev.Doc.ID == "" {
		return events.Message{}, fmt.Errorf("eventfeed: encode: %w", search.ErrInvalidDocument)
	}
	b, err := json.Marshal(wireEvent{Op: ev.Op.String(), Doc: ev.Doc})
	if err != nil {
		return events.Message{}, fmt.Errorf("eventfeed: encode: %w", err)
	}
	return events.Message{Topic: topic, Key: []byte(ev.Doc.ID), Value: b}, nil
}

// Decode parses a message written by Encode. A message whose key is set
// must name the same entity as its event.
func Decode(m *events.Message) (search.ChangeEvent, error) {
	var w wireEvent
	if err := json.Unmarshal(m.Value, &w); err != nil {
		return search.ChangeEvent{}, fmt.Errorf("%w: %v", ErrUndecodable, err)
	}
	ev := search.ChangeEvent{Doc: w.Doc}
	switch w.Op {
	case "created":
		ev.Op = search.OpCreated
	case "updated":
		ev.Op = search.OpUpdated
	case "deleted":
		ev.Op = search.OpDeleted
	default:
		return ev, fmt.Errorf("%w: op %q", ErrUndecodable, w.Op)
	}
	if ev.Doc.ID == "" || ev.Doc.Version == 0 {
		return ev, fmt.Errorf("%w: no ID or version", ErrUndecodable)
	}
	if len(m.Key) > 0 && string(m.Key) != ev.Doc.ID {
		return ev, fmt.Errorf("%w: key %q differs from document %q", ErrUndecodable, m.Key, ev.Doc.ID)
	}
	return ev, nil
}

// Options configure a [Feed]. A nil *Options selects all defaults.
type Options struct {
	// Decode turns a message into a change event. Nil means [Decode]. An
	// error wrapping ErrUndecodable (or search.ErrInvalidDocument) skips
	// the message; any other error stops Run.
	Decode func(*events.Message) (search.ChangeEvent, error)
	// SnapshotPath, when set, makes commits wait for checkpoints: the
	// index is saved there and then the messages it contains are
	// committed. Empty means commit each message once applied.
	SnapshotPath string
	// SnapshotEvery is the time between checkpoints while messages keep
	// coming. Zero means one minute.
	SnapshotEvery time.Duration
	// CommitTimeout bounds the commits and the final checkpoint that run
	// after Run's context has ended. Zero means 10s.
	CommitTimeout time.Duration
	// Logger receives skipped messages and checkpoint failures. Nil means
	// discard.
	Logger *slog.Logger
}

// Stats counts what a Feed did.
type Stats struct {
	Applied     uint64 // events that changed the index
	Stale       uint64 // events ignored as not newer than the index
	Invalid     uint64 // messages skipped as undecodable
	Checkpoints uint64 // snapshots written and committed
	Commits     uint64 // successful commits
}

// Feed applies the messages of one consumer group to an index. It is safe
// for concurrent use; Run runs one at a time.
type Feed struct {
	ix   *search.Index
	r    events.Receiver
	o    Options
	log  *slog.Logger
	busy atomic.Bool

	mu      sync.Mutex             // guards pending
	pending map[int]events.Message // last applied message per partition, not yet committed
	cpMu    sync.Mutex             // serialises checkpoints

	applied, stale, invalid, checkpoints, commits atomic.Uint64
}

// New returns a Feed applying the messages of r's consumer group to ix. It
// starts nothing; call Run.
func New(ix *search.Index, r events.Receiver, opts *Options) *Feed {
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.Decode == nil {
		o.Decode = Decode
	}
	if o.SnapshotEvery <= 0 {
		o.SnapshotEvery = time.Minute
	}
	if o.CommitTimeout <= 0 {
		o.CommitTimeout = 10 * time.Second
	}
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Feed{ix: ix, r: r, o: o, log: log, pending: map[int]events.Message{}}
}

// Restore loads the index from Options.SnapshotPath when the file exists,
// and reports whether it did. Call it before Run after a restart.
func (f *Feed) Restore() (bool, error) {
	if f.o.SnapshotPath == "" {
		return false, nil
	}
	if _, err := os.Stat(f.o.SnapshotPath); errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err := f.ix.LoadSnapshot(f.o.SnapshotPath); err != nil {
		return false, err
	}
	return true, nil
}

// Stats returns a snapshot of the counters.
func (f *Feed) Stats() Stats {
	return Stats{Applied: f.applied.Load(), Stale: f.stale.Load(), Invalid: f.invalid.Load(),
		Checkpoints: f.checkpoints.Load(), Commits: f.commits.Load()}
}

// Run joins the consumer group and applies messages until ctx ends, then
// (with a snapshot path) writes a last checkpoint, leaves the group and
// returns nil. It returns early on an error of the receiver, of Decode
// (other than an undecodable message) or of a checkpoint. Every goroutine
// it starts has stopped when it returns.
func (f *Feed) Run(ctx context.Context) error {
	if !f.busy.CompareAndSwap(false, true) {
		return events.ErrRunning
	}
	defer f.busy.Store(false)
	mem, err := f.r.Join(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return fmt.Errorf("eventfeed: join: %w", err)
	}
	defer mem.Close()

	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	cpErr := make(chan error, 1)
	if f.o.SnapshotPath != "" {
		wg.Go(func() {
			t := time.NewTicker(f.o.SnapshotEvery)
			defer t.Stop()
			for {
				select {
				case <-runCtx.Done():
					return
				case <-t.C:
					if err := f.checkpoint(runCtx, mem); err != nil && runCtx.Err() == nil {
						cpErr <- err
						cancel()
						return
					}
				}
			}
		})
	}
	err = f.consume(runCtx, mem)
	cancel()
	wg.Wait()
	select {
	case e := <-cpErr:
		return e
	default:
	}
	if err != nil && ctx.Err() == nil {
		return err
	}
	if f.o.SnapshotPath != "" {
		final, stop := context.WithTimeout(context.WithoutCancel(ctx), f.o.CommitTimeout)
		defer stop()
		if err := f.checkpoint(final, mem); err != nil {
			return err
		}
	}
	return nil
}

func (f *Feed) consume(ctx context.Context, mem events.Member) error {
	for {
		msg, err := mem.Fetch(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("eventfeed: fetch: %w", err)
		}
		ev, err := f.o.Decode(&msg)
		switch {
		case err == nil:
			ok, err := f.ix.Apply(ctx, ev)
			if err != nil {
				if ctx.Err() != nil {
					return nil // not applied: stays uncommitted, comes again
				}
				f.invalid.Add(1)
				f.log.Warn("eventfeed: invalid event skipped", "topic", msg.Topic, "partition", msg.Partition, "offset", msg.Offset, "err", err)
			} else if ok {
				f.applied.Add(1)
			} else {
				f.stale.Add(1)
			}
		case errors.Is(err, ErrUndecodable) || errors.Is(err, search.ErrInvalidDocument):
			f.invalid.Add(1)
			f.log.Warn("eventfeed: undecodable message skipped", "topic", msg.Topic, "partition", msg.Partition, "offset", msg.Offset, "err", err)
		default:
			return fmt.Errorf("eventfeed: decode: %w", err)
		}
		f.ix.SetMark(msg.Topic+"/"+strconv.Itoa(msg.Partition), msg.Offset+1)
		if f.o.SnapshotPath == "" {
			cctx, stop := context.WithTimeout(context.WithoutCancel(ctx), f.o.CommitTimeout)
			err := mem.Commit(cctx, msg)
			stop()
			if err != nil {
				return fmt.Errorf("eventfeed: commit: %w", err)
			}
			f.commits.Add(1)
			continue
		}
		f.mu.Lock()
		f.pending[msg.Partition] = msg
		f.mu.Unlock()
	}
}

// checkpoint saves the index and then commits the messages it contains.
func (f *Feed) checkpoint(ctx context.Context, mem events.Member) error {
	f.cpMu.Lock()
	defer f.cpMu.Unlock()
	f.mu.Lock()
	batch := make(map[int]events.Message, len(f.pending))
	for p, m := range f.pending {
		batch[p] = m
	}
	f.mu.Unlock()
	if len(batch) == 0 {
		return nil
	}
	// Every message in batch was applied before the copy, so the snapshot
	// taken now contains it.
	if err := f.ix.SaveSnapshot(f.o.SnapshotPath); err != nil {
		return fmt.Errorf("eventfeed: checkpoint: %w", err)
	}
	for p, m := range batch {
		if err := mem.Commit(ctx, m); err != nil {
			return fmt.Errorf("eventfeed: checkpoint: commit partition %d: %w", p, err)
		}
		f.commits.Add(1)
		f.mu.Lock()
		if cur, ok := f.pending[p]; ok && cur.Offset == m.Offset {
			delete(f.pending, p)
		}
		f.mu.Unlock()
	}
	f.checkpoints.Add(1)
	return nil
}
