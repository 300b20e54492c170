package geogrid

import (
	"context"
	"errors"
	"math"
	"slices"
	"sync"
	"time"
)

// ETA estimates the driving time between two points. [StraightLine] is the
// simple model; a road router can implement the same interface.
type ETA interface {
	ETA(ctx context.Context, fromLat, fromLng, toLat, toLng float64) (time.Duration, error)
}

// StraightLine estimates an ETA as the great-circle distance times Detour,
// driven at Speed. It is safe for concurrent use.
type StraightLine struct {
	// Speed in meters per second. Zero means 8.33 (30 km/h, city traffic).
	Speed float64
	// Detour is the ratio of road distance to straight-line distance.
	// Zero means 1.3.
	Detour float64
}

// ETA implements [ETA].
func (s StraightLine) ETA(_ context.Context, fromLat, fromLng, toLat, toLng float64) (time.Duration, error) {
	speed, detour := s.Speed, s.Detour
	if speed == 0 {
		speed = 30.0 / 3.6
	}
	if detour == 0 {
		detour = 1.3
	}
	if !(speed > 0) || !(detour > 0) || math.IsInf(speed, 0) || math.IsInf(detour, 0) {
		return 0, &InputError{Op: "eta", Field: "speed", Value: speed, Reason: "speed and detour must be positive and finite"}
	}
	if err := CheckPoint("eta", fromLat, fromLng); err != nil {
		return 0, err
	}
	if err := CheckPoint("eta", toLat, toLng); err != nil {
		return 0, err
	}
	m := Distance(fromLat, fromLng, toLat, toLng) * detour
	return time.Duration(m / speed * float64(time.Second)), nil
}

// Offer is a trip offered to one driver during a broadcast.
type Offer struct {
	Trip    string
	Rider   string
	Driver  string
	Lat     float64 // pickup
	Lng     float64
	ETA     time.Duration // driver to pickup
	Meters  float64       // driver to pickup, straight line
	Round   int           // 1 for the first broadcast
	Expires time.Time     // Accept after this fails with ErrNoOffer
}

// Offerer delivers an offer to a driver's app (a websocket push, say). It
// must not block for long; the driver answers later through
// [Dispatcher.Accept].
type Offerer interface {
	Offer(ctx context.Context, o Offer) error
}

// OfferFunc adapts a function to [Offerer].
type OfferFunc func(ctx context.Context, o Offer) error

// Offer calls f.
func (f OfferFunc) Offer(ctx context.Context, o Offer) error { return f(ctx, o) }

// Request asks for a driver.
type Request struct {
	Trip    string // unique trip id; a trip is assigned at most once
	Rider   string
	Lat     float64 // pickup
	Lng     float64
	Premium bool // premium riders get the best driver directly
}

// Assignment is a trip with its driver.
type Assignment struct {
	Trip   string
	Rider  string
	Driver string
	ETA    time.Duration
	Meters float64
	Round  int     // broadcast round that won, 0 for a premium assignment
	Fraud  Verdict // zero unless DispatchOptions.Fraud is set
}

// DispatchOptions configures a [Dispatcher]. Zero fields take the documented
// defaults; a nil *DispatchOptions means all defaults.
type DispatchOptions struct {
	// Radius is the search radius around the pickup in meters. Zero means
	// 3000.
	Radius float64
	// K is how many drivers one broadcast round reaches, and how many
	// candidates a premium request ranks. Zero means 10.
	K int
	// OfferTimeout is how long an offer stays open. Zero means 15 seconds.
	OfferTimeout time.Duration
	// Rounds is how many broadcast rounds run, each to drivers not offered
	// before, before Assign gives up. Zero means 3.
	Rounds int
	// ClaimTTL is how long a trip or driver claim holds. Zero means 2 hours.
	ClaimTTL time.Duration
	// Rating returns a driver's rating (higher is better); it breaks ETA
	// ties for premium riders. Nil rates everyone equally.
	Rating func(driver string) float64
	// Available excludes drivers (off duty, wrong car type). Nil means all.
	Available func(driver string) bool
	// Fraud, if set, receives the rider and driver positions at every
	// assignment.
	Fraud *Fraud
	// Now is the clock. Nil means time.Now.
	Now func() time.Time
}

// Dispatcher assigns drivers to trips. Premium riders get the best driver
// (lowest ETA, then highest rating) claimed directly. Other requests are
// broadcast to the K best drivers; the first to [Dispatcher.Accept] wins
// through an atomic claim in [Claims], and when nobody accepts before the
// offer timeout the next K drivers are offered, for up to Rounds rounds.
//
// Two claims guard every assignment: "trip:<id>" owned by the driver, so a
// trip has exactly one driver, and "driver:<id>" owned by the trip, so a
// driver has at most one trip. Offers live in the memory of the Dispatcher
// that made them: a driver's Accept must reach that Dispatcher (route by
// trip). A Dispatcher is safe for concurrent use.
type Dispatcher struct {
	g      *Grid
	claims Claims
	eta    ETA
	offer  Offerer
	o      DispatchOptions

	mu      sync.Mutex
	pending map[string]*pending
}

type pending struct {
	req    Request
	offers map[string]Offer
	done   chan Assignment
}

// NewDispatcher returns a Dispatcher. offerer may be nil when every request
// is premium. It returns an [*InputError] for negative options.
func NewDispatcher(g *Grid, claims Claims, eta ETA, offerer Offerer, opts *DispatchOptions) (*Dispatcher, error) {
	var o DispatchOptions
	if opts != nil {
		o = *opts
	}
	bad := func(f string, v float64) error {
		return &InputError{Op: "dispatcher", Field: f, Value: v, Reason: "negative"}
	}
	switch {
	case o.Radius < 0 || math.IsNaN(o.Radius):
		return nil, bad("Radius", o.Radius)
	case o.K < 0:
		return nil, bad("K", float64(o.K))
	case o.OfferTimeout < 0:
		return nil, bad("OfferTimeout", float64(o.OfferTimeout))
	case o.Rounds < 0:
		return nil, bad("Rounds", float64(o.Rounds))
	case o.ClaimTTL < 0:
		return nil, bad("ClaimTTL", float64(o.ClaimTTL))
	}
	if o.Radius == 0 {
		o.Radius = 3000
	}
	if o.K == 0 {
		o.K = 10
	}
	if o.OfferTimeout == 0 {
		o.OfferTimeout = 15 * time.Second
	}
	if o.Rounds == 0 {
		o.Rounds = 3
	}
	if o.ClaimTTL == 0 {
		o.ClaimTTL = 2 * time.Hour
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if eta == nil {
		eta = StraightLine{}
	}
	return &Dispatcher{g: g, claims: claims, eta: eta, offer: offerer, o: o, pending: map[string]*pending{}}, nil
}

type candidate struct {
	n      Neighbor
	eta    time.Duration
	rating float64
}

// candidates returns up to k ranked drivers near the pickup, skipping ids
// for which skip returns true.
func (d *Dispatcher) candidates(ctx context.Context, r Request, k int, skip func(string) bool) ([]candidate, error) {
	ns, err := d.g.Nearby(ctx, r.Lat, r.Lng, d.o.Radius, k, func(id string) bool {
		return (skip == nil || !skip(id)) && (d.o.Available == nil || d.o.Available(id))
	})
	if err != nil {
		return nil, err
	}
	cs := make([]candidate, 0, len(ns))
	for _, n := range ns {
		eta, err := d.eta.ETA(ctx, n.Lat, n.Lng, r.Lat, r.Lng)
		if err != nil {
			return nil, err
		}
		c := candidate{n: n, eta: eta}
		if d.o.Rating != nil {
			c.rating = d.o.Rating(n.ID)
		}
		cs = append(cs, c)
	}
	slices.SortStableFunc(cs, func(a, b candidate) int {
		switch {
		case a.eta != b.eta:
			return cmpDur(a.eta, b.eta)
		case a.rating != b.rating:
			if a.rating > b.rating {
				return -1
			}
			return 1
		}
		return 0 // Nearby order: distance, then id
	})
	return cs, nil
}

func cmpDur(a, b time.Duration) int {
	if a < b {
		return -1
	}
	return 1
}

func checkRequest(r Request) error {
	if r.Trip == "" {
		return &InputError{Op: "assign", Field: "trip", Reason: "empty"}
	}
	return CheckPoint("assign", r.Lat, r.Lng)
}

// claim takes the driver for the trip, then the trip for the driver, and
// undoes the first when the second is lost.
func (d *Dispatcher) claim(ctx context.Context, trip, driver string) error {
	now := d.o.Now()
	h, err := d.claims.Claim(ctx, "driver:"+driver, trip, now, d.o.ClaimTTL)
	if err != nil {
		return err
	}
	if h != trip {
		return ErrClaimed
	}
	h, err = d.claims.Claim(ctx, "trip:"+trip, driver, now, d.o.ClaimTTL)
	if err == nil && h == driver {
		return nil
	}
	if rerr := d.claims.Release(ctx, "driver:"+driver, trip, now); rerr != nil && !errors.Is(rerr, ErrNotFound) && err == nil {
		err = rerr
	}
	if err != nil {
		return err
	}
	return ErrClaimed
}

func (d *Dispatcher) assigned(r Request, c candidate, round int, located bool) Assignment {
	a := Assignment{Trip: r.Trip, Rider: r.Rider, Driver: c.n.ID, ETA: c.eta, Meters: c.n.Meters, Round: round}
	if d.o.Fraud != nil && located {
		a.Fraud, _ = d.o.Fraud.Report(r.Rider, c.n.ID, r.Lat, r.Lng, c.n.Lat, c.n.Lng)
	}
	return a
}

// Assign finds a driver for r. A premium request claims the best available
// driver at once. Any other request is broadcast and Assign waits until a
// driver accepts, every round times out, or ctx ends. It returns an error
// matching [ErrNoDriver] when nobody could be assigned (the trip is then
// closed: retry with a new trip id) and [ErrClaimed] when the trip is
// already assigned or being dispatched.
func (d *Dispatcher) Assign(ctx context.Context, r Request) (Assignment, error) {
	if err := checkRequest(r); err != nil {
		return Assignment{}, err
	}
	if r.Premium {
		return d.assignPremium(ctx, r)
	}
	return d.broadcast(ctx, r)
}

func (d *Dispatcher) assignPremium(ctx context.Context, r Request) (Assignment, error) {
	if _, err := d.claims.Holder(ctx, "trip:"+r.Trip, d.o.Now()); err == nil {
		return Assignment{}, ErrClaimed
	} else if !errors.Is(err, ErrNotFound) {
		return Assignment{}, err
	}
	cs, err := d.candidates(ctx, r, d.o.K, nil)
	if err != nil {
		return Assignment{}, err
	}
	for _, c := range cs {
		err := d.claim(ctx, r.Trip, c.n.ID)
		if err == nil {
			return d.assigned(r, c, 0, true), nil
		}
		if !errors.Is(err, ErrClaimed) {
			return Assignment{}, err
		}
		if h, herr := d.claims.Holder(ctx, "trip:"+r.Trip, d.o.Now()); herr == nil && h != c.n.ID {
			return Assignment{}, ErrClaimed // the trip itself is taken
		}
		// the driver was busy: try the next best
	}
	return Assignment{}, ErrNoDriver
}

// closedTrip owns the trip claim of a trip that found no driver, so that a
// late Accept cannot win it.
const closedTrip = "\x00closed"

func (d *Dispatcher) broadcast(ctx context.Context, r Request) (Assignment, error) {
	if d.offer == nil {
		return Assignment{}, &InputError{Op: "assign", Field: "offerer", Reason: "nil Offerer for a broadcast"}
	}
	p := &pending{req: r, offers: map[string]Offer{}, done: make(chan Assignment, 1)}
	d.mu.Lock()
	if _, busy := d.pending[r.Trip]; busy {
		d.mu.Unlock()
		return Assignment{}, ErrClaimed
	}
	d.pending[r.Trip] = p
	d.mu.Unlock()
	defer func() {
		d.mu.Lock()
		delete(d.pending, r.Trip)
		d.mu.Unlock()
	}()
	offered := map[string]bool{}
	for round := 1; round <= d.o.Rounds; round++ {
		cs, err := d.candidates(ctx, r, d.o.K, func(id string) bool { return offered[id] })
		if err != nil {
			return Assignment{}, err
		}
		if len(cs) == 0 && len(offered) == 0 {
			break // nobody near at all
		}
		expires := d.o.Now().Add(d.o.OfferTimeout)
		for _, c := range cs {
			o := Offer{Trip: r.Trip, Rider: r.Rider, Driver: c.n.ID, Lat: r.Lat, Lng: r.Lng,
				ETA: c.eta, Meters: c.n.Meters, Round: round, Expires: expires}
			offered[c.n.ID] = true
			d.mu.Lock()
			p.offers[c.n.ID] = o
			d.mu.Unlock()
			if err := d.offer.Offer(ctx, o); err != nil {
				d.mu.Lock()
				delete(p.offers, c.n.ID) // unreachable driver
				d.mu.Unlock()
			}
		}
		t := time.NewTimer(d.o.OfferTimeout)
		select {
		case a := <-p.done:
			t.Stop()
			return a, nil
		case <-ctx.Done():
			t.Stop()
			return d.close(r, p, ctx.Err())
		case <-t.C:
		}
	}
	return d.close(r, p, ErrNoDriver)
}

// close ends a broadcast that found nobody: it closes the trip claim unless
// a driver won it meanwhile, in which case that driver's assignment stands.
func (d *Dispatcher) close(r Request, p *pending, cause error) (Assignment, error) {
	d.mu.Lock()
	delete(d.pending, r.Trip) // no new accepts
	d.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	h, err := d.claims.Claim(ctx, "trip:"+r.Trip, closedTrip, d.o.Now(), d.o.ClaimTTL)
	if err != nil {
		return Assignment{}, errors.Join(cause, err)
	}
	if h != closedTrip {
		select {
		case a := <-p.done:
			return a, nil
		default:
		}
		return Assignment{Trip: r.Trip, Rider: r.Rider, Driver: h}, nil
	}
	return Assignment{}, cause
}

// Accept is a driver's answer to an offer. Exactly one driver wins a trip:
// the winner gets the assignment, the others an error matching
// [ErrClaimed]. A driver without an open offer (never offered, expired,
// trip settled) gets [ErrNoOffer].
func (d *Dispatcher) Accept(ctx context.Context, trip, driver string) (Assignment, error) {
	d.mu.Lock()
	p := d.pending[trip]
	var o Offer
	ok := false
	if p != nil {
		o, ok = p.offers[driver]
	}
	d.mu.Unlock()
	if !ok || !d.o.Now().Before(o.Expires) {
		return Assignment{}, ErrNoOffer
	}
	if err := d.claim(ctx, trip, driver); err != nil {
		return Assignment{}, err
	}
	c := candidate{n: Neighbor{ID: driver, Meters: o.Meters}, eta: o.ETA}
	n, err := d.g.Get(ctx, driver) // where the driver is as it accepts
	if err == nil {
		c.n.Lat, c.n.Lng = n.Lat, n.Lng
	}
	a := d.assigned(p.req, c, o.Round, err == nil)
	p.done <- a // buffered; exactly one claim wins
	return a, nil
}

// Release frees a trip and its driver (the trip ended or was cancelled).
func (d *Dispatcher) Release(ctx context.Context, trip, driver string) error {
	now := d.o.Now()
	if err := d.claims.Release(ctx, "trip:"+trip, driver, now); err != nil {
		return err
	}
	return d.claims.Release(ctx, "driver:"+driver, trip, now)
}
