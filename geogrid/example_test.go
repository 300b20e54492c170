package geogrid_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/sysblocks/sysblocks/geogrid"
	"github.com/sysblocks/sysblocks/geogrid/memindex"
)

func Example() {
	ctx := context.Background()
	now := time.Date(2025, 3, 1, 8, 0, 0, 0, time.UTC)
	idx, _ := memindex.New(nil)
	g, _ := geogrid.New(idx, &geogrid.Options{TTL: 30 * time.Second, Now: func() time.Time { return now }})

	// Drivers report their positions (Bengaluru).
	_ = g.Update(ctx, "kiran", 12.9716, 77.5946, now)
	_ = g.Update(ctx, "asha", 12.9750, 77.5990, now)
	_ = g.Update(ctx, "ravi", 12.9352, 77.6245, now.Add(-time.Minute)) // stale: not heard from for a minute
	_ = g.Update(ctx, "meera", 13.0358, 77.5970, now)                  // 7 km away

	near, _ := g.Nearby(ctx, 12.9720, 77.5950, 3000, 10, nil)
	for _, n := range near {
		fmt.Printf("%s %.0f m\n", n.ID, n.Meters)
	}

	err := g.Update(ctx, "kiran", 91, 0, now)
	fmt.Println(err)
	// Output:
	// kiran 62 m
	// asha 547 m
	// geogrid: update: lat 91: outside [-90, 90]
}

func ExampleDispatcher_Assign() {
	ctx := context.Background()
	now := time.Date(2025, 3, 1, 8, 0, 0, 0, time.UTC)
	idx, _ := memindex.New(nil)
	g, _ := geogrid.New(idx, &geogrid.Options{Now: func() time.Time { return now }})
	_ = g.Update(ctx, "kiran", 12.9716, 77.5946, now)
	_ = g.Update(ctx, "asha", 12.9750, 77.5990, now)

	// Broadcast: every driver gets the offer; the first to accept wins.
	var d *geogrid.Dispatcher
	d, _ = geogrid.NewDispatcher(g, idx, geogrid.StraightLine{}, geogrid.OfferFunc(func(ctx context.Context, o geogrid.Offer) error {
		fmt.Printf("offer %s to %s, ETA %s\n", o.Trip, o.Driver, o.ETA.Round(time.Second))
		if o.Driver == "asha" {
			go func() { _, _ = d.Accept(ctx, o.Trip, o.Driver) }()
		}
		return nil
	}), &geogrid.DispatchOptions{Now: func() time.Time { return now }})
	a, err := d.Assign(ctx, geogrid.Request{Trip: "trip-1", Rider: "rider-1", Lat: 12.9720, Lng: 77.5950})
	fmt.Println(a.Driver, err)

	// Premium: the best free driver is claimed at once.
	a, err = d.Assign(ctx, geogrid.Request{Trip: "trip-2", Rider: "rider-2", Lat: 12.9720, Lng: 77.5950, Premium: true})
	fmt.Println(a.Driver, a.ETA.Round(time.Second), err)
	// Output:
	// offer trip-1 to kiran, ETA 10s
	// offer trip-1 to asha, ETA 1m25s
	// asha <nil>
	// kiran 10s <nil>
}

func ExampleMarket() {
	m, _ := geogrid.NewMarket(&geogrid.MarketOptions{Level: 12, Window: time.Minute})
	at := time.Date(2025, 3, 1, 8, 0, 0, 0, time.UTC)
	_ = m.Supply("kiran", 12.9716, 77.5946, at)
	_ = m.Supply("kiran", 12.9717, 77.5947, at.Add(5*time.Second)) // same driver, same cell: counted once
	for range 5 {
		_ = m.Demand(12.9720, 77.5950, at.Add(10*time.Second))
	}
	c, _ := m.Counts(12.9720, 77.5950, at.Add(30*time.Second))
	fmt.Printf("supply %d, demand %d, ratio %.1f\n", c.Supply, c.Demand, c.Ratio())
	// Output:
	// supply 1, demand 5, ratio 5.0
}

func ExampleDispatcher_Accept() {
	ctx := context.Background()
	now := time.Date(2025, 3, 1, 8, 0, 0, 0, time.UTC)
	idx, _ := memindex.New(nil)
	g, _ := geogrid.New(idx, &geogrid.Options{Now: func() time.Time { return now }})
	_ = g.Update(ctx, "kiran", 12.9716, 77.5946, now)
	_ = g.Update(ctx, "asha", 12.9750, 77.5990, now)

	var d *geogrid.Dispatcher
	d, _ = geogrid.NewDispatcher(g, idx, nil, geogrid.OfferFunc(func(ctx context.Context, o geogrid.Offer) error {
		if o.Driver == "asha" { // the last offer: kiran answers first
			_, err := d.Accept(ctx, o.Trip, "kiran")
			return err
		}
		return nil
	}), &geogrid.DispatchOptions{Now: func() time.Time { return now }})
	a, _ := d.Assign(ctx, geogrid.Request{Trip: "trip-1", Rider: "rider-1", Lat: 12.9720, Lng: 77.5950})
	fmt.Println("assigned:", a.Driver)

	// Answers that arrive after Assign returned.
	_, err := d.Accept(ctx, "trip-1", "asha")
	fmt.Println("asha:", errors.Is(err, geogrid.ErrClaimed))
	again, err := d.Accept(ctx, "trip-1", "kiran") // a retry by the winner
	fmt.Println("kiran again:", again == a, err)
	h, _ := d.Holder(ctx, "trip-1")
	fmt.Println("holder:", h)
	st := d.Stats()
	fmt.Println("won", st.Won, "lost", st.Lost, "repeated", st.Repeated)
	// Output:
	// assigned: kiran
	// asha: true
	// kiran again: true <nil>
	// holder: kiran
	// won 1 lost 1 repeated 1
}

func ExampleCell_Vertices() {
	c, _ := geogrid.CellAt(51.5074, -0.1278, 10) // a segment to draw on a map
	// The corners, counter-clockwise.
	for _, v := range c.Vertices() {
		fmt.Printf("%.4f, %.4f\n", v.Lat, v.Lng)
	}
	sw, ne := c.Bounds()
	fmt.Printf("bounds %.4f, %.4f to %.4f, %.4f\n", sw.Lat, sw.Lng, ne.Lat, ne.Lng)
	// Output:
	// 51.4309, -0.0936
	// 51.5150, -0.0939
	// 51.5149, -0.1880
	// 51.4308, -0.1875
	// bounds 51.4308, -0.1880 to 51.5150, -0.0936
}
