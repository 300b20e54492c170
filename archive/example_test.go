package archive_test

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/sysblocks/sysblocks/archive"
	"github.com/sysblocks/sysblocks/archive/memstore"
)

// orders is a tiny live store of orders: a Source and a Lister.
type orders struct {
	mu   sync.Mutex
	rows map[string]order
}

type order struct {
	user, id string
	placed   time.Time
	state    string // "open", "delivered"
	closed   time.Time
}

func (o *orders) record(r order) archive.Record {
	return archive.Record{Owner: r.user, ID: r.id, At: r.placed, Data: []byte(r.state)}
}

func (o *orders) Due(ctx context.Context, cutoff time.Time, limit int) ([]archive.Record, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	var due []order
	for _, r := range o.rows {
		if r.state == "delivered" && r.closed.Before(cutoff) {
			due = append(due, r)
		}
	}
	slices.SortFunc(due, func(a, b order) int { return cmp.Or(a.closed.Compare(b.closed), cmp.Compare(a.id, b.id)) })
	var out []archive.Record
	for _, r := range due[:min(limit, len(due))] {
		out = append(out, o.record(r))
	}
	return out, nil
}

func (o *orders) Delete(ctx context.Context, ids []string) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, id := range ids {
		if o.rows[id].state == "delivered" { // never an open order
			delete(o.rows, id)
		}
	}
	return nil
}

func (o *orders) List(ctx context.Context, owner string, after archive.Cursor, limit int) ([]archive.Record, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	var out []archive.Record
	for _, r := range o.rows {
		if rec := o.record(r); r.user == owner && after.After(rec) {
			out = append(out, rec)
		}
	}
	slices.SortFunc(out, archive.Compare)
	return out[:min(limit, len(out))], nil
}

// Delivered orders older than 30 days move to the cold store; the user's
// order history still shows every order, newest first.
func Example() {
	ctx := context.Background()
	now := time.Date(2030, time.June, 30, 12, 0, 0, 0, time.UTC)
	day := func(d int) time.Time { return time.Date(2030, time.May, d, 12, 0, 0, 0, time.UTC) }
	live := &orders{rows: map[string]order{
		"o1": {user: "ann", id: "o1", placed: day(1), state: "delivered", closed: day(3)},
		"o2": {user: "ann", id: "o2", placed: day(2), state: "delivered", closed: day(5)},
		"o3": {user: "ann", id: "o3", placed: day(20), state: "delivered", closed: now.Add(-24 * time.Hour)},
		"o4": {user: "ann", id: "o4", placed: day(28), state: "open"},
	}}
	cold := memstore.New() // cqlstore.New(session, nil) in production

	a, err := archive.New(live, cold, &archive.Options{Age: 30 * 24 * time.Hour, Now: func() time.Time { return now }})
	if err != nil {
		panic(err)
	}
	moved, err := a.RunOnce(ctx) // go a.Run(ctx) runs it every Options.Interval
	fmt.Println("moved", moved, err)

	var after archive.Cursor
	for {
		page, next, err := archive.Merge(ctx, "ann", after, 3, live, cold)
		if err != nil {
			panic(err)
		}
		for _, r := range page {
			fmt.Println(r.ID, r.At.Format("Jan 2"), string(r.Data))
		}
		if next.IsZero() {
			break
		}
		fmt.Println("-- next page")
		after = next
	}
	// Output:
	// moved 2 <nil>
	// o4 May 28 open
	// o3 May 20 delivered
	// o2 May 2 delivered
	// -- next page
	// o1 May 1 delivered
}
