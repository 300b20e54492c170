package geogrid_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/sysblocks/sysblocks/geogrid"
)

// clock is a test clock safe for concurrent use.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }

func (c *clock) Advance(d time.Duration) { c.mu.Lock(); c.now = c.now.Add(d); c.mu.Unlock() }

type acceptResult struct {
	a   geogrid.Assignment
	err error
}

// TestAcceptTwiceByWinner: the winning driver accepts many times at once
// while Assign is not reading (its Offerer is still busy), then again after
// Assign returned. Every accept returns the same assignment, none blocks,
// and the drivers who lost, however late, get ErrClaimed.
func TestAcceptTwiceByWinner(t *testing.T) {
	for _, cancelAssign := range []bool{false, true} {
		t.Run(fmt.Sprint("cancel=", cancelAssign), func(t *testing.T) {
			defer goleak.VerifyNone(t)
			now := t0
			g, x := newGrid(t, geogrid.Segmentation{}, &now)
			drivers(t, g, map[string]float64{"d0": 100, "d1": 200})
			offered := make(chan geogrid.Offer, 2)
			release := make(chan struct{})
			d, err := geogrid.NewDispatcher(g, x, nil, geogrid.OfferFunc(func(ctx context.Context, o geogrid.Offer) error {
				offered <- o
				if o.Driver == "d1" {
					<-release // Assign is busy offering: nobody reads the winner's result
				}
				return nil
			}), &geogrid.DispatchOptions{K: 2, OfferTimeout: time.Hour, Now: func() time.Time { return t0 }})
			must(t, err)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			assigned := make(chan acceptResult, 1)
			go func() {
				a, err := d.Assign(ctx, geogrid.Request{Trip: "t1", Rider: "r1", Lat: 12.97, Lng: 77.59})
				assigned <- acceptResult{a, err}
			}()
			if o := <-offered; o.Driver != "d0" {
				t.Fatalf("first offer to %s; want d0", o.Driver)
			}
			<-offered // d1: the Offerer now blocks until released
			const accepts = 8
			results := make(chan acceptResult, accepts)
			for range accepts {
				go func() {
					a, err := d.Accept(context.Background(), "t1", "d0")
					results <- acceptResult{a, err}
				}()
			}
			deadline := time.After(time.Minute) // a liveness bound: a blocked Accept never returns
			var first acceptResult
			select {
			case first = <-results:
			case <-deadline:
				t.Fatal("no Accept by the winner returned")
			}
			must(t, first.err)
			if cancelAssign {
				cancel() // Assign now closes the trip, or takes the winner: both are ready
			}
			close(release)
			for i := 1; i < accepts; i++ {
				select {
				case r := <-results:
					if r.err != nil || r.a != first.a {
						t.Fatalf("accept %d by the winner: got %+v, %v; want %+v, nil", i+1, r.a, r.err, first.a)
					}
				case <-deadline:
					t.Fatalf("%d of %d accepts by the winner never returned (blocked)", accepts-i, accepts)
				}
			}
			r := <-assigned
			if r.err != nil || r.a != first.a {
				t.Fatalf("Assign: got %+v, %v; want %+v, nil", r.a, r.err, first.a)
			}
			// After Assign returned.
			if a, err := d.Accept(context.Background(), "t1", "d0"); err != nil || a != first.a {
				t.Fatalf("the winner accepting after Assign returned: got %+v, %v; want %+v, nil", a, err, first.a)
			}
			if _, err := d.Accept(context.Background(), "t1", "d1"); !errors.Is(err, geogrid.ErrClaimed) {
				t.Fatalf("the loser accepting after Assign returned: got %v; want ErrClaimed", err)
			}
			st := d.Stats()
			if st.Won != 1 || st.Repeated != accepts || st.Lost != 1 || st.Accepts != accepts+2 || st.Pending != 0 || st.Remembered != 1 {
				t.Fatalf("Stats: got %+v; want 1 won, %d repeated, 1 lost, %d accepts, 0 pending, 1 remembered", st, accepts, accepts+2)
			}
		})
	}
}

// TestDispatchAcceptStress runs many broadcasts at once; every offered
// driver accepts twice concurrently and a third of the Assign calls are
// cancelled while the accepts run. Each trip has at most one winner, every
// accept of the winner returns the same assignment, Assign agrees with the
// accepts, and no goroutine is left behind.
func TestDispatchAcceptStress(t *testing.T) {
	defer goleak.VerifyNone(t)
	const trips, perTrip = 40, 5
	now := t0
	g, x := newGrid(t, geogrid.Segmentation{}, &now)
	ctx := context.Background()
	for i := range trips {
		for j := range perTrip {
			must(t, g.Update(ctx, fmt.Sprintf("t%d-d%d", i, j), float64(i), 10+float64(j)*1e-3, t0))
		}
	}
	offers := make(chan geogrid.Offer, trips*perTrip)
	d, err := geogrid.NewDispatcher(g, x, nil, geogrid.OfferFunc(func(ctx context.Context, o geogrid.Offer) error {
		offers <- o
		return nil
	}), &geogrid.DispatchOptions{K: perTrip, OfferTimeout: time.Hour, Now: func() time.Time { return t0 }})
	must(t, err)
	cancels := make([]context.CancelFunc, trips)
	ctxs := make([]context.Context, trips)
	for i := range trips {
		ctxs[i], cancels[i] = context.WithCancel(ctx)
		defer cancels[i]()
	}
	assigned := make([]acceptResult, trips)
	accepts := make([][]struct {
		driver string
		acceptResult
	}, trips)
	var mu sync.Mutex
	var wg, acceptors sync.WaitGroup
	for i := range trips {
		wg.Go(func() {
			a, err := d.Assign(ctxs[i], geogrid.Request{Trip: fmt.Sprint("t", i), Rider: "r", Lat: float64(i), Lng: 10})
			assigned[i] = acceptResult{a, err}
		})
	}
	acceptors.Go(func() {
		for range trips * perTrip {
			o := <-offers
			var i int
			fmt.Sscanf(o.Trip, "t%d", &i)
			if i%3 == 0 && o.Round == 1 && o.Driver == fmt.Sprintf("t%d-d0", i) {
				acceptors.Go(cancels[i])
			}
			for range 2 {
				acceptors.Go(func() {
					a, err := d.Accept(ctx, o.Trip, o.Driver)
					mu.Lock()
					accepts[i] = append(accepts[i], struct {
						driver string
						acceptResult
					}{o.Driver, acceptResult{a, err}})
					mu.Unlock()
				})
			}
		}
	})
	wg.Wait()
	acceptors.Wait()
	for i := range trips {
		trip := fmt.Sprint("t", i)
		var winner string
		var won geogrid.Assignment
		for _, r := range accepts[i] {
			switch {
			case r.err == nil:
				if winner != "" && (r.driver != winner || r.a != won) {
					t.Fatalf("%s: accepts won by %s (%+v) and %s (%+v)", trip, winner, won, r.driver, r.a)
				}
				winner, won = r.driver, r.a
			case errors.Is(r.err, geogrid.ErrClaimed), errors.Is(r.err, geogrid.ErrTripClosed):
			case errors.Is(r.err, geogrid.ErrNoOffer):
				// an accept that arrived after its trip was closed and
				// before it was offered... cannot happen: every accept
				// follows its offer.
				t.Fatalf("%s: accept by %s: %v; want success, ErrClaimed or ErrTripClosed", trip, r.driver, r.err)
			default:
				t.Fatalf("%s: accept by %s: %v", trip, r.driver, r.err)
			}
		}
		a := assigned[i]
		switch {
		case a.err == nil && (winner == "" || a.a != won):
			t.Fatalf("%s: Assign returned %+v; the accepts say winner %q with %+v", trip, a.a, winner, won)
		case a.err != nil && winner != "":
			t.Fatalf("%s: Assign failed (%v) but %s won the accept", trip, a.err, winner)
		case a.err != nil && !errors.Is(a.err, context.Canceled):
			t.Fatalf("%s: Assign: %v", trip, a.err)
		}
		h, err := d.Holder(ctx, trip)
		if winner != "" && (err != nil || h != winner) || winner == "" && !errors.Is(err, geogrid.ErrTripClosed) {
			t.Fatalf("%s: Holder: got %q, %v; want winner %q (or ErrTripClosed if none)", trip, h, err, winner)
		}
	}
}

// TestDispatchRemember: the outcome of a broadcast answers late accepts
// for DispatchOptions.Remember, then is forgotten; a released trip is no
// longer the winner's to accept.
func TestDispatchRemember(t *testing.T) {
	now := t0
	g, x := newGrid(t, geogrid.Segmentation{}, &now)
	drivers(t, g, map[string]float64{"d0": 100, "d1": 200})
	c := &clock{now: t0}
	var d *geogrid.Dispatcher
	d, err := geogrid.NewDispatcher(g, x, nil, geogrid.OfferFunc(func(ctx context.Context, o geogrid.Offer) error {
		if o.Driver == "d1" {
			_, err := d.Accept(ctx, o.Trip, "d0") // d0 accepts as soon as every driver is offered
			return err
		}
		return nil
	}), &geogrid.DispatchOptions{K: 2, OfferTimeout: time.Hour, Remember: time.Minute, Now: c.Now})
	must(t, err)
	ctx := context.Background()
	a, err := d.Assign(ctx, geogrid.Request{Trip: "t1", Rider: "r1", Lat: 12.97, Lng: 77.59})
	must(t, err)
	if a.Driver != "d0" {
		t.Fatalf("Assign: got %+v; want d0", a)
	}
	c.Advance(time.Minute - time.Microsecond)
	if _, err := d.Accept(ctx, "t1", "d1"); !errors.Is(err, geogrid.ErrClaimed) {
		t.Fatalf("loser just within Remember: got %v; want ErrClaimed", err)
	}
	if st := d.Stats(); st.Remembered != 1 {
		t.Fatalf("Remembered: got %d; want 1", st.Remembered)
	}
	c.Advance(time.Microsecond)
	if _, err := d.Accept(ctx, "t1", "d1"); !errors.Is(err, geogrid.ErrNoOffer) {
		t.Fatalf("loser after Remember: got %v; want ErrNoOffer", err)
	}
	if _, err := d.Accept(ctx, "t1", "d0"); !errors.Is(err, geogrid.ErrNoOffer) {
		t.Fatalf("winner after Remember: got %v; want ErrNoOffer", err)
	}
	if st := d.Stats(); st.Remembered != 0 {
		t.Fatalf("Remembered after Remember: got %d; want 0", st.Remembered)
	}
	if h, err := d.Holder(ctx, "t1"); err != nil || h != "d0" {
		t.Fatalf("Holder after Remember: got %q, %v; want d0 (the claim outlives the memory)", h, err)
	}

	// A released trip: the winner's accept is refused.
	must(t, d.Release(ctx, "t1", "d0"))
	a, err = d.Assign(ctx, geogrid.Request{Trip: "t2", Rider: "r2", Lat: 12.97, Lng: 77.59})
	must(t, err)
	if b, err := d.Accept(ctx, "t2", a.Driver); err != nil || b != a {
		t.Fatalf("winner before release: got %+v, %v; want %+v", b, err, a)
	}
	must(t, d.Release(ctx, "t2", a.Driver))
	if _, err := d.Accept(ctx, "t2", a.Driver); !errors.Is(err, geogrid.ErrNoOffer) {
		t.Fatalf("winner after release: got %v; want ErrNoOffer", err)
	}
	if _, err := d.Holder(ctx, "t2"); !errors.Is(err, geogrid.ErrNotFound) {
		t.Fatalf("Holder after release: got %v; want ErrNotFound", err)
	}
}

// TestAssignTakenTrip: a broadcast for a trip that is already assigned is
// refused at once, without offers.
func TestAssignTakenTrip(t *testing.T) {
	now := t0
	g, x := newGrid(t, geogrid.Segmentation{}, &now)
	drivers(t, g, map[string]float64{"d0": 100, "d1": 200})
	offers := 0
	d, err := geogrid.NewDispatcher(g, x, nil, geogrid.OfferFunc(func(context.Context, geogrid.Offer) error { offers++; return nil }),
		&geogrid.DispatchOptions{OfferTimeout: time.Millisecond})
	must(t, err)
	ctx := context.Background()
	a, err := d.Assign(ctx, geogrid.Request{Trip: "t", Lat: 12.97, Lng: 77.59, Premium: true})
	must(t, err)
	if _, err := d.Assign(ctx, geogrid.Request{Trip: "t", Lat: 12.97, Lng: 77.59}); !errors.Is(err, geogrid.ErrClaimed) {
		t.Fatalf("broadcast of an assigned trip: got %v; want ErrClaimed", err)
	}
	if offers != 0 {
		t.Fatalf("broadcast of an assigned trip made %d offers; want 0", offers)
	}
	if h, err := d.Holder(ctx, "t"); err != nil || h != a.Driver {
		t.Fatalf("Holder: got %q, %v; want %q", h, err, a.Driver)
	}
	if _, err := d.Holder(ctx, ""); !errors.Is(err, geogrid.ErrInvalidInput) {
		t.Fatalf("Holder of an empty trip: got %v; want ErrInvalidInput", err)
	}
}

func TestDispatcherOptions(t *testing.T) {
	now := t0
	g, x := newGrid(t, geogrid.Segmentation{}, &now)
	d, err := geogrid.NewDispatcher(g, x, nil, nil, &geogrid.DispatchOptions{K: 4, OfferTimeout: 5 * time.Second})
	must(t, err)
	o := d.Options()
	if o.Radius != 3000 || o.K != 4 || o.OfferTimeout != 5*time.Second || o.Rounds != 3 || o.ClaimTTL != 2*time.Hour ||
		o.Remember != 5*time.Second || o.Now == nil || o.Rating != nil || o.Available != nil || o.Fraud != nil {
		t.Fatalf("Options: got %+v; want the given K and OfferTimeout, defaults elsewhere", o)
	}
	if _, err := geogrid.NewDispatcher(g, x, nil, nil, &geogrid.DispatchOptions{Remember: -1}); !errors.Is(err, geogrid.ErrInvalidInput) {
		t.Fatalf("negative Remember: got %v; want ErrInvalidInput", err)
	}
}
