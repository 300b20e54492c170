package rides

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/sysblocks/sysblocks/archive"
	"github.com/sysblocks/sysblocks/events"
	"github.com/sysblocks/sysblocks/geogrid"
)

// Cab is a driver near a point.
type Cab struct {
	Driver string
	Lat    float64
	Lng    float64
	Meters float64       // straight line to the point
	ETA    time.Duration // driving time to the point
	Seen   time.Time     // time of the driver's last ping
}

// Quote is an estimate for a trip.
type Quote struct {
	Cabs      int            // available drivers within the dispatch radius
	PickupETA *time.Duration // of the nearest available driver; nil if none
	Meters    float64        // pickup to drop, straight line
	Duration  time.Duration  // pickup to drop, driving
	Supply    int            // drivers seen in the pickup cell (current or previous window)
	Demand    int            // requests in the pickup cell (current and previous window)
	Surge     float64
	Fare      float64
	Currency  string
}

// Booking is a rider's request for a trip.
type Booking struct {
	Rider     string
	PickupLat float64
	PickupLng float64
	DropLat   float64
	DropLng   float64
	Premium   bool
}

func inputErr(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrInvalidInput}, args...)...)
}

// errUnchanged, returned by a transition's change function, means the trip
// is already as wanted: nothing is written.
var errUnchanged = errors.New("unchanged")

// transition applies change to the stored trip id and writes it back with a
// compare-and-set on its version, retrying on conflict.
func (s *Service) transition(ctx context.Context, id string, change func(*Trip) error) (Trip, error) {
	for attempt := 0; ; attempt++ {
		t, err := s.trips.Get(ctx, id)
		if err != nil {
			return Trip{}, err
		}
		if err := change(&t); errors.Is(err, errUnchanged) {
			return t, nil
		} else if err != nil {
			return t, err
		}
		t.Updated = s.now()
		nt, err := s.trips.Update(ctx, t)
		if errors.Is(err, ErrConflict) && attempt < 50 {
			continue
		}
		return nt, err
	}
}

// available reports whether driver may be offered a trip: connected to
// this process and not on a trip.
func (s *Service) available(driver string) bool {
	if !s.hub.online(driver) {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	_, busy := s.busy[driver]
	return !busy
}

func (s *Service) setBusy(driver, trip string) {
	s.mu.Lock()
	s.busy[driver] = trip
	s.mu.Unlock()
}

func (s *Service) clearBusy(driver, trip string) {
	s.mu.Lock()
	if s.busy[driver] == trip {
		delete(s.busy, driver)
	}
	s.mu.Unlock()
}

// Ping records a driver's position: on the grid at once (and in the
// market's supply), and as an event for the location history.
func (s *Service) Ping(ctx context.Context, driver string, lat, lng float64) error {
	if !validID(driver) {
		return inputErr("driver id %q", driver)
	}
	at := s.clock()
	if err := s.grid.Update(ctx, driver, lat, lng, at); err != nil {
		if errors.Is(err, geogrid.ErrInvalidInput) {
			s.c.pingsInvalid.Add(1)
		}
		return err
	}
	s.c.pings.Add(1)
	v, _ := json.Marshal(pingEvent{Driver: driver, Lat: lat, Lng: lng, At: at.UnixMilli()})
	_ = s.batch.Publish(events.Message{Topic: s.locTopic, Key: []byte(driver), Value: v, Time: at}) // lossy: counted in rides_events
	return nil
}

// pingEvent is the value of a location event.
type pingEvent struct {
	Driver string  `json:"driver"`
	Lat    float64 `json:"lat"`
	Lng    float64 `json:"lng"`
	At     int64   `json:"at"` // Unix milliseconds
}

// writeLocation is the location-history writer: one event, one row.
// Undecodable events are counted and skipped, so one bad record cannot stall
// its partition.
func (s *Service) writeLocation(ctx context.Context, m *events.Message) error {
	var e pingEvent
	if err := json.Unmarshal(m.Value, &e); err != nil || !validID(e.Driver) || geogrid.CheckPoint("ping", e.Lat, e.Lng) != nil {
		s.c.locationEventsBad.Add(1)
		s.log.Warn("bad location event", "topic", m.Topic, "partition", m.Partition, "offset", m.Offset)
		return nil
	}
	if err := s.locations.Append(ctx, Ping{Driver: e.Driver, Lat: e.Lat, Lng: e.Lng, At: time.UnixMilli(e.At).UTC()}); err != nil {
		return err
	}
	s.c.locationsWritten.Add(1)
	return nil
}

// DriverLocations returns the pings of driver on the UTC day of day, the
// latest first.
func (s *Service) DriverLocations(ctx context.Context, driver string, day time.Time, limit int) ([]Ping, error) {
	if !validID(driver) {
		return nil, inputErr("driver id %q", driver)
	}
	return s.locations.List(ctx, driver, day, limit)
}

func checkRadius(radius float64, k int) error {
	if !(radius > 0 && radius <= MaxRadius) {
		return inputErr("radius %v: want more than 0 and at most %v meters", radius, MaxRadius)
	}
	if k < 1 || k > MaxK {
		return inputErr("k %d: want 1 to %d", k, MaxK)
	}
	return nil
}

// Cabs returns up to k available drivers within radius meters of the
// point, nearest first, with their driving time to it.
func (s *Service) Cabs(ctx context.Context, lat, lng, radius float64, k int) ([]Cab, error) {
	if err := geogrid.CheckPoint("cabs", lat, lng); err != nil {
		return nil, err
	}
	if err := checkRadius(radius, k); err != nil {
		return nil, err
	}
	ns, err := s.grid.Nearby(ctx, lat, lng, radius, k, s.available)
	if err != nil {
		return nil, err
	}
	cabs := make([]Cab, 0, len(ns))
	for _, n := range ns {
		eta, err := s.eta.ETA(ctx, n.Lat, n.Lng, lat, lng)
		if err != nil {
			return nil, err
		}
		cabs = append(cabs, Cab{Driver: n.ID, Lat: n.Lat, Lng: n.Lng, Meters: n.Meters, ETA: eta, Seen: n.At})
	}
	return cabs, nil
}

// Estimate quotes a trip: the pickup ETA of the nearest available driver,
// the trip's length and driving time, and the fare with the surge of the
// pickup cell.
func (s *Service) Estimate(ctx context.Context, pickupLat, pickupLng, dropLat, dropLng float64) (Quote, error) {
	if err := geogrid.CheckPoint("estimate pickup", pickupLat, pickupLng); err != nil {
		return Quote{}, err
	}
	if err := geogrid.CheckPoint("estimate drop", dropLat, dropLng); err != nil {
		return Quote{}, err
	}
	cabs, err := s.Cabs(ctx, pickupLat, pickupLng, s.quoteRadius, MaxK)
	if err != nil {
		return Quote{}, err
	}
	q := Quote{Cabs: len(cabs), Meters: geogrid.Distance(pickupLat, pickupLng, dropLat, dropLng), Currency: s.pricing.Currency}
	if len(cabs) > 0 {
		best := cabs[0].ETA
		for _, c := range cabs[1:] {
			best = min(best, c.ETA)
		}
		q.PickupETA = &best
	}
	if q.Duration, err = s.eta.ETA(ctx, pickupLat, pickupLng, dropLat, dropLng); err != nil {
		return Quote{}, err
	}
	now := s.clock()
	cur, err := s.market.Counts(pickupLat, pickupLng, now)
	if err != nil {
		return Quote{}, err
	}
	prev, err := s.market.Counts(pickupLat, pickupLng, now.Add(-s.window))
	if err != nil {
		return Quote{}, err
	}
	// Smooth over the window boundary: requests of both windows against
	// the larger driver count of the two.
	counts := geogrid.Counts{Cell: cur.Cell, Start: prev.Start, Supply: max(cur.Supply, prev.Supply), Demand: cur.Demand + prev.Demand}
	q.Supply, q.Demand = counts.Supply, counts.Demand
	q.Surge = s.pricing.Surge(counts)
	q.Fare = s.pricing.Fare(q.Meters, q.Duration, q.Surge)
	return q, nil
}

// Book creates a trip for the rider and starts finding a driver in the
// background. The trip is returned as requested; its state moves on as
// drivers are offered it and one accepts (see GET /v1/trips/{id}).
func (s *Service) Book(ctx context.Context, b Booking) (Trip, error) {
	if !validID(b.Rider) {
		return Trip{}, inputErr("rider id %q: want 1 to 64 letters, digits, '.', '_' or '-'", b.Rider)
	}
	q, err := s.Estimate(ctx, b.PickupLat, b.PickupLng, b.DropLat, b.DropLng)
	if err != nil {
		return Trip{}, err
	}
	now := s.now()
	t := Trip{
		ID: newTripID(), Rider: b.Rider, State: Requested, Premium: b.Premium,
		PickupLat: b.PickupLat, PickupLng: b.PickupLng, DropLat: b.DropLat, DropLng: b.DropLng,
		Surge: q.Surge, Fare: q.Fare, Created: now, Updated: now,
	}
	if !s.enter() {
		return Trip{}, ErrNotRunning
	}
	dctx, cancel := context.WithCancel(context.Background())
	s.mu.Lock()
	s.dispatches[t.ID] = cancel
	stopping := !s.running
	s.mu.Unlock()
	if stopping {
		cancel()
	}
	if err := s.trips.Create(ctx, t); err != nil {
		s.endDispatch(t.ID)
		s.wg.Done()
		if errors.Is(err, ErrRiderBusy) {
			s.c.bookingsRefused.Add(1)
		}
		return Trip{}, err
	}
	t.Version = 1
	s.c.bookings.Add(1)
	_ = s.market.Demand(t.PickupLat, t.PickupLng, s.clock())
	s.publishTrip(t)
	go func() {
		defer s.wg.Done()
		defer s.endDispatch(t.ID)
		s.dispatch(dctx, t)
	}()
	return t, nil
}

func (s *Service) endDispatch(trip string) {
	s.mu.Lock()
	cancel := s.dispatches[trip]
	delete(s.dispatches, trip)
	s.mu.Unlock()
	if cancel != nil {
		cancel()
	}
}

type dispatchKey struct{}

// dispatchState is the state of one dispatch, reached by the Offerer
// through the context Assign passes it. Only the dispatch's goroutine
// touches it.
type dispatchState struct{ offered bool }

// dispatch runs the geogrid Dispatcher for t and records the outcome.
func (s *Service) dispatch(ctx context.Context, t Trip) {
	a, err := s.disp.Assign(context.WithValue(ctx, dispatchKey{}, &dispatchState{}), geogrid.Request{
		Trip: t.ID, Rider: t.Rider, Lat: t.PickupLat, Lng: t.PickupLng, Premium: t.Premium,
	})
	fctx, cancel := detached(ctx)
	defer cancel()
	switch {
	case err == nil && t.Premium:
		tr, err := s.transition(fctx, t.ID, func(tr *Trip) error {
			if tr.State != Requested && tr.State != Offered {
				return ErrState
			}
			tr.State, tr.Driver, tr.PickupETA = Accepted, a.Driver, a.ETA
			return nil
		})
		if err != nil {
			s.release(fctx, t.ID, a.Driver)
			s.log.Info("premium assignment dropped", "trip", t.ID, "driver", a.Driver, "err", err)
			return
		}
		s.assigned(tr, a)
		s.send(a.Driver, frameOut{Type: "assigned", Trip: s.view(tr)})
	case err == nil:
		// Broadcast: the winning driver's Accept recorded it.
	case errors.Is(err, geogrid.ErrNoDriver):
		s.c.noDriver.Add(1)
		s.cancelDispatch(fctx, t.ID, ReasonNoDriver)
	case ctx.Err() != nil:
		s.cancelDispatch(fctx, t.ID, ReasonInterrupted) // a no-op when the rider cancelled
	default:
		s.log.Error("dispatch", "trip", t.ID, "err", err)
		s.cancelDispatch(fctx, t.ID, ReasonNoDriver)
	}
}

// cancelDispatch cancels a trip that is still looking for a driver.
func (s *Service) cancelDispatch(ctx context.Context, id, reason string) {
	changed := false
	t, err := s.transition(ctx, id, func(t *Trip) error {
		if t.State != Requested && t.State != Offered {
			return errUnchanged
		}
		t.State, t.Reason, t.Ended = Cancelled, reason, s.now()
		changed = true
		return nil
	})
	if err != nil {
		s.log.Error("cancel trip", "trip", id, "reason", reason, "err", err)
		return
	}
	if changed {
		s.ended(ctx, t)
	}
}

// detached returns a context for the work that must follow a committed
// transition (releasing claims, telling the driver, publishing the trip event)
// even when the request that caused it is gone.
func detached(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
}

// offer is the Dispatcher's Offerer: it marks the trip offered before the
// first offer leaves, then pushes the offer to the driver's websocket.
func (s *Service) offer(ctx context.Context, o geogrid.Offer) error {
	if ds, _ := ctx.Value(dispatchKey{}).(*dispatchState); ds != nil && !ds.offered {
		t, err := s.transition(ctx, o.Trip, func(t *Trip) error {
			switch t.State {
			case Offered:
				return errUnchanged
			case Requested:
				t.State = Offered
				return nil
			}
			return ErrState
		})
		if err != nil {
			s.c.offersFailed.Add(1)
			return err
		}
		ds.offered = true
		s.publishTrip(t)
	}
	if err := s.send(o.Driver, frameOut{Type: "offer", Offer: &offerView{
		Trip: o.Trip, Rider: o.Rider, Pickup: point{o.Lat, o.Lng}, ETASeconds: round1(o.ETA.Seconds()),
		Meters: round1(o.Meters), Round: o.Round, Expires: o.Expires.UTC(),
	}}); err != nil {
		s.c.offersFailed.Add(1)
		return err
	}
	s.c.offers.Add(1)
	return nil
}

// assigned does the bookkeeping of a trip that got its driver.
func (s *Service) assigned(t Trip, a geogrid.Assignment) {
	s.setBusy(t.Driver, t.ID)
	s.c.acceptsWon.Add(1)
	if a.Fraud.Flagged {
		s.c.fraudFlagged.Add(1)
		s.log.Warn("rider and driver flagged: same place at booking again and again", "rider", t.Rider, "driver", t.Driver, "reports", a.Fraud.Count)
	}
	s.publishTrip(t)
}

func (s *Service) release(ctx context.Context, trip, driver string) {
	if err := s.disp.Release(ctx, trip, driver); err != nil && !errors.Is(err, geogrid.ErrNotFound) {
		s.log.Error("release claims", "trip", trip, "driver", driver, "err", err)
	}
	s.clearBusy(driver, trip)
}

// Accept is a driver's answer to an offer. Exactly one driver wins a trip;
// the others get an error matching geogrid.ErrClaimed. A driver who was not
// offered the trip (or whose offer expired) gets geogrid.ErrNoOffer; a trip
// the rider cancelled meanwhile gives ErrState. Accepting again a trip one
// already won returns it unchanged.
func (s *Service) Accept(ctx context.Context, driver, trip string) (Trip, error) {
	if !validID(driver) || !validID(trip) {
		return Trip{}, inputErr("driver %q or trip %q", driver, trip)
	}
	unlock := s.locks.lock(driver) // one accept at a time per driver
	defer unlock()
	t, err := s.trips.Get(ctx, trip)
	if err != nil {
		return Trip{}, err
	}
	switch {
	case t.Driver == driver:
		return t, nil
	case t.Driver != "":
		s.c.acceptsLost.Add(1)
		return Trip{}, fmt.Errorf("rides: trip %s: %w", trip, geogrid.ErrClaimed)
	}
	a, err := s.disp.Accept(ctx, trip, driver)
	switch {
	case errors.Is(err, geogrid.ErrClaimed):
		s.c.acceptsLost.Add(1)
		return Trip{}, err
	case errors.Is(err, geogrid.ErrNoOffer):
		// The Dispatcher forgets a trip's offers once a driver won it, so
		// a driver who lost by a hair hears "no offer". Tell it "claimed"
		// when another driver holds the trip.
		if h, herr := s.claims.Holder(ctx, "trip:"+trip, s.clock()); herr == nil && h != driver && validID(h) {
			s.c.acceptsLost.Add(1)
			return Trip{}, fmt.Errorf("rides: trip %s: %w", trip, geogrid.ErrClaimed)
		}
		s.c.acceptsNoOffer.Add(1)
		return Trip{}, err
	case err != nil:
		return Trip{}, err
	}
	t, err = s.transition(ctx, trip, func(t *Trip) error {
		if t.State != Requested && t.State != Offered {
			return fmt.Errorf("rides: trip %s is %s: %w", t.ID, t.State, ErrState)
		}
		t.State, t.Driver, t.PickupETA = Accepted, driver, a.ETA
		return nil
	})
	if err != nil {
		rctx, cancel := detached(ctx)
		defer cancel()
		s.release(rctx, trip, driver)
		return Trip{}, err
	}
	s.assigned(t, a)
	return t, nil
}

// Start records that the driver picked the rider up.
func (s *Service) Start(ctx context.Context, driver, trip string) (Trip, error) {
	if !validID(driver) || !validID(trip) {
		return Trip{}, inputErr("driver %q or trip %q", driver, trip)
	}
	t, err := s.transition(ctx, trip, func(t *Trip) error {
		switch {
		case t.Driver != driver:
			return fmt.Errorf("rides: trip %s: %w", t.ID, ErrForbidden)
		case t.State == Started:
			return errUnchanged
		case t.State != Accepted:
			return fmt.Errorf("rides: start trip %s: it is %s: %w", t.ID, t.State, ErrState)
		}
		t.State = Started
		return nil
	})
	if err == nil && t.State == Started {
		s.c.started.Add(1)
		s.publishTrip(t)
	}
	return t, err
}

// Complete records that the driver dropped the rider off: the trip ends
// and the driver is free again.
func (s *Service) Complete(ctx context.Context, driver, trip string) (Trip, error) {
	if !validID(driver) || !validID(trip) {
		return Trip{}, inputErr("driver %q or trip %q", driver, trip)
	}
	changed := false
	t, err := s.transition(ctx, trip, func(t *Trip) error {
		switch {
		case t.Driver != driver:
			return fmt.Errorf("rides: trip %s: %w", t.ID, ErrForbidden)
		case t.State == Completed:
			return errUnchanged
		case t.State != Started:
			return fmt.Errorf("rides: complete trip %s: it is %s: %w", t.ID, t.State, ErrState)
		}
		t.State, t.Ended = Completed, s.now()
		changed = true
		return nil
	})
	if err != nil || !changed {
		return t, err
	}
	s.c.completed.Add(1)
	dctx, cancel := detached(ctx)
	defer cancel()
	s.release(dctx, t.ID, driver)
	s.ended(dctx, t)
	return t, nil
}

// Cancel is the rider's cancel: allowed until the trip starts. It stops the
// dispatch and frees the driver if one accepted (the driver is told).
// Cancelling a cancelled trip returns it unchanged.
func (s *Service) Cancel(ctx context.Context, rider, trip string) (Trip, error) {
	if !validID(rider) || !validID(trip) {
		return Trip{}, inputErr("rider %q or trip %q", rider, trip)
	}
	changed := false
	t, err := s.transition(ctx, trip, func(t *Trip) error {
		switch {
		case t.Rider != rider:
			return fmt.Errorf("rides: trip %s: %w", t.ID, ErrForbidden)
		case t.State == Cancelled:
			return errUnchanged
		case t.State == Started || t.State == Completed:
			return fmt.Errorf("rides: cancel trip %s: it is %s: %w", t.ID, t.State, ErrState)
		}
		t.State, t.Reason, t.Ended = Cancelled, ReasonRider, s.now()
		changed = true
		return nil
	})
	if err != nil || !changed {
		return t, err
	}
	ctx, cancel := detached(ctx)
	defer cancel()
	s.mu.Lock()
	stop := s.dispatches[trip]
	s.mu.Unlock()
	if stop != nil {
		stop()
	}
	if t.Driver != "" {
		s.release(ctx, t.ID, t.Driver)
		_ = s.send(t.Driver, frameOut{Type: "cancelled", Trip: s.view(t)})
	}
	s.ended(ctx, t)
	return t, nil
}

// ended does the bookkeeping of a trip that just ended. The trip stays in
// the current store, where the rider's history lists it, until the
// archiver moves it to the archive.
func (s *Service) ended(ctx context.Context, t Trip) {
	if t.State == Cancelled {
		s.c.cancelled.Add(1)
	}
	s.publishTrip(t)
}

// Trip returns a current trip: in progress, or ended within ArchiveAge.
func (s *Service) Trip(ctx context.Context, id string) (Trip, error) {
	if !validID(id) {
		return Trip{}, inputErr("trip id %q", id)
	}
	return s.trips.Get(ctx, id)
}

// MaxHistoryLimit is the largest page of RiderHistory.
const MaxHistoryLimit = archive.MaxLimit

// RiderHistory returns one page of the ended trips of rider, the latest
// end first (equal ends: the greater trip ID first): those still in the
// current store and those archived, merged by archive.Merge, each trip
// once even while the archiver is between copying it and deleting it.
// cursor is empty for the first page, or the next of the previous page;
// next is empty after the last page. A cursor this service did not return
// gives an error matching ErrInvalidInput.
func (s *Service) RiderHistory(ctx context.Context, rider, cursor string, limit int) (trips []Trip, next string, err error) {
	if !validID(rider) {
		return nil, "", inputErr("rider id %q", rider)
	}
	if limit < 1 || limit > MaxHistoryLimit {
		return nil, "", inputErr("limit %d: want 1 to %d", limit, MaxHistoryLimit)
	}
	after, err := DecodeCursor(cursor)
	if err != nil {
		return nil, "", err
	}
	recs, nc, err := archive.Merge(ctx, rider, after, limit, s.src, s.cold)
	if err != nil {
		return nil, "", err
	}
	trips = make([]Trip, len(recs))
	for i, r := range recs {
		if trips[i], err = DecodeTrip(r); err != nil {
			return nil, "", err
		}
	}
	return trips, EncodeCursor(nc), nil
}

// Archive runs one pass of the archiver and of the recovery of lost
// dispatches, as Run does every ArchiveInterval: ended trips older than
// ArchiveAge are copied to the archive and then deleted from the current
// store (archive.Archiver.RunOnce), and trips stuck looking for a driver
// longer than any dispatch can last (their process died) are cancelled as
// "dispatch_lost". It returns how many trips it archived.
func (s *Service) Archive(ctx context.Context) (int, error) {
	n, err := s.arch.RunOnce(ctx)
	return n, errors.Join(err, s.recoverLost(ctx))
}

// recoverLost cancels the trips left requested or offered by a process
// that died while dispatching them.
func (s *Service) recoverLost(ctx context.Context) error {
	stuck, err := s.trips.List(ctx, []State{Requested, Offered}, s.now().Add(-s.stuckAfter), 200)
	if err != nil {
		return err
	}
	for _, t := range stuck {
		s.mu.Lock()
		_, live := s.dispatches[t.ID]
		s.mu.Unlock()
		if !live {
			s.c.recovered.Add(1)
			s.cancelDispatch(ctx, t.ID, ReasonLost)
		}
	}
	return nil
}

// publishTrip sends a trip event for analytics (lossy, batched).
func (s *Service) publishTrip(t Trip) {
	v, _ := json.Marshal(s.view(t))
	_ = s.batch.Publish(events.Message{Topic: s.tripTopic, Key: []byte(t.ID), Value: v})
}
