package archive_test

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/sysblocks/sysblocks/archive"
	"github.com/sysblocks/sysblocks/archive/memstore"
)

var t0 = time.Date(2030, time.May, 1, 0, 0, 0, 0, time.UTC)

// liveRec is a record in the fake live store.
type liveRec struct {
	rec      archive.Record
	terminal bool
	ended    time.Time
}

// source is an in-memory live store: a Source (with plain Delete) and a
// Lister. It checks that every record it deletes is already in cold.
type source struct {
	mu        sync.Mutex
	recs      map[string]liveRec
	cold      *memstore.Store
	noDelete  bool  // Delete does nothing
	deleteErr error // Delete fails
	dueErr    error
	extra     []archive.Record // returned by Due in addition
	unwritten []string         // IDs deleted before they were in cold
	deletes   int
}

func newSource(cold *memstore.Store) *source {
	return &source{recs: map[string]liveRec{}, cold: cold}
}

func (s *source) add(owner string, i int, terminal bool, ended time.Time) archive.Record {
	r := archive.Record{Owner: owner, ID: fmt.Sprintf("%s-%03d", owner, i), At: t0.Add(time.Duration(i) * time.Minute),
		Data: []byte(fmt.Sprintf("live %d", i))}
	s.mu.Lock()
	s.recs[r.ID] = liveRec{rec: r, terminal: terminal, ended: ended}
	s.mu.Unlock()
	return r
}

func (s *source) Due(ctx context.Context, cutoff time.Time, limit int) ([]archive.Record, error) {
	if s.dueErr != nil {
		return nil, s.dueErr
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var due []liveRec
	for _, r := range s.recs {
		if r.terminal && r.ended.Before(cutoff) {
			due = append(due, r)
		}
	}
	slices.SortFunc(due, func(a, b liveRec) int { return cmp.Or(a.ended.Compare(b.ended), cmp.Compare(a.rec.ID, b.rec.ID)) })
	out := slices.Clone(s.extra)
	for _, r := range due[:min(limit, len(due))] {
		out = append(out, r.rec)
	}
	return out, nil
}

func (s *source) Delete(ctx context.Context, ids []string) error {
	if s.deleteErr != nil {
		return s.deleteErr
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.deletes++
	for _, id := range ids {
		r, ok := s.recs[id]
		if !ok || !r.terminal || s.noDelete {
			continue
		}
		if !inCold(s.cold, r.rec) {
			s.unwritten = append(s.unwritten, id)
		}
		delete(s.recs, id)
	}
	return nil
}

func inCold(cold *memstore.Store, r archive.Record) bool {
	got, _ := cold.List(context.Background(), r.Owner, archive.Cursor{At: r.At.Add(time.Nanosecond), ID: ""}, 1)
	return len(got) == 1 && got[0].ID == r.ID
}

func (s *source) List(ctx context.Context, owner string, after archive.Cursor, limit int) ([]archive.Record, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []archive.Record
	for _, r := range s.recs {
		if r.rec.Owner == owner && after.After(r.rec) {
			out = append(out, r.rec)
		}
	}
	slices.SortFunc(out, archive.Compare)
	return out[:min(limit, len(out))], nil
}

func (s *source) len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.recs)
}

// failingStore fails every Put.
type failingStore struct{ *memstore.Store }

func (failingStore) Put(context.Context, []archive.Record) error {
	return errors.New("cassandra unavailable")
}

// fixture: 3 owners with 10 records each: 0-5 ended 40 days before now
// (due with the default Age), 6-7 ended 1 day before (not due), 8-9 live.
func fixture(t *testing.T) (*source, *memstore.Store, map[string]archive.Record) {
	cold := memstore.New()
	src := newSource(cold)
	due := map[string]archive.Record{}
	now := t0.Add(60 * 24 * time.Hour)
	for _, owner := range []string{"ann", "bob", "cyd"} {
		for i := range 10 {
			switch {
			case i < 6:
				r := src.add(owner, i, true, now.Add(-40*24*time.Hour+time.Duration(i)*time.Second))
				due[r.ID] = r
			case i < 8:
				src.add(owner, i, true, now.Add(-24*time.Hour))
			default:
				src.add(owner, i, false, time.Time{})
			}
		}
	}
	return src, cold, due
}

func clock() time.Time { return t0.Add(60 * 24 * time.Hour) }

func TestRunOnceMovesDue(t *testing.T) {
	src, cold, due := fixture(t)
	a, err := archive.New(src, cold, &archive.Options{Batch: 4, Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	moved, err := a.RunOnce(t.Context())
	if err != nil || moved != len(due) {
		t.Fatalf("RunOnce = %d, %v; want %d, nil", moved, err, len(due))
	}
	if cold.Len() != len(due) || src.len() != 30-len(due) {
		t.Fatalf("cold has %d, live %d; want %d and %d", cold.Len(), src.len(), len(due), 30-len(due))
	}
	for _, r := range due {
		if !inCold(cold, r) {
			t.Fatalf("due record %s is not in the cold store", r.ID)
		}
	}
	if len(src.unwritten) != 0 {
		t.Fatalf("records deleted before they were in the cold store: %v", src.unwritten)
	}
	st := a.Stats()
	if st.Moved != uint64(len(due)) || st.Batches != 5 || st.Passes != 1 || st.Errors != 0 || !st.LastRun.Equal(clock()) {
		t.Fatalf("Stats = %+v; want 18 moved in 5 batches of at most 4, 1 pass", st)
	}
	// Nothing more is due: a second pass moves nothing and deletes nothing.
	if moved, err := a.RunOnce(t.Context()); err != nil || moved != 0 {
		t.Fatalf("second RunOnce = %d, %v; want 0, nil", moved, err)
	}
}

// A longer Age leaves the records that are not old enough.
func TestAge(t *testing.T) {
	src, cold, _ := fixture(t)
	a, err := archive.New(src, cold, &archive.Options{Age: 40*24*time.Hour - 3*time.Second, Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	// Records 0, 1 and 2 of each owner ended before now-Age.
	if moved, err := a.RunOnce(t.Context()); err != nil || moved != 9 {
		t.Fatalf("RunOnce = %d, %v; want 9", moved, err)
	}
}

func TestPutFailsNothingDeleted(t *testing.T) {
	src, cold, _ := fixture(t)
	a, err := archive.New(src, failingStore{cold}, &archive.Options{Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	if moved, err := a.RunOnce(t.Context()); err == nil || moved != 0 {
		t.Fatalf("RunOnce with a failing store = %d, %v; want an error", moved, err)
	}
	if src.len() != 30 || src.deletes != 0 {
		t.Fatalf("after a failed Put the source has %d records and saw %d deletes; want 30 and 0", src.len(), src.deletes)
	}
	if a.Stats().Errors != 1 {
		t.Fatalf("Stats.Errors = %d; want 1", a.Stats().Errors)
	}
}

// A failed delete leaves records in both stores; Merge shows them once and
// the next pass finishes the move.
func TestDeleteFailsThenRecovers(t *testing.T) {
	src, cold, due := fixture(t)
	src.deleteErr = errors.New("mysql gone")
	a, err := archive.New(src, cold, &archive.Options{Batch: 100, Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.RunOnce(t.Context()); err == nil {
		t.Fatal("RunOnce with a failing Delete returned nil")
	}
	if cold.Len() != len(due) || src.len() != 30 {
		t.Fatalf("cold %d, live %d; want %d, 30 (every due record in both)", cold.Len(), src.len(), len(due))
	}
	page, next, err := archive.Merge(t.Context(), "ann", archive.Cursor{}, 100, src, cold)
	if err != nil || len(page) != 10 || !next.IsZero() {
		t.Fatalf("Merge = %d records, next %v, %v; want the 10 records of ann once", len(page), next, err)
	}
	src.deleteErr = nil
	if moved, err := a.RunOnce(t.Context()); err != nil || moved != len(due) {
		t.Fatalf("RunOnce after recovery = %d, %v; want %d", moved, err, len(due))
	}
	if cold.Len() != len(due) || src.len() != 30-len(due) {
		t.Fatalf("cold %d, live %d; want %d, %d", cold.Len(), src.len(), len(due), 30-len(due))
	}
}

func TestNoProgress(t *testing.T) {
	src, cold, _ := fixture(t)
	src.noDelete = true
	a, err := archive.New(src, cold, &archive.Options{Batch: 100, Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.RunOnce(t.Context()); !errors.Is(err, archive.ErrNoProgress) {
		t.Fatalf("RunOnce with a Delete that deletes nothing: err %v; want ErrNoProgress", err)
	}
}

func TestInvalidRecordsRefused(t *testing.T) {
	for name, bad := range map[string]archive.Record{
		"no owner": {ID: "x", At: t0},
		"no id":    {Owner: "ann", At: t0},
		"no at":    {Owner: "ann", ID: "x"},
		"twice":    {Owner: "ann", ID: "ann-000", At: t0},
	} {
		src, cold, _ := fixture(t)
		src.extra = []archive.Record{bad}
		a, err := archive.New(src, cold, &archive.Options{Batch: 100, Now: clock})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := a.RunOnce(t.Context()); !errors.Is(err, archive.ErrInvalid) {
			t.Fatalf("%s: err %v; want ErrInvalid", name, err)
		}
		if cold.Len() != 0 || src.len() != 30 {
			t.Fatalf("%s: cold %d, live %d; want nothing moved", name, cold.Len(), src.len())
		}
	}
}

func TestDueError(t *testing.T) {
	src, cold, _ := fixture(t)
	src.dueErr = errors.New("boom")
	a, _ := archive.New(src, cold, nil)
	if _, err := a.RunOnce(t.Context()); err == nil || !errors.Is(err, src.dueErr) {
		t.Fatalf("err %v; want the source's error", err)
	}
}

func TestNewOptions(t *testing.T) {
	cold := memstore.New()
	src := newSource(cold)
	for name, o := range map[string]*archive.Options{
		"negative Age":      {Age: -1},
		"negative Interval": {Interval: -1},
		"negative Batch":    {Batch: -1},
		"huge Batch":        {Batch: archive.MaxBatch + 1},
	} {
		if _, err := archive.New(src, cold, o); !errors.Is(err, archive.ErrInvalid) {
			t.Errorf("New(%s) err = %v; want ErrInvalid", name, err)
		}
	}
	if _, err := archive.New(nil, cold, nil); !errors.Is(err, archive.ErrInvalid) {
		t.Errorf("New(nil source) err = %v; want ErrInvalid", err)
	}
	if _, err := archive.New(src, nil, nil); !errors.Is(err, archive.ErrInvalid) {
		t.Errorf("New(nil store) err = %v; want ErrInvalid", err)
	}
}

// Many archivers on one source and store at once: every record ends once
// in the cold store and never was deleted before it was there.
func TestConcurrentArchivers(t *testing.T) {
	cold := memstore.New()
	src := newSource(cold)
	now := t0.Add(60 * 24 * time.Hour)
	for o := range 20 {
		for i := range 50 {
			src.add(fmt.Sprintf("o%02d", o), i, i%5 != 0, now.Add(-40*24*time.Hour))
		}
	}
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for range 16 {
		a, err := archive.New(src, cold, &archive.Options{Batch: 7, Now: clock})
		if err != nil {
			t.Fatal(err)
		}
		wg.Go(func() {
			if _, err := a.RunOnce(context.Background()); err != nil && !errors.Is(err, archive.ErrNoProgress) {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	// A last pass finishes whatever a racing pass gave up on.
	a, _ := archive.New(src, cold, &archive.Options{Batch: 7, Now: clock})
	if _, err := a.RunOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	if cold.Len() != 800 || src.len() != 200 || len(src.unwritten) != 0 {
		t.Fatalf("cold %d, live %d, deleted before written %d; want 800, 200, 0", cold.Len(), src.len(), len(src.unwritten))
	}
}

func TestRun(t *testing.T) {
	defer goleak.VerifyNone(t)
	src, cold, due := fixture(t)
	a, err := archive.New(src, cold, &archive.Options{Interval: time.Millisecond, Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- a.Run(ctx) }()
	for a.Stats().Passes < 3 {
		time.Sleep(time.Millisecond)
	}
	if err := a.Run(ctx); !errors.Is(err, archive.ErrRunning) {
		t.Fatalf("second Run = %v; want ErrRunning", err)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run = %v; want nil after cancel", err)
	}
	if cold.Len() != len(due) {
		t.Fatalf("cold has %d; want %d", cold.Len(), len(due))
	}
}

// Run logs and counts errors, and keeps going.
func TestRunSurvivesErrors(t *testing.T) {
	defer goleak.VerifyNone(t)
	src, cold, _ := fixture(t)
	src.dueErr = errors.New("boom")
	a, _ := archive.New(src, cold, &archive.Options{Interval: time.Millisecond, Now: clock})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- a.Run(ctx) }()
	for a.Stats().Errors < 3 {
		time.Sleep(time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
