package sqlsource_test

import (
	"context"
	"database/sql"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/sysblocks/sysblocks/internal/testenv"
	"github.com/sysblocks/sysblocks/search"
	"github.com/sysblocks/sysblocks/search/sqlsource"
)

const schema = `CREATE TABLE hotels (
	id         VARCHAR(32) PRIMARY KEY,
	version    BIGINT UNSIGNED NOT NULL,
	name       VARCHAR(200) NOT NULL,
	city       VARCHAR(100) NOT NULL,
	price      DOUBLE NOT NULL,
	popularity DOUBLE NOT NULL
) CHARACTER SET utf8mb4`

func hotelSource(db *sql.DB) *sqlsource.Source {
	return sqlsource.New(db, "SELECT id, version, name, city, price, popularity FROM hotels", nil,
		func(rows *sql.Rows) (search.Document, error) {
			var d search.Document
			var name, city string
			var price float64
			if err := rows.Scan(&d.ID, &d.Version, &name, &city, &price, &d.Popularity); err != nil {
				return d, err
			}
			d.Fields = map[string]string{"name": name, "city": city}
			d.Tags = map[string][]string{"city": {city}}
			d.Numbers = map[string]float64{"price": price}
			return d, nil
		})
}

var (
	nameWords = []string{"Airport", "Inn", "Grand", "Hôtel", "Plaza", "Seaside", "Budget", "Rooms", "Royal",
		"Palace", "Garden", "Suites", "Centre", "Harbour", "Lodge", "Motel"}
	cities = []string{"Paris", "Lyon", "Nice", "Zürich", "Genève", "Москва"}
)

// app is the application that owns the hotels table: every change runs
// in a transaction and yields the change event its outbox would publish,
// versioned by a sequence like a commit log position.
type app struct {
	t      *testing.T
	db     *sql.DB
	r      *rand.Rand
	seq    uint64
	live   []string
	next   int
	events []search.ChangeEvent
}

func (a *app) doc(id string) search.Document {
	n := 1 + a.r.IntN(3)
	var words []string
	for range n {
		words = append(words, nameWords[a.r.IntN(len(nameWords))])
	}
	city := cities[a.r.IntN(len(cities))]
	a.seq++
	return search.Document{ID: id, Version: a.seq,
		Fields:     map[string]string{"name": strings.Join(words, " "), "city": city},
		Tags:       map[string][]string{"city": {city}},
		Numbers:    map[string]float64{"price": float64(40 + a.r.IntN(400))},
		Popularity: float64(a.r.IntN(1000)),
	}
}

func (a *app) step(ctx context.Context) {
	op := a.r.IntN(10)
	switch {
	case op < 4 || len(a.live) == 0:
		id := fmt.Sprintf("h%d", a.next)
		a.next++
		d := a.doc(id)
		_, err := a.db.ExecContext(ctx, "INSERT INTO hotels VALUES (?, ?, ?, ?, ?, ?)",
			d.ID, d.Version, d.Fields["name"], d.Fields["city"], d.Numbers["price"], d.Popularity)
		if err != nil {
			a.t.Fatal(err)
		}
		a.live = append(a.live, id)
		a.events = append(a.events, search.ChangeEvent{Op: search.OpCreated, Doc: d})
	case op < 8:
		id := a.live[a.r.IntN(len(a.live))]
		d := a.doc(id)
		_, err := a.db.ExecContext(ctx, "UPDATE hotels SET version=?, name=?, city=?, price=?, popularity=? WHERE id=?",
			d.Version, d.Fields["name"], d.Fields["city"], d.Numbers["price"], d.Popularity, d.ID)
		if err != nil {
			a.t.Fatal(err)
		}
		a.events = append(a.events, search.ChangeEvent{Op: search.OpUpdated, Doc: d})
	default:
		i := a.r.IntN(len(a.live))
		id := a.live[i]
		a.live = slices.Delete(a.live, i, i+1)
		if _, err := a.db.ExecContext(ctx, "DELETE FROM hotels WHERE id=?", id); err != nil {
			a.t.Fatal(err)
		}
		a.seq++
		a.events = append(a.events, search.ChangeEvent{Op: search.OpDeleted, Doc: search.Document{ID: id, Version: a.seq}})
	}
}

// deliver returns evs as an at-least-once consumer sees them: reordered
// within windows and with a third of them delivered again at random
// places.
func deliver(r *rand.Rand, evs []search.ChangeEvent) []search.ChangeEvent {
	out := slices.Clone(evs)
	for i := 0; i < len(out); i += 12 {
		w := out[i:min(i+12, len(out))]
		r.Shuffle(len(w), func(a, b int) { w[a], w[b] = w[b], w[a] })
	}
	for range len(evs) / 3 {
		out = slices.Insert(out, r.IntN(len(out)+1), evs[r.IntN(len(evs))])
	}
	return out
}

var probes = []search.Query{
	{Text: "airprot inn", Limit: 100}, {Text: "grand hotel", Limit: 100}, {Text: "plaz", Prefix: true, Limit: 100},
	{Text: "zurich", Limit: 100}, {Text: "москва", Limit: 100}, {Text: "seasde lodge", MinWords: 1, Limit: 100},
	{Text: "", Filter: search.Filter{Tags: map[string][]string{"city": {"Nice"}}, Ranges: []search.Range{search.AtMost("price", 200)}}, Limit: 1000},
}

func equalIndexes(t *testing.T, name string, got, want *search.Index) {
	t.Helper()
	if got.Len() != want.Len() {
		t.Fatalf("%s: %d documents; the database has %d", name, got.Len(), want.Len())
	}
	want.Each(func(w search.Document) bool {
		g, ok := got.Get(w.ID)
		if !ok || g.Version != w.Version || !maps.Equal(g.Fields, w.Fields) || g.Popularity != w.Popularity ||
			!maps.Equal(g.Numbers, w.Numbers) || !slices.Equal(g.Tags["city"], w.Tags["city"]) {
			t.Fatalf("%s: %s = %+v (live %v); database has %+v", name, w.ID, g, ok, w)
		}
		return true
	})
	for _, q := range probes {
		rg, err := got.Search(context.Background(), q)
		if err != nil {
			t.Fatal(err)
		}
		rw, _ := want.Search(context.Background(), q)
		if rg.Total != rw.Total || len(rg.Hits) != len(rw.Hits) {
			t.Fatalf("%s: query %q: %d hits; rebuild has %d", name, q.Text, rg.Total, rw.Total)
		}
		for i := range rg.Hits {
			if rg.Hits[i].Doc.ID != rw.Hits[i].Doc.ID || rg.Hits[i].Typos != rw.Hits[i].Typos {
				t.Fatalf("%s: query %q hit %d: %s; rebuild has %s", name, q.Text, i, rg.Hits[i].Doc.ID, rw.Hits[i].Doc.ID)
			}
		}
	}
}

// TestIndexEqualsDatabase uses MariaDB as the source of truth: random
// creates, updates and deletes run against the hotels table, their events
// reach one index out of order and redelivered, and another index is
// rebuilt from the table half-way while the rest of the events stream in
// concurrently. Both must equal a final rebuild from the table.
func TestIndexEqualsDatabase(t *testing.T) {
	env := testenv.MySQL(t)
	ctx := context.Background()
	if _, err := env.DB.ExecContext(ctx, schema); err != nil {
		t.Fatal(err)
	}
	a := &app{t: t, db: env.DB, r: rand.New(rand.NewPCG(42, 1))}
	for range 600 {
		a.step(ctx)
	}
	half := len(a.events)

	streamed, _ := search.New(nil)
	midway, _ := search.New(nil)
	for _, ev := range deliver(a.r, a.events) {
		streamed.Apply(ctx, ev)
		midway.Apply(ctx, ev)
	}
	// Second half: midway rebuilds from the table, and while its scan is
	// open (after the first row) the table keeps changing and those events
	// reach both indexes. The scan reads the table as it was when the
	// query started, so midway is right only if the events applied during
	// the rebuild are replayed onto the rebuilt index.
	scanning, proceed := make(chan struct{}), make(chan struct{})
	src := &pausingSource{src: hotelSource(env.DB), paused: scanning, proceed: proceed}
	rebuildErr := make(chan error, 1)
	go func() { rebuildErr <- midway.Rebuild(ctx, src) }()
	<-scanning
	for range 600 {
		a.step(ctx)
	}
	second := deliver(a.r, a.events[half:])
	var wg sync.WaitGroup
	wg.Go(func() {
		for _, ev := range second {
			if _, err := midway.Apply(ctx, ev); err != nil {
				t.Error(err)
			}
		}
	})
	for _, ev := range second {
		if _, err := streamed.Apply(ctx, ev); err != nil {
			t.Fatal(err)
		}
	}
	wg.Wait()
	close(proceed)
	if err := <-rebuildErr; err != nil {
		t.Fatal(err)
	}

	rebuilt, _ := search.New(nil)
	if err := rebuilt.Rebuild(ctx, hotelSource(env.DB)); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := env.DB.QueryRowContext(ctx, "SELECT COUNT(*) FROM hotels").Scan(&n); err != nil {
		t.Fatal(err)
	}
	if rebuilt.Len() != n || n == 0 {
		t.Fatalf("rebuild holds %d documents; the table has %d rows", rebuilt.Len(), n)
	}
	equalIndexes(t, "streamed", streamed, rebuilt)
	equalIndexes(t, "rebuilt midway", midway, rebuilt)
}

func TestScanErrors(t *testing.T) {
	env := testenv.MySQL(t)
	ctx := context.Background()
	ix, _ := search.New(nil)
	src := sqlsource.New(env.DB, "SELECT nope FROM missing_table", nil, nil)
	if err := ix.Rebuild(ctx, src); err == nil || !strings.Contains(err.Error(), "sqlsource: query") {
		t.Fatalf("Rebuild from a missing table = %v; want a query error", err)
	}
	if _, err := env.DB.ExecContext(ctx, schema); err != nil {
		t.Fatal(err)
	}
	env.DB.ExecContext(ctx, "INSERT INTO hotels VALUES ('h1', 0, 'Airport Inn', 'Paris', 1, 1)")
	if err := ix.Rebuild(ctx, hotelSource(env.DB)); err == nil || !strings.Contains(err.Error(), "version 0") {
		t.Fatalf("Rebuild with a version-0 row = %v; want ErrInvalidDocument", err)
	}
}

// pausingSource stops after the first document until proceed is closed.
type pausingSource struct {
	src             search.Source
	paused, proceed chan struct{}
}

func (p *pausingSource) Scan(ctx context.Context, fn func(search.Document) error) error {
	first := true
	return p.src.Scan(ctx, func(d search.Document) error {
		if first {
			first = false
			close(p.paused)
			<-p.proceed
		}
		return fn(d)
	})
}
