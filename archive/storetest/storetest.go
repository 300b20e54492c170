package storetest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/sysblocks/sysblocks/archive"
)

// Config describes the store under test.
type Config struct {
	// Open returns the store under test, or a new handle on its backend.
	Open func(tb testing.TB) archive.Store
	// Goroutines is the number of concurrent writers in the race case.
	// Zero means 50.
	Goroutines int
}

// Unique returns prefix followed by a random suffix.
func Unique(prefix string) string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return prefix + "-" + hex.EncodeToString(b)
}

// Base is the first At the suite writes.
var Base = time.Date(2029, time.March, 1, 12, 0, 0, 0, time.UTC)

// Run runs the conformance suite as subtests of t.
func Run(t *testing.T, cfg Config) {
	if cfg.Open == nil {
		t.Fatal("storetest: Config.Open is nil")
	}
	if cfg.Goroutines <= 0 {
		cfg.Goroutines = 50
	}
	for _, tc := range []struct {
		name string
		fn   func(*testing.T, Config)
	}{
		{"OrderAndPages", testOrderAndPages},
		{"CursorStrict", testCursorStrict},
		{"OwnersApart", testOwnersApart},
		{"RoundTrip", testRoundTrip},
		{"Upsert", testUpsert},
		{"ConcurrentPuts", testConcurrentPuts},
		{"Invalid", testInvalid},
		{"Cancelled", testCancelled},
	} {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, cfg) })
	}
}

// Records returns n records of owner, with At values that tie in threes
// (so ID breaks ties) and distinct Data.
func Records(owner string, n int) []archive.Record {
	out := make([]archive.Record, n)
	for i := range out {
		out[i] = archive.Record{
			Owner: owner,
			ID:    fmt.Sprintf("r%03d-%s", (i*7919)%1000, owner),
			At:    Base.Add(time.Duration(i/3) * time.Second),
			Data:  []byte(fmt.Sprintf(`{"n":%d}`, i)),
		}
	}
	return out
}

// Sorted returns a copy of recs in listing order.
func Sorted(recs []archive.Record) []archive.Record {
	out := slices.Clone(recs)
	slices.SortFunc(out, archive.Compare)
	return out
}

// Pages lists every record of owner from l with pages of size, following
// the cursor of each full page, and fails t on a page larger than size or
// a listing that does not end.
func Pages(t testing.TB, l archive.Lister, owner string, size int) []archive.Record {
	t.Helper()
	var all []archive.Record
	var after archive.Cursor
	for range 100_000 {
		page, err := l.List(context.Background(), owner, after, size)
		if err != nil {
			t.Fatalf("List(%q, %+v, %d): %v", owner, after, size, err)
		}
		if len(page) > size {
			t.Fatalf("List(limit %d) returned %d records", size, len(page))
		}
		all = append(all, page...)
		if len(page) < size {
			return all
		}
		after = archive.Of(page[len(page)-1])
	}
	t.Fatalf("List of %q with pages of %d does not end", owner, size)
	return nil
}

func put(t testing.TB, s archive.Store, recs []archive.Record) {
	t.Helper()
	if err := s.Put(context.Background(), recs); err != nil {
		t.Fatalf("Put(%d records): %v", len(recs), err)
	}
}

// Equal reports whether got and want hold the same records in the same
// order: same Owner, ID, instant At and Data.
func Equal(got, want []archive.Record) bool {
	return slices.EqualFunc(got, want, func(a, b archive.Record) bool {
		return a.Owner == b.Owner && a.ID == b.ID && a.At.Equal(b.At) && bytes.Equal(a.Data, b.Data)
	})
}

func keys(recs []archive.Record) []string {
	out := make([]string, len(recs))
	for i, r := range recs {
		out[i] = r.At.UTC().Format(time.RFC3339Nano) + "/" + r.ID
	}
	return out
}

// Rule: List returns At descending, ties by ID descending, and pages of
// every size concatenate to the whole listing.
func testOrderAndPages(t *testing.T, cfg Config) {
	s := cfg.Open(t)
	owner := Unique("owner")
	recs := Records(owner, 20)
	mrand.Shuffle(len(recs), func(i, j int) { recs[i], recs[j] = recs[j], recs[i] })
	put(t, s, recs[:7])
	put(t, s, recs[7:])
	want := Sorted(recs)
	for size := 1; size <= 7; size++ {
		if got := Pages(t, s, owner, size); !Equal(got, want) {
			t.Fatalf("pages of %d = %v;\nwant %v", size, keys(got), keys(want))
		}
	}
	got, err := s.List(context.Background(), owner, archive.Cursor{}, 1000)
	if err != nil || !Equal(got, want) {
		t.Fatalf("List(limit 1000) = %v, %v;\nwant %v", keys(got), err, keys(want))
	}
}

// Rule: a cursor excludes its own position; a cursor between records, or
// past the last, works.
func testCursorStrict(t *testing.T, cfg Config) {
	s := cfg.Open(t)
	owner := Unique("owner")
	want := Sorted(Records(owner, 9))
	put(t, s, want)
	list := func(after archive.Cursor) []archive.Record {
		t.Helper()
		got, err := s.List(context.Background(), owner, after, 100)
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	for i := range want {
		if got := list(archive.Of(want[i])); !Equal(got, want[i+1:]) {
			t.Fatalf("List after record %d = %v;\nwant %v", i, keys(got), keys(want[i+1:]))
		}
	}
	// Between two instants: everything older.
	mid := archive.Cursor{At: want[2].At.Add(-time.Millisecond), ID: "zzz"}
	if got := list(mid); !Equal(got, want[3:]) {
		t.Fatalf("List after %v = %v;\nwant %v", mid, keys(got), keys(want[3:]))
	}
	// Same instant as a tie group, an ID between two of it.
	tie := archive.Cursor{At: want[0].At, ID: want[1].ID + "~"}
	if got := list(tie); !Equal(got, want[1:]) {
		t.Fatalf("List after %v = %v;\nwant %v", tie, keys(got), keys(want[1:]))
	}
	if got := list(archive.Cursor{At: Base.Add(-time.Hour), ID: "a"}); len(got) != 0 {
		t.Fatalf("List after the oldest = %v; want none", keys(got))
	}
}

// Rule: an owner's listing holds only its records; an unknown owner has
// none.
func testOwnersApart(t *testing.T, cfg Config) {
	s := cfg.Open(t)
	a, b := Unique("owner"), Unique("owner")
	ra, rb := Records(a, 5), Records(b, 4)
	put(t, s, append(slices.Clone(ra), rb...))
	if got := Pages(t, s, a, 3); !Equal(got, Sorted(ra)) {
		t.Fatalf("owner a = %v;\nwant %v", keys(got), keys(Sorted(ra)))
	}
	if got := Pages(t, s, b, 3); !Equal(got, Sorted(rb)) {
		t.Fatalf("owner b = %v;\nwant %v", keys(got), keys(Sorted(rb)))
	}
	if got := Pages(t, s, Unique("nobody"), 3); len(got) != 0 {
		t.Fatalf("unknown owner = %v; want none", keys(got))
	}
}

// Rule: Data (binary, empty, large) and At (nanoseconds, any zone) survive
// the store; At comes back in UTC.
func testRoundTrip(t *testing.T, cfg Config) {
	s := cfg.Open(t)
	owner := Unique("owner")
	big := make([]byte, 256<<10)
	_, _ = rand.Read(big)
	zone := time.FixedZone("X", -11*3600)
	recs := []archive.Record{
		{Owner: owner, ID: "bin", At: time.Date(2029, 3, 1, 1, 2, 3, 123456789, zone), Data: []byte{0, 1, 2, 255, '\n'}},
		{Owner: owner, ID: "empty", At: time.Date(2029, 3, 1, 1, 2, 3, 123456788, time.UTC)},
		{Owner: owner, ID: "big", At: time.Date(1999, 12, 31, 23, 59, 59, 999999999, time.UTC), Data: big},
		{Owner: owner, ID: "ünïcode-id", At: time.Date(2200, 1, 1, 0, 0, 0, 1, time.UTC), Data: []byte("x")},
	}
	put(t, s, recs)
	got := Pages(t, s, owner, 10)
	want := Sorted(recs)
	if !Equal(got, want) {
		t.Fatalf("round trip = %v;\nwant %v", keys(got), keys(want))
	}
	for _, r := range got {
		if r.At.Location() != time.UTC {
			t.Fatalf("record %s At in %v; want UTC", r.ID, r.At.Location())
		}
	}
	// The caller's slice is not kept.
	recs[0].Data[0] = 9
	for _, r := range Pages(t, s, owner, 10) {
		if r.ID == "bin" && r.Data[0] != 0 {
			t.Fatal("the store kept the caller's Data slice")
		}
	}
}

// Rule: Put is an idempotent upsert by (Owner, At, ID): again, one copy;
// with new Data, one copy with the new Data.
func testUpsert(t *testing.T, cfg Config) {
	s := cfg.Open(t)
	owner := Unique("owner")
	recs := Records(owner, 6)
	put(t, s, recs)
	put(t, s, recs)
	put(t, s, recs[2:4])
	if got := Pages(t, s, owner, 4); !Equal(got, Sorted(recs)) {
		t.Fatalf("after three Puts = %v;\nwant %v", keys(got), keys(Sorted(recs)))
	}
	changed := slices.Clone(recs)
	changed[3].Data = []byte("v2")
	put(t, s, changed[3:4])
	if got := Pages(t, s, owner, 4); !Equal(got, Sorted(changed)) {
		t.Fatalf("after an update = %v;\nwant the new Data once", keys(got))
	}
}

// Rule: concurrent Puts of overlapping batches leave each record once.
func testConcurrentPuts(t *testing.T, cfg Config) {
	owners := []string{Unique("owner"), Unique("owner"), Unique("owner")}
	var all []archive.Record
	for _, o := range owners {
		all = append(all, Records(o, 30)...)
	}
	var wg sync.WaitGroup
	errs := make(chan error, cfg.Goroutines)
	for g := range cfg.Goroutines {
		s := cfg.Open(t)
		r := mrand.New(mrand.NewPCG(uint64(g), 7))
		batch := slices.Clone(all)
		r.Shuffle(len(batch), func(i, j int) { batch[i], batch[j] = batch[j], batch[i] })
		batch = batch[:1+r.IntN(len(batch))]
		wg.Go(func() {
			if err := s.Put(context.Background(), batch); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("concurrent Put: %v", err)
	}
	put(t, cfg.Open(t), all) // whatever no goroutine wrote
	s := cfg.Open(t)
	for _, o := range owners {
		want := Sorted(Records(o, 30))
		if got := Pages(t, s, o, 7); !Equal(got, want) {
			t.Fatalf("owner %s after concurrent Puts = %v;\nwant %v", o, keys(got), keys(want))
		}
	}
}

// Rule: records without Owner, ID or At, and limits below 1, are refused
// with ErrInvalid; a refused Put writes nothing.
func testInvalid(t *testing.T, cfg Config) {
	s := cfg.Open(t)
	owner := Unique("owner")
	good := Records(owner, 2)
	for name, bad := range map[string]archive.Record{
		"no owner": {ID: "x", At: Base},
		"no id":    {Owner: owner, At: Base},
		"no at":    {Owner: owner, ID: "x"},
	} {
		err := s.Put(context.Background(), []archive.Record{good[0], bad, good[1]})
		if !errors.Is(err, archive.ErrInvalid) {
			t.Fatalf("Put(%s) err = %v; want ErrInvalid", name, err)
		}
	}
	if got := Pages(t, s, owner, 5); len(got) != 0 {
		t.Fatalf("a refused Put wrote %v", keys(got))
	}
	if _, err := s.List(context.Background(), owner, archive.Cursor{}, 0); !errors.Is(err, archive.ErrInvalid) {
		t.Fatalf("List(limit 0) err = %v; want ErrInvalid", err)
	}
	if err := s.Put(context.Background(), nil); err != nil {
		t.Fatalf("Put(no records) = %v; want nil", err)
	}
}

// Rule: a cancelled context fails Put and List.
func testCancelled(t *testing.T, cfg Config) {
	s := cfg.Open(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	owner := Unique("owner")
	if err := s.Put(ctx, Records(owner, 1)); err == nil {
		t.Fatal("Put with a cancelled context succeeded")
	}
	if _, err := s.List(ctx, owner, archive.Cursor{}, 1); err == nil {
		t.Fatal("List with a cancelled context succeeded")
	}
}
