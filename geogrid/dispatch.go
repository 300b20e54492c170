package geogrid

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"sync"
	"sync/atomic"
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
	Trip   string
	Rider  string
	Driver string
	Lat    float64 // pickup
	Lng    float64
	ETA    time.Duration // driver to pickup
	Meters float64       // driver to pickup, straight line
	Round  int           // 1 for the first broadcast
	// Expires ends the offer: an Accept after it fails with ErrNoOffer
	// while the trip is unsettled (once it is settled, the driver learns
	// the outcome: see [Dispatcher.Accept]).
	Expires time.Time
}

// Offerer delivers an offer to a driver's app (a websocket push, say). It
// must not block for long; the driver answers later through
// [Dispatcher.Accept].
//
// Offer is called from [Dispatcher.Assign] with Assign's ctx: it carries
// the values the caller of Assign put in it, and it is cancelled when that
// caller gives up, so a slow delivery should return when ctx ends. An error
// from Offer drops the offer (the driver cannot accept it); the broadcast
// goes on with the other drivers.
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
	// Remember is how long a Dispatcher keeps the outcome of a broadcast
	// after it settles (a driver won, or the trip closed with nobody), so
	// that accepts arriving late learn what happened (see
	// [Dispatcher.Accept]); afterwards they get ErrNoOffer. Every offer
	// open at settlement expires within OfferTimeout. A remembered trip
	// costs about 250 bytes plus 16 per driver offered, and is dropped by
	// the first Assign or Accept after its time. Zero means OfferTimeout.
	Remember time.Duration
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
// Two claims guard every assignment: a trip claim owned by the driver, so a
// trip has exactly one driver, and a driver claim owned by the trip, so a
// driver has at most one trip; [Dispatcher.Holder] reads the trip claim.
// Offers, and the outcomes of settled broadcasts (for
// DispatchOptions.Remember), live in the memory of the Dispatcher that made
// them: a driver's Accept must reach that Dispatcher (route by trip). A
// Dispatcher is safe for concurrent use.
type Dispatcher struct {
	g      *Grid
	claims Claims
	eta    ETA
	offer  Offerer
	o      DispatchOptions

	mu      sync.Mutex
	pending map[string]*pending
	settled map[string]*outcome
	fifo    []*outcome // settled outcomes, oldest first
	c       dispatchCounters
}

type dispatchCounters struct {
	requests, premium, assigned, noDriver, canceled, rounds, timeouts  atomic.Uint64
	offers, offerErrors, accepts, won, repeated, lost, closed, noOffer atomic.Uint64
}

// pending is a broadcast in progress. Its fields change under d.mu.
type pending struct {
	req     Request
	offers  map[string]Offer
	winner  string        // the first driver whose claims succeeded
	won     chan struct{} // closed once a is set (by the winner's Accept)
	a       Assignment    // the winner's assignment
	closing bool          // Assign is closing the trip
	final   chan struct{} // closed once out is set
	out     *outcome
}

// outcome is a settled broadcast, remembered until until.
type outcome struct {
	trip     string
	driver   string     // the winner; "" when the trip closed with nobody
	a        Assignment // the winner's assignment
	offered  []string   // the drivers offered the trip, sorted
	until    time.Time
	released bool // the winner released the trip
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
	case o.Remember < 0:
		return nil, bad("Remember", float64(o.Remember))
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
	if o.Remember == 0 {
		o.Remember = o.OfferTimeout
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if eta == nil {
		eta = StraightLine{}
	}
	return &Dispatcher{g: g, claims: claims, eta: eta, offer: offerer, o: o,
		pending: map[string]*pending{}, settled: map[string]*outcome{}}, nil
}

// Options returns the options the Dispatcher runs with: the ones given to
// [NewDispatcher] with every zero field replaced by its default.
func (d *Dispatcher) Options() DispatchOptions { return d.o }

// Stats returns a snapshot of the Dispatcher's counters.
func (d *Dispatcher) Stats() DispatchStats {
	c := &d.c
	st := DispatchStats{
		Requests: c.requests.Load(), Premium: c.premium.Load(), Assigned: c.assigned.Load(),
		NoDriver: c.noDriver.Load(), Canceled: c.canceled.Load(), Rounds: c.rounds.Load(),
		Timeouts: c.timeouts.Load(), Offers: c.offers.Load(), OfferErrors: c.offerErrors.Load(),
		Accepts: c.accepts.Load(), Won: c.won.Load(), Repeated: c.repeated.Load(), Lost: c.lost.Load(),
		Closed: c.closed.Load(), NoOffer: c.noOffer.Load(),
	}
	d.mu.Lock()
	st.Pending, st.Remembered = len(d.pending), len(d.settled)
	d.mu.Unlock()
	return st
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

// Claim keys: the trip claim is owned by the driver, the driver claim by
// the trip.
func tripKey(trip string) string     { return "trip:" + trip }
func driverKey(driver string) string { return "driver:" + driver }

// claim takes the driver for the trip, then the trip for the driver, and
// undoes the first when the second is lost. Claiming again what one holds
// succeeds.
func (d *Dispatcher) claim(ctx context.Context, trip, driver string) error {
	now := d.o.Now()
	h, err := d.claims.Claim(ctx, driverKey(driver), trip, now, d.o.ClaimTTL)
	if err != nil {
		return err
	}
	if h != trip {
		return fmt.Errorf("geogrid: driver %s is busy: %w", driver, ErrClaimed)
	}
	h, err = d.claims.Claim(ctx, tripKey(trip), driver, now, d.o.ClaimTTL)
	if err == nil && h == driver {
		return nil
	}
	if rerr := d.claims.Release(ctx, driverKey(driver), trip, now); rerr != nil && !errors.Is(rerr, ErrNotFound) && err == nil {
		err = rerr
	}
	if err != nil {
		return err
	}
	return fmt.Errorf("geogrid: trip %s is taken: %w", trip, ErrClaimed)
}

// unclaim releases both claims of an assignment that did not stand.
func (d *Dispatcher) unclaim(ctx context.Context, trip, driver string) {
	now := d.o.Now()
	_ = d.claims.Release(ctx, tripKey(trip), driver, now)
	_ = d.claims.Release(ctx, driverKey(driver), trip, now)
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
// driver accepts, every round times out, or ctx ends; rounds stop early
// when no driver is left to offer. It returns an error matching
// [ErrNoDriver] when nobody could be assigned (the trip is then closed:
// retry with a new trip id) and [ErrClaimed] when the trip is already
// assigned, closed or being dispatched. When ctx ends during a broadcast
// the trip is closed too and Assign returns ctx's error, unless a driver
// won meanwhile: then Assign returns that driver's assignment.
//
// The outcome of a broadcast is remembered for DispatchOptions.Remember
// after it settles, to answer late accepts (see [Dispatcher.Accept]).
func (d *Dispatcher) Assign(ctx context.Context, r Request) (Assignment, error) {
	if err := checkRequest(r); err != nil {
		return Assignment{}, err
	}
	d.c.requests.Add(1)
	var a Assignment
	var err error
	if r.Premium {
		d.c.premium.Add(1)
		a, err = d.assignPremium(ctx, r)
	} else {
		a, err = d.broadcast(ctx, r)
	}
	switch {
	case err == nil:
		d.c.assigned.Add(1)
	case errors.Is(err, ErrNoDriver):
		d.c.noDriver.Add(1)
	}
	return a, err
}

// taken returns ErrClaimed if the trip claim is held.
func (d *Dispatcher) taken(ctx context.Context, trip string) error {
	_, err := d.claims.Holder(ctx, tripKey(trip), d.o.Now())
	switch {
	case err == nil:
		return fmt.Errorf("geogrid: assign %s: %w", trip, ErrClaimed)
	case errors.Is(err, ErrNotFound):
		return nil
	}
	return err
}

func (d *Dispatcher) assignPremium(ctx context.Context, r Request) (Assignment, error) {
	if err := d.taken(ctx, r.Trip); err != nil {
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
		if h, herr := d.claims.Holder(ctx, tripKey(r.Trip), d.o.Now()); herr == nil && h != c.n.ID {
			return Assignment{}, fmt.Errorf("geogrid: assign %s: %w", r.Trip, ErrClaimed) // the trip itself is taken
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
	p := &pending{req: r, offers: map[string]Offer{}, won: make(chan struct{}), final: make(chan struct{})}
	now := d.o.Now()
	d.mu.Lock()
	d.sweep(now)
	_, busy := d.pending[r.Trip]
	_, settled := d.settled[r.Trip]
	if busy || settled {
		d.mu.Unlock()
		return Assignment{}, fmt.Errorf("geogrid: assign %s: %w", r.Trip, ErrClaimed)
	}
	d.pending[r.Trip] = p
	d.mu.Unlock()
	if err := d.taken(ctx, r.Trip); err != nil {
		d.drop(p) // nothing was offered
		return Assignment{}, err
	}
	offered := map[string]bool{}
	for round := 1; round <= d.o.Rounds; round++ {
		cs, err := d.candidates(ctx, r, d.o.K, func(id string) bool { return offered[id] })
		if err != nil {
			if len(offered) == 0 {
				d.drop(p)
				return Assignment{}, err
			}
			return d.close(ctx, p, err)
		}
		if len(cs) == 0 {
			break // nobody near, or nobody left: every earlier offer has expired
		}
		d.c.rounds.Add(1)
		expires := d.o.Now().Add(d.o.OfferTimeout)
		for _, c := range cs {
			o := Offer{Trip: r.Trip, Rider: r.Rider, Driver: c.n.ID, Lat: r.Lat, Lng: r.Lng,
				ETA: c.eta, Meters: c.n.Meters, Round: round, Expires: expires}
			offered[c.n.ID] = true
			d.mu.Lock()
			p.offers[c.n.ID] = o
			d.mu.Unlock()
			if err := d.offer.Offer(ctx, o); err != nil {
				d.c.offerErrors.Add(1)
				d.mu.Lock()
				delete(p.offers, c.n.ID) // unreachable driver
				d.mu.Unlock()
			} else {
				d.c.offers.Add(1)
			}
		}
		t := time.NewTimer(d.o.OfferTimeout)
		select {
		case <-p.won:
			t.Stop()
			return d.finish(p)
		case <-ctx.Done():
			t.Stop()
			d.c.canceled.Add(1)
			return d.close(ctx, p, ctx.Err())
		case <-t.C:
			d.c.timeouts.Add(1)
		}
	}
	return d.close(ctx, p, ErrNoDriver)
}

// drop forgets a broadcast that made no offer.
func (d *Dispatcher) drop(p *pending) {
	d.mu.Lock()
	if d.pending[p.req.Trip] == p {
		delete(d.pending, p.req.Trip)
	}
	d.mu.Unlock()
}

// finish settles a broadcast that a driver won. p.won is closed.
func (d *Dispatcher) finish(p *pending) (Assignment, error) {
	d.mu.Lock()
	d.settle(p, p.winner, p.a)
	d.mu.Unlock()
	return p.a, nil
}

// settle records the outcome of p and ends it. The caller holds d.mu.
func (d *Dispatcher) settle(p *pending, driver string, a Assignment) {
	now := d.o.Now()
	trip := p.req.Trip
	if d.pending[trip] == p {
		delete(d.pending, trip)
	}
	out := &outcome{trip: trip, driver: driver, a: a, offered: make([]string, 0, len(p.offers)), until: now.Add(d.o.Remember)}
	for id := range p.offers {
		out.offered = append(out.offered, id)
	}
	slices.Sort(out.offered)
	d.settled[trip] = out
	d.fifo = append(d.fifo, out)
	p.out = out
	close(p.final)
	d.sweep(now)
}

// sweep forgets the outcomes remembered until now or earlier. The caller
// holds d.mu.
func (d *Dispatcher) sweep(now time.Time) {
	for len(d.fifo) > 0 && !now.Before(d.fifo[0].until) {
		out := d.fifo[0]
		d.fifo[0] = nil
		d.fifo = d.fifo[1:]
		if d.settled[out.trip] == out {
			delete(d.settled, out.trip)
		}
	}
	if len(d.fifo) == 0 {
		d.fifo = nil
	}
}

// closeWait bounds how long closing a trip may take: the claim that closes
// it, and the wait for a driver that won the trip meanwhile to finish its
// Accept.
const closeWait = 10 * time.Second

// close ends a broadcast that found nobody: it closes the trip claim unless
// a driver won it meanwhile, in which case that driver's assignment stands.
func (d *Dispatcher) close(parent context.Context, p *pending, cause error) (Assignment, error) {
	r := p.req
	d.mu.Lock()
	p.closing = true // accepts from now on wait for the outcome
	d.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.WithoutCancel(parent), closeWait)
	defer cancel()
	h, err := d.claims.Claim(ctx, tripKey(r.Trip), closedTrip, d.o.Now(), d.o.ClaimTTL)
	d.mu.Lock()
	switch {
	case err == nil && h == closedTrip:
		// Nobody can win the trip any more; an Accept whose claims
		// succeeded before (p.winner set) cannot exist, since it holds
		// the trip claim.
		d.settle(p, "", Assignment{})
		d.mu.Unlock()
		return Assignment{}, cause
	case err != nil && p.winner == "":
		// The store failed: settle as closed. An Accept whose claims
		// succeed later finds the outcome and undoes them.
		d.settle(p, "", Assignment{})
		d.mu.Unlock()
		return Assignment{}, errors.Join(cause, err)
	}
	_, offered := p.offers[h]
	inFlight := p.winner != "" || offered
	d.mu.Unlock()
	if inFlight {
		// A driver won: its Accept is finishing the assignment.
		select {
		case <-p.won:
			return d.finish(p)
		case <-ctx.Done():
		}
	}
	// The trip was taken elsewhere (another Dispatcher), or the winner's
	// Accept did not finish in time: settle with what is known. A winner
	// that finishes later completes the remembered assignment.
	d.mu.Lock()
	if p.winner != "" {
		h = p.winner
	}
	a := Assignment{Trip: r.Trip, Rider: r.Rider, Driver: h}
	d.settle(p, h, a)
	d.mu.Unlock()
	return a, nil
}

// Accept is a driver's answer to an offer. Exactly one driver wins a trip:
// the winner gets the assignment, every other driver offered the trip an
// error matching [ErrClaimed]. Accepting again a trip one won returns the
// same assignment, concurrently or later, for as long as the outcome is
// remembered (DispatchOptions.Remember) and the trip is not released.
//
// While a broadcast is in progress, a driver without an open offer (never
// offered, or its offer expired) gets [ErrNoOffer]. Once it has settled
// and for DispatchOptions.Remember afterwards, a driver who was offered the
// trip gets [ErrClaimed] if another driver won it, or an error matching
// both [ErrTripClosed] and ErrNoOffer if it closed with nobody; a driver
// who was never offered it gets ErrNoOffer. After that, every accept gets
// ErrNoOffer. Accepts for premium trips (never offered) get ErrNoOffer.
func (d *Dispatcher) Accept(ctx context.Context, trip, driver string) (Assignment, error) {
	d.c.accepts.Add(1)
	now := d.o.Now()
	d.mu.Lock()
	d.sweep(now)
	p := d.pending[trip]
	if p == nil {
		out := d.settled[trip]
		d.mu.Unlock()
		return d.answer(out, trip, driver)
	}
	o, offered := p.offers[driver]
	winner, closing := p.winner, p.closing
	d.mu.Unlock()
	switch {
	case winner == driver:
		return d.repeat(ctx, p)
	case winner != "" && offered:
		d.c.lost.Add(1)
		return Assignment{}, fmt.Errorf("geogrid: accept %s by %s: %w", trip, driver, ErrClaimed)
	case closing && offered:
		return d.await(ctx, p, driver)
	case !offered || !now.Before(o.Expires):
		d.c.noOffer.Add(1)
		return Assignment{}, fmt.Errorf("geogrid: accept %s by %s: %w", trip, driver, ErrNoOffer)
	}
	if err := d.claim(ctx, trip, driver); err != nil {
		if !errors.Is(err, ErrClaimed) {
			return Assignment{}, err
		}
		d.mu.Lock()
		closing = p.closing
		d.mu.Unlock()
		if closing { // perhaps lost to the close: report the outcome
			return d.await(ctx, p, driver)
		}
		d.c.lost.Add(1)
		return Assignment{}, fmt.Errorf("geogrid: accept %s by %s: %w", trip, driver, err)
	}
	d.mu.Lock()
	switch {
	case p.out != nil && p.out.driver != driver:
		// Settled as closed after a store error: this claim must not stand.
		out := p.out
		d.mu.Unlock()
		uctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), closeWait)
		d.unclaim(uctx, trip, driver)
		cancel()
		return d.answer(out, trip, driver)
	case p.out != nil:
		// Settled with this driver by a close that could not wait longer.
		out := p.out
		d.mu.Unlock()
		return d.answer(out, trip, driver)
	case p.winner == driver:
		// This driver's concurrent Accept won first (claiming again what
		// one holds succeeds).
		d.mu.Unlock()
		return d.repeat(ctx, p)
	case p.winner != "":
		d.mu.Unlock()
		d.c.lost.Add(1) // not reachable while Claims keeps its contract
		return Assignment{}, fmt.Errorf("geogrid: accept %s by %s: %w", trip, driver, ErrClaimed)
	}
	p.winner = driver
	d.mu.Unlock()
	c := candidate{n: Neighbor{ID: driver, Meters: o.Meters}, eta: o.ETA}
	n, err := d.g.Get(ctx, driver) // where the driver is as it accepts
	if err == nil {
		c.n.Lat, c.n.Lng = n.Lat, n.Lng
	}
	a := d.assigned(p.req, c, o.Round, err == nil)
	d.mu.Lock()
	p.a = a
	close(p.won) // closed once: only the Accept that set p.winner gets here
	if p.out != nil && p.out.driver == driver {
		p.out.a = a // settled by a close that could not wait longer
	}
	d.mu.Unlock()
	d.c.won.Add(1)
	return a, nil
}

// repeat answers a repeated accept by the winner of a broadcast in progress.
func (d *Dispatcher) repeat(ctx context.Context, p *pending) (Assignment, error) {
	select {
	case <-p.won:
		d.c.repeated.Add(1)
		return p.a, nil
	case <-ctx.Done():
		return Assignment{}, ctx.Err()
	}
}

// await answers an accept that arrived while the broadcast was closing.
func (d *Dispatcher) await(ctx context.Context, p *pending, driver string) (Assignment, error) {
	select {
	case <-p.final:
		return d.answer(p.out, p.req.Trip, driver)
	case <-ctx.Done():
		return Assignment{}, ctx.Err()
	}
}

// answer answers an accept for a settled trip from its outcome (nil when
// there is none).
func (d *Dispatcher) answer(out *outcome, trip, driver string) (Assignment, error) {
	switch {
	case out == nil:
	case out.driver == driver && !out.released:
		d.c.repeated.Add(1)
		return out.a, nil
	case out.driver == driver:
		// released: the trip is over
	case !slices.Contains(out.offered, driver):
	case out.driver == "":
		d.c.closed.Add(1)
		return Assignment{}, fmt.Errorf("geogrid: accept %s by %s: %w: %w", trip, driver, ErrTripClosed, ErrNoOffer)
	default:
		d.c.lost.Add(1)
		return Assignment{}, fmt.Errorf("geogrid: accept %s by %s: %w", trip, driver, ErrClaimed)
	}
	d.c.noOffer.Add(1)
	return Assignment{}, fmt.Errorf("geogrid: accept %s by %s: %w", trip, driver, ErrNoOffer)
}

// Holder returns the driver who holds trip. It returns an error matching
// [ErrTripClosed] if the trip was closed with nobody (its broadcast found
// no driver) and one matching [ErrNotFound] if nobody holds it: never
// assigned, released, or its claim expired (DispatchOptions.ClaimTTL).
func (d *Dispatcher) Holder(ctx context.Context, trip string) (string, error) {
	if trip == "" {
		return "", &InputError{Op: "holder", Field: "trip", Reason: "empty"}
	}
	h, err := d.claims.Holder(ctx, tripKey(trip), d.o.Now())
	if err != nil {
		return "", err
	}
	if h == closedTrip {
		return "", fmt.Errorf("geogrid: holder of %s: %w", trip, ErrTripClosed)
	}
	return h, nil
}

// Release frees a trip and its driver (the trip ended or was cancelled).
// It returns an error matching [ErrNotFound] if driver does not hold trip.
// Accepting the trip again then gets [ErrNoOffer], even by its driver.
func (d *Dispatcher) Release(ctx context.Context, trip, driver string) error {
	now := d.o.Now()
	if err := d.claims.Release(ctx, tripKey(trip), driver, now); err != nil {
		return err
	}
	d.mu.Lock()
	if out := d.settled[trip]; out != nil && out.driver == driver {
		out.released = true
	}
	d.mu.Unlock()
	return d.claims.Release(ctx, driverKey(driver), trip, now)
}
