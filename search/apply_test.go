package search_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"sync"
	"testing"

	"github.com/sysblocks/sysblocks/search"
)

// memSource is a Source over a map, the stand-in for a database in unit
// tests (the MariaDB test lives in sqlsource).
type memSource struct {
	docs   map[string]search.Document
	during func(i int) // called before the i-th document is passed on
}

func (s *memSource) Scan(ctx context.Context, fn func(search.Document) error) error {
	for i, id := range slices.Sorted(maps.Keys(s.docs)) {
		if s.during != nil {
			s.during(i)
		}
		if err := fn(s.docs[id]); err != nil {
			return err
		}
	}
	return nil
}

var vocabulary = []string{"airport", "inn", "grand", "hotel", "plaza", "seaside", "budget", "rooms",
	"paris", "lyon", "nice", "zürich", "centre", "suites", "garden", "royal", "palace", "café", "東京", "москва"}

// world is a model of the database: entities with versions, changed by
// random operations, each producing the change event the database would
// publish.
type world struct {
	r      *rand.Rand
	docs   map[string]search.Document
	vers   map[string]uint64 // last version per ID, deleted ones included
	events []search.ChangeEvent
	next   int
}

func newWorld(seed uint64) *world {
	return &world{r: rand.New(rand.NewPCG(seed, 99)), docs: map[string]search.Document{}, vers: map[string]uint64{}}
}

func (w *world) text(n int) string {
	var b bytes.Buffer
	for i := range n {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(vocabulary[w.r.IntN(len(vocabulary))])
	}
	return b.String()
}

func (w *world) randomDoc(id string, version uint64) search.Document {
	return search.Document{
		ID: id, Version: version,
		Fields:     map[string]string{"name": w.text(1 + w.r.IntN(4)), "city": w.text(1)},
		Tags:       map[string][]string{"city": {vocabulary[8+w.r.IntN(4)]}},
		Numbers:    map[string]float64{"price": float64(40 + w.r.IntN(300))},
		Popularity: float64(w.r.IntN(100)),
	}
}

// step performs one random create, update or delete.
func (w *world) step() {
	ids := slices.Sorted(maps.Keys(w.docs))
	op := w.r.IntN(10)
	switch {
	case op < 4 || len(ids) == 0:
		id := fmt.Sprintf("e%d", w.next)
		if w.next > 0 && w.r.IntN(5) == 0 {
			id = fmt.Sprintf("e%d", w.r.IntN(w.next)) // re-create a deleted or live ID
		}
		w.next++
		if _, live := w.docs[id]; live {
			return
		}
		w.vers[id]++
		d := w.randomDoc(id, w.vers[id])
		w.docs[id] = d
		w.events = append(w.events, search.ChangeEvent{Op: search.OpCreated, Doc: d})
	case op < 8:
		id := ids[w.r.IntN(len(ids))]
		w.vers[id]++
		d := w.randomDoc(id, w.vers[id])
		w.docs[id] = d
		w.events = append(w.events, search.ChangeEvent{Op: search.OpUpdated, Doc: d})
	default:
		id := ids[w.r.IntN(len(ids))]
		w.vers[id]++
		delete(w.docs, id)
		w.events = append(w.events, search.ChangeEvent{Op: search.OpDeleted, Doc: search.Document{ID: id, Version: w.vers[id]}})
	}
}

// delivery returns the events as an at-least-once stream delivers them:
// shuffled within windows (as across partitions), with a share of them
// delivered again later.
func (w *world) delivery(events []search.ChangeEvent) []search.ChangeEvent {
	out := slices.Clone(events)
	for i := 0; i < len(out); i += 16 {
		win := out[i:min(i+16, len(out))]
		w.r.Shuffle(len(win), func(a, b int) { win[a], win[b] = win[b], win[a] })
	}
	for range len(events) / 3 {
		at := w.r.IntN(len(out) + 1)
		ev := events[w.r.IntN(len(events))]
		out = slices.Insert(out, at, ev)
	}
	// Every entity's newest event arrives last at least once more, as a
	// consumer catching up would see it.
	return out
}

var probeQueries = []search.Query{
	{Text: "airprot"}, {Text: "grand hotel"}, {Text: "hotl"}, {Text: "pa", Prefix: true},
	{Text: "seasid gardn", MinWords: 1}, {Text: "zurich"}, {Text: "cafe royal", Limit: 50},
	{Text: "москва"}, {Text: "東京"}, {Text: "", Filter: search.Filter{Tags: map[string][]string{"city": {"nice"}}}, Limit: 100},
	{Text: "palace", Filter: search.Filter{Ranges: []search.Range{search.AtMost("price", 150)}}, Limit: 100},
	{Text: "budget rooms lyon", MinWords: 2, Limit: 100},
}

// assertSame fails unless a and b hold the same documents and answer the
// probe queries identically.
func assertSame(t *testing.T, a, b *search.Index, model map[string]search.Document) {
	t.Helper()
	if a.Len() != len(model) || b.Len() != len(model) {
		t.Fatalf("documents: index %d, rebuild %d; want %d", a.Len(), b.Len(), len(model))
	}
	for id, want := range model {
		for name, ix := range map[string]*search.Index{"index": a, "rebuild": b} {
			got, ok := ix.Get(id)
			if !ok || got.Version != want.Version || !maps.Equal(got.Fields, want.Fields) || got.Popularity != want.Popularity {
				t.Fatalf("%s: %s = %+v, %v; want %+v", name, id, got, ok, want)
			}
		}
	}
	if sa, sb := a.Stats(), b.Stats(); sa.Terms != sb.Terms {
		t.Fatalf("live terms: index %d, rebuild %d", sa.Terms, sb.Terms)
	}
	for _, q := range probeQueries {
		ra, rb := mustSearch(t, a, q), mustSearch(t, b, q)
		if ra.Total != rb.Total || ids(ra) != ids(rb) {
			t.Fatalf("query %q: index %d [%s], rebuild %d [%s]", q.Text, ra.Total, ids(ra), rb.Total, ids(rb))
		}
		for i := range ra.Hits {
			ha, hb := ra.Hits[i], rb.Hits[i]
			if ha.Typos != hb.Typos || ha.Words != hb.Words || ha.Proximity != hb.Proximity || ha.Weight != hb.Weight {
				t.Fatalf("query %q hit %d: index %+v, rebuild %+v", q.Text, i, ha, hb)
			}
		}
	}
}

// TestApplyEqualsRebuild drives an index with a random stream of creates,
// updates and deletes, delivered out of order and redelivered, and checks
// that it ends up equal to an index rebuilt from the final state.
func TestApplyEqualsRebuild(t *testing.T) {
	ctx := context.Background()
	for seed := range uint64(4) {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			w := newWorld(seed)
			for range 3000 {
				w.step()
			}
			ix, _ := search.New(nil)
			applied := 0
			for _, ev := range w.delivery(w.events) {
				ok, err := ix.Apply(ctx, ev)
				if err != nil {
					t.Fatal(err)
				}
				if ok {
					applied++
				}
			}
			if applied == 0 || applied >= len(w.events)*4/3 {
				t.Fatalf("applied %d of %d events", applied, len(w.events))
			}
			rb, _ := search.New(nil)
			if err := rb.Rebuild(ctx, &memSource{docs: w.docs}); err != nil {
				t.Fatal(err)
			}
			assertSame(t, ix, rb, w.docs)

			// Replaying the whole history again changes nothing.
			before := ix.Stats().Applied
			for _, ev := range w.events {
				if ok, _ := ix.Apply(ctx, ev); ok {
					t.Fatalf("replayed event %+v applied", ev)
				}
			}
			if ix.Stats().Applied != before {
				t.Fatal("replay counted as applied")
			}
		})
	}
}

// TestRebuildWithConcurrentEvents applies events while a rebuild scans the
// source: the rebuilt index must include them, whichever side of the scan
// they fall on, and must not resurrect deleted entities.
func TestRebuildWithConcurrentEvents(t *testing.T) {
	ctx := context.Background()
	w := newWorld(7)
	for range 500 {
		w.step()
	}
	ix, _ := search.New(nil)
	for _, ev := range w.events {
		ix.Apply(ctx, ev)
	}
	scanned := maps.Clone(w.docs)
	var later []search.ChangeEvent
	src := &memSource{docs: scanned, during: func(i int) {
		if i%10 != 0 {
			return
		}
		n := len(w.events)
		for range 5 {
			w.step()
		}
		for _, ev := range w.events[n:] {
			if _, err := ix.Apply(ctx, ev); err != nil {
				t.Error(err)
			}
			later = append(later, ev)
		}
	}}
	if err := ix.Rebuild(ctx, src); err != nil {
		t.Fatal(err)
	}
	if len(later) == 0 {
		t.Fatal("no event during the rebuild")
	}
	// Redeliver everything: nothing may change.
	for _, ev := range w.events {
		ix.Apply(ctx, ev)
	}
	rb, _ := search.New(nil)
	rb.Rebuild(ctx, &memSource{docs: w.docs})
	assertSame(t, ix, rb, w.docs)
}

func TestRebuildErrorKeepsIndex(t *testing.T) {
	ix := newHotels(t, nil)
	boom := errors.New("database down")
	src := &memSource{docs: map[string]search.Document{"x": {ID: "x", Version: 1}, "y": {ID: "y", Version: 1}}}
	src.during = func(i int) {
		if i == 1 {
			src.docs["y"] = search.Document{} // invalid: empty ID
		}
	}
	if err := ix.Rebuild(context.Background(), src); !errors.Is(err, search.ErrInvalidDocument) {
		t.Fatalf("Rebuild = %v; want ErrInvalidDocument", err)
	}
	failing := &failingSource{err: boom}
	if err := ix.Rebuild(context.Background(), failing); !errors.Is(err, boom) {
		t.Fatalf("Rebuild = %v; want %v", err, boom)
	}
	if ix.Len() != len(hotels) || ids(mustSearch(t, ix, search.Query{Text: "airprot inn"})) != "h1,h5" {
		t.Fatal("a failed rebuild changed the index")
	}
}

type failingSource struct{ err error }

func (s *failingSource) Scan(ctx context.Context, fn func(search.Document) error) error { return s.err }

func TestDeleteAndUpdate(t *testing.T) {
	ctx := context.Background()
	ix := newHotels(t, nil)
	h1 := hotelDoc(hotels[0], 2)
	h1.Fields["name"] = "Harbour Lodge"
	if ok, _ := ix.Apply(ctx, search.ChangeEvent{Op: search.OpUpdated, Doc: h1}); !ok {
		t.Fatal("update not applied")
	}
	if got := ids(mustSearch(t, ix, search.Query{Text: "airport inn"})); got != "h5" {
		t.Fatalf("after renaming h1, airport inn = %s; want h5", got)
	}
	if got := ids(mustSearch(t, ix, search.Query{Text: "harbor lodge"})); got != "h1" {
		t.Fatalf("harbor lodge = %s; want h1", got)
	}
	// An older event, redelivered, is ignored.
	if ok, _ := ix.Apply(ctx, search.ChangeEvent{Op: search.OpCreated, Doc: hotelDoc(hotels[0], 1)}); ok {
		t.Fatal("version 1 applied over version 2")
	}
	if ok, _ := ix.Apply(ctx, search.ChangeEvent{Op: search.OpDeleted, Doc: search.Document{ID: "h1", Version: 3}}); !ok {
		t.Fatal("delete not applied")
	}
	if _, live := ix.Get("h1"); live || ix.Version("h1") != 3 {
		t.Fatalf("h1 live %v version %d after delete; want gone, 3", live, ix.Version("h1"))
	}
	// A redelivered update older than the delete must not resurrect it.
	if ok, _ := ix.Apply(ctx, search.ChangeEvent{Op: search.OpUpdated, Doc: h1}); ok {
		t.Fatal("update older than the delete applied")
	}
	if got := ids(mustSearch(t, ix, search.Query{Text: "harbour"})); got != "" {
		t.Fatalf("deleted h1 still found: %s", got)
	}
	// Re-creation with a newer version works.
	h1.Version = 4
	if ok, _ := ix.Apply(ctx, search.ChangeEvent{Op: search.OpCreated, Doc: h1}); !ok {
		t.Fatal("re-create not applied")
	}
	if got := ids(mustSearch(t, ix, search.Query{Text: "harbour"})); got != "h1" {
		t.Fatalf("re-created h1 not found: %q", got)
	}
}

// TestChurnCompacts updates the same few documents many times, so that
// dead postings, dead slots and dead terms pile up and get compacted.
func TestChurnCompacts(t *testing.T) {
	ctx := context.Background()
	ix, _ := search.New(nil)
	for v := uint64(1); v <= 3000; v++ {
		for i := range 5 {
			ix.Apply(ctx, search.ChangeEvent{Op: search.OpUpdated, Doc: search.Document{
				ID: fmt.Sprint("d", i), Version: v,
				Fields: map[string]string{"t": fmt.Sprintf("shared word%dx%d", v, i)}}})
		}
	}
	st := ix.Stats()
	if st.Docs != 5 || st.Terms != 6 {
		t.Fatalf("docs %d terms %d; want 5 and 6", st.Docs, st.Terms)
	}
	if st.Postings > 5000 || st.DeadTerms > 10000 {
		t.Fatalf("not compacted: %+v", st)
	}
	if r := mustSearch(t, ix, search.Query{Text: "shared", Limit: 100}); r.Total != 5 {
		t.Fatalf("shared: %d hits; want 5", r.Total)
	}
	// The other documents' last words are one typo away.
	if r := mustSearch(t, ix, search.Query{Text: "word3000x4"}); ids(r) != "d4,d0,d1,d2,d3" || r.Hits[0].Typos != 0 || r.Hits[1].Typos != 1 {
		t.Fatalf("word3000x4 = %s %+v; want d4 exact, then the others with one typo", ids(r), r.Hits)
	}
}

func TestSnapshotRoundTrip(t *testing.T) {
	ctx := context.Background()
	w := newWorld(11)
	for range 800 {
		w.step()
	}
	ix, _ := search.New(nil)
	for _, ev := range w.events {
		ix.Apply(ctx, ev)
	}
	ix.SetMark("hotels/0", 812)
	ix.SetMark("hotels/1", -1)
	path := filepath.Join(t.TempDir(), "index.snap")
	if err := ix.SaveSnapshot(path); err != nil {
		t.Fatal(err)
	}
	back, _ := search.New(nil)
	if err := back.LoadSnapshot(path); err != nil {
		t.Fatal(err)
	}
	assertSame(t, back, ix, w.docs)
	if !maps.Equal(back.Marks(), ix.Marks()) {
		t.Fatalf("marks %v; want %v", back.Marks(), ix.Marks())
	}
	// Deletes survive the restart: an old event does not resurrect.
	for _, ev := range w.events {
		if ok, _ := back.Apply(ctx, ev); ok {
			t.Fatalf("restored index applied old event %+v", ev)
		}
	}
	// Snapshots of equal indexes are equal bytes.
	var a, b bytes.Buffer
	ix.Snapshot(&a)
	back.Snapshot(&b)
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Fatal("snapshot of the restored index differs")
	}
}

func TestRestoreCorrupt(t *testing.T) {
	ix := newHotels(t, nil)
	var buf bytes.Buffer
	if err := ix.Snapshot(&buf); err != nil {
		t.Fatal(err)
	}
	good := buf.Bytes()
	target := newHotels(t, nil)
	target.Apply(context.Background(), search.ChangeEvent{Op: search.OpDeleted, Doc: search.Document{ID: "h8", Version: 5}})
	flipped := slices.Clone(good)
	flipped[len(flipped)/2] ^= 0x40
	bad := map[string][]byte{
		"empty":     nil,
		"magic":     append([]byte("XXSEARCH"), good[8:]...),
		"truncated": good[:len(good)-9],
		"flipped":   flipped,
		"short":     good[:10],
	}
	for name, b := range bad {
		if err := target.Restore(bytes.NewReader(b)); !errors.Is(err, search.ErrCorruptSnapshot) {
			t.Errorf("%s: Restore = %v; want ErrCorruptSnapshot", name, err)
		}
	}
	if target.Len() != len(hotels)-1 || target.Version("h8") != 5 {
		t.Fatal("a failed restore changed the index")
	}
	if err := target.Restore(bytes.NewReader(good)); err != nil || target.Len() != len(hotels) {
		t.Fatalf("good snapshot: %v, %d docs", err, target.Len())
	}
}

// TestConcurrentUse runs appliers, searchers, snapshots and rebuilds at
// once (run with -race), then checks the index converged to the model.
func TestConcurrentUse(t *testing.T) {
	ctx := context.Background()
	w := newWorld(5)
	for range 600 {
		w.step()
	}
	stream := w.delivery(w.events)
	ix, _ := search.New(nil)
	var wg sync.WaitGroup
	const appliers = 8
	for g := range appliers {
		wg.Go(func() {
			for i := g; i < len(stream); i += appliers {
				if _, err := ix.Apply(ctx, stream[i]); err != nil {
					t.Error(err)
				}
			}
		})
	}
	stop := make(chan struct{})
	var readers sync.WaitGroup
	for g := range 6 {
		readers.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				q := probeQueries[(g+i)%len(probeQueries)]
				if _, err := ix.Search(ctx, q); err != nil {
					t.Error(err)
				}
			}
		})
	}
	readers.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			var buf bytes.Buffer
			if err := ix.Snapshot(&buf); err != nil {
				t.Error(err)
			}
			ix.Stats()
		}
	})
	readers.Go(func() {
		// Rebuilds from a source that is behind: concurrent events must win.
		err := ix.Rebuild(ctx, &memSource{docs: map[string]search.Document{}})
		if err != nil && !errors.Is(err, search.ErrRebuildInProgress) {
			t.Error(err)
		}
	})
	wg.Wait()
	close(stop)
	readers.Wait()
	// The rebuild from an empty source may have dropped documents whose
	// events were all applied before it started; deliver the newest state
	// once more, as the stream does after a rebuild.
	for _, ev := range w.events {
		ix.Apply(ctx, ev)
	}
	rb, _ := search.New(nil)
	rb.Rebuild(ctx, &memSource{docs: w.docs})
	assertSame(t, ix, rb, w.docs)
}
