package archive

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// Defaults of [Options] fields left at zero.
const (
	DefaultAge      = 30 * 24 * time.Hour
	DefaultBatch    = 500
	DefaultInterval = time.Hour
)

// MaxBatch is the largest Options.Batch.
const MaxBatch = 10_000

// Record is one record moved from the live store to the cold store.
type Record struct {
	// Owner is the partition key: the user whose history the record
	// belongs to. Cold stores partition by Owner, never by date, so a
	// user's history is one partition read.
	Owner string
	// ID identifies the record among all records.
	ID string
	// At orders a user's records (newest first). The Owner and At of an
	// ID never change: a cold store keys a record by (Owner, At, ID).
	At time.Time
	// Data is the record, encoded by the source.
	Data []byte
}

// Cursor is a position in a user's records listed newest first (At
// descending, then ID descending): the At and ID of the last record of the
// previous page. The zero Cursor is the position before the newest.
type Cursor struct {
	At time.Time
	ID string
}

// IsZero reports whether c is the zero Cursor.
func (c Cursor) IsZero() bool { return c.At.IsZero() && c.ID == "" }

// Of returns the Cursor positioned at r: a listing after it starts with
// the record that follows r.
func Of(r Record) Cursor { return Cursor{At: r.At, ID: r.ID} }

// Compare orders records newest first: it returns a negative number when
// a comes before b in a listing (a.At later, or equal At and a.ID
// greater), zero when both have the same At and ID, and a positive number
// otherwise.
func Compare(a, b Record) int { return compareKeys(a.At, a.ID, b.At, b.ID) }

func compareKeys(at1 time.Time, id1 string, at2 time.Time, id2 string) int {
	return cmp.Or(at2.Compare(at1), cmp.Compare(id2, id1))
}

// After reports whether r comes strictly after c in a listing, that is
// whether a List from c may return r. Every record is after the zero
// Cursor.
func (c Cursor) After(r Record) bool {
	return c.IsZero() || compareKeys(r.At, r.ID, c.At, c.ID) > 0
}

// Source is the live store that records leave: the design notes' Order
// Processing Service over the SQL database.
type Source interface {
	// Due returns up to limit records that reached a terminal state
	// before cutoff (by the source's own measure of age), oldest first.
	// A record it returns must not change again except through a
	// deliberate correction, which makes it not due (younger) until it
	// ages again.
	Due(ctx context.Context, cutoff time.Time, limit int) ([]Record, error)
	// Delete removes the records with the given IDs from the live store
	// if they are still terminal. An ID that is absent, or no longer
	// due, is skipped without error: Delete is idempotent. It must never
	// remove a record that is not in a terminal state.
	Delete(ctx context.Context, ids []string) error
}

// RecordDeleter is an optional interface of a [Source]. When the source
// has it, the [Archiver] calls DeleteRecords with the records it copied
// instead of Delete with their IDs, and the source deletes a record only
// if the live copy is still the one given (for example, at the same
// version): a record changed between Due and the delete stays live, and
// the next pass copies its new version. Without it, such a change made in
// that window is lost with the delete.
type RecordDeleter interface {
	DeleteRecords(ctx context.Context, recs []Record) error
}

// Lister lists one owner's records.
type Lister interface {
	// List returns up to limit records of owner, newest first (At
	// descending, then ID descending), strictly after the position after;
	// the zero Cursor starts at the newest. Fewer than limit means the
	// end.
	List(ctx context.Context, owner string, after Cursor, limit int) ([]Record, error)
}

// Store is the cold store records move to: the design notes' Historical
// Order Service over Cassandra. Implementations must be safe for
// concurrent use. The package storetest checks the contract.
type Store interface {
	Lister
	// Put writes recs. It is an idempotent upsert keyed by (Owner, At,
	// ID): writing a record again, or a newer version of it, leaves one
	// copy with the last Data. A Put that fails may have written any
	// subset of recs; repeating it completes it.
	Put(ctx context.Context, recs []Record) error
}

// Options tunes an [Archiver]. A nil *Options, and every zero field, means
// the documented default.
type Options struct {
	// Age is how long ago a record must have reached its terminal state
	// to be due: a pass moves the records the source reports due at
	// Now() - Age. Zero means DefaultAge (30 days).
	Age time.Duration
	// Batch is the limit of one Due call, and so the most records one Put
	// and one Delete carry; 1 to MaxBatch. Zero means DefaultBatch (500).
	Batch int
	// Interval is the period of [Archiver.Run] (the design notes' cron).
	// Zero means DefaultInterval (1 hour).
	Interval time.Duration
	// Now is the clock. Nil means time.Now.
	Now func() time.Time
	// Logger receives the errors of passes in Run. Nil discards them.
	Logger *slog.Logger
}

// Stats is a snapshot of an Archiver's counters since New.
type Stats struct {
	Passes  uint64    // RunOnce calls that ended without error
	Errors  uint64    // RunOnce calls that ended with an error
	Batches uint64    // batches copied and deleted
	Moved   uint64    // records copied to the cold store, then deleted from the source
	LastRun time.Time // clock at the start of the last pass that ended without error
}

// Archiver moves due records from a [Source] to a cold [Store]: copy
// first, then delete. It is safe for concurrent use; any number of
// Archivers, in any number of processes, may run on the same source and
// store (see the package documentation for why that is safe).
type Archiver struct {
	src      Source
	dst      Store
	age      time.Duration
	batch    int
	interval time.Duration
	now      func() time.Time
	log      *slog.Logger

	running                      atomic.Bool
	passes, errs, batches, moved atomic.Uint64
	mu                           sync.Mutex
	lastRun                      time.Time
}

// New returns an Archiver from src to dst. opts may be nil. New starts no
// goroutine: the schedule is [Archiver.Run].
func New(src Source, dst Store, opts *Options) (*Archiver, error) {
	if src == nil || dst == nil {
		return nil, fmt.Errorf("archive: new: nil source or store: %w", ErrInvalid)
	}
	var o Options
	if opts != nil {
		o = *opts
	}
	a := &Archiver{src: src, dst: dst, age: cmp.Or(o.Age, DefaultAge), batch: cmp.Or(o.Batch, DefaultBatch),
		interval: cmp.Or(o.Interval, DefaultInterval), now: o.Now, log: o.Logger}
	switch {
	case a.age < 0:
		return nil, fmt.Errorf("archive: new: negative Age %v: %w", a.age, ErrInvalid)
	case a.interval < 0:
		return nil, fmt.Errorf("archive: new: negative Interval %v: %w", a.interval, ErrInvalid)
	case a.batch < 0 || a.batch > MaxBatch:
		return nil, fmt.Errorf("archive: new: Batch %d: want 1 to %d: %w", a.batch, MaxBatch, ErrInvalid)
	}
	if a.now == nil {
		a.now = time.Now
	}
	if a.log == nil {
		a.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return a, nil
}

// Stats returns a snapshot of the counters.
func (a *Archiver) Stats() Stats {
	a.mu.Lock()
	last := a.lastRun
	a.mu.Unlock()
	return Stats{Passes: a.passes.Load(), Errors: a.errs.Load(), Batches: a.batches.Load(), Moved: a.moved.Load(), LastRun: last}
}

// RunOnce is one pass: with cutoff = Now() - Age, fixed for the pass, it
// asks the source for a batch of due records, writes them to the cold
// store, deletes them from the source, and repeats until nothing is due.
// It returns how many records it moved: copied, then deleted (with
// several Archivers at once, a record two of them copied counts in both).
// The cutoff is fixed for the pass, so a pass ends: records that become
// due during it wait for the next.
//
// A batch is written in full before any of it is deleted, so an error or
// a crash at any point leaves every record in the source, in the store,
// or in both (which [Merge] shows once); the next pass repeats the
// unfinished batch. A batch with an invalid record (empty Owner or ID,
// zero At, an ID twice) returns an error matching [ErrInvalid] before
// anything is written. A batch made only of records of the previous
// batch (a source whose Delete left them in place) returns
// [ErrNoProgress] instead of looping.
func (a *Archiver) RunOnce(ctx context.Context) (moved int, err error) {
	start := a.now()
	moved, err = a.pass(ctx, start.Add(-a.age))
	if err != nil {
		a.errs.Add(1)
		return moved, err
	}
	a.passes.Add(1)
	a.mu.Lock()
	a.lastRun = start
	a.mu.Unlock()
	return moved, nil
}

func (a *Archiver) pass(ctx context.Context, cutoff time.Time) (int, error) {
	moved := 0
	var prev map[string]struct{}
	for {
		if err := ctx.Err(); err != nil {
			return moved, err
		}
		recs, err := a.src.Due(ctx, cutoff, a.batch)
		if err != nil {
			return moved, fmt.Errorf("archive: due: %w", err)
		}
		if len(recs) == 0 {
			return moved, nil
		}
		if len(recs) > a.batch {
			return moved, fmt.Errorf("archive: due: %d records for a batch of %d: %w", len(recs), a.batch, ErrInvalid)
		}
		seen := make(map[string]struct{}, len(recs))
		ids := make([]string, len(recs))
		stuck := true
		for i, r := range recs {
			if r.Owner == "" || r.ID == "" || r.At.IsZero() {
				return moved, fmt.Errorf("archive: due: record %q of owner %q at %v: %w", r.ID, r.Owner, r.At, ErrInvalid)
			}
			if _, dup := seen[r.ID]; dup {
				return moved, fmt.Errorf("archive: due: record %q twice in a batch: %w", r.ID, ErrInvalid)
			}
			seen[r.ID] = struct{}{}
			if _, again := prev[r.ID]; !again {
				stuck = false
			}
			ids[i] = r.ID
		}
		if stuck {
			return moved, fmt.Errorf("archive: %d records due again after their delete: %w", len(recs), ErrNoProgress)
		}
		if err := a.dst.Put(ctx, recs); err != nil {
			return moved, fmt.Errorf("archive: put %d records: %w", len(recs), err)
		}
		if d, ok := a.src.(RecordDeleter); ok {
			err = d.DeleteRecords(ctx, recs)
		} else {
			err = a.src.Delete(ctx, ids)
		}
		if err != nil {
			return moved, fmt.Errorf("archive: delete %d records: %w", len(recs), err)
		}
		moved += len(recs)
		a.moved.Add(uint64(len(recs)))
		a.batches.Add(1)
		prev = seen
	}
}

// Run is the schedule: it calls [Archiver.RunOnce] at once and then every
// Options.Interval until ctx ends, and then returns nil. Errors of a pass
// are logged and counted (Stats.Errors); the next pass retries. Run starts
// no goroutine. It returns [ErrRunning] if this Archiver's Run is already
// running; Archivers in other processes may run theirs at the same time.
func (a *Archiver) Run(ctx context.Context) error {
	if !a.running.CompareAndSwap(false, true) {
		return ErrRunning
	}
	defer a.running.Store(false)
	t := time.NewTicker(a.interval)
	defer t.Stop()
	for {
		if n, err := a.RunOnce(ctx); err != nil && ctx.Err() == nil {
			a.log.Warn("archive: pass", "moved", n, "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}
