package memindex_test

import (
	"context"
	"fmt"
	"time"

	"github.com/sysblocks/sysblocks/geogrid"
	"github.com/sysblocks/sysblocks/geogrid/memindex"
)

// An Index is both the index of a Grid and the Claims of a Dispatcher. Its
// roots exist only where drivers are: two here, Bengaluru and London.
func Example() {
	ctx := context.Background()
	now := time.Date(2025, 3, 1, 8, 0, 0, 0, time.UTC)
	idx, err := memindex.New(nil)
	if err != nil {
		panic(err)
	}
	g, _ := geogrid.New(idx, &geogrid.Options{Now: func() time.Time { return now }})
	_ = g.Update(ctx, "kiran", 12.9716, 77.5946, now) // Bengaluru
	_ = g.Update(ctx, "asha", 12.9750, 77.5990, now)
	_ = g.Update(ctx, "tom", 51.5074, -0.1278, now) // London
	fmt.Println("entries", idx.Len(), "roots", idx.Roots())

	near, _ := g.Nearby(ctx, 12.9720, 77.5950, 3000, 1, nil)
	fmt.Printf("nearest %s %.0f m\n", near[0].ID, near[0].Meters)

	holder, _ := idx.Claim(ctx, "trip-1", "kiran", now, time.Minute)
	again, _ := idx.Claim(ctx, "trip-1", "asha", now, time.Minute)
	fmt.Println("trip-1 held by", holder, "then", again)
	// Output:
	// entries 3 roots 2
	// nearest kiran 62 m
	// trip-1 held by kiran then kiran
}
