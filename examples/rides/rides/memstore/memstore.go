// Package memstore is the in-memory adapter of rides: current trips and
// location history in process memory, for tests and for the example's
// memory mode (archived trips go to the archive block's memstore). Every
// type is safe for concurrent use and honours ctx cancellation.
package memstore

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/sysblocks/sysblocks/archive"
	"github.com/sysblocks/sysblocks/examples/rides/rides"
)

// Trips is an in-memory rides.TripStore.
type Trips struct {
	mu     sync.Mutex
	trips  map[string]rides.Trip
	active map[string]string // rider -> id of the trip that has not ended
}

// NewTrips returns an empty Trips.
func NewTrips() *Trips {
	return &Trips{trips: map[string]rides.Trip{}, active: map[string]string{}}
}

// Create implements rides.TripStore.
func (s *Trips) Create(ctx context.Context, t rides.Trip) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.trips[t.ID]; ok {
		return fmt.Errorf("memstore: create %s: %w", t.ID, rides.ErrExists)
	}
	if !t.State.Terminal() {
		if other, ok := s.active[t.Rider]; ok {
			return fmt.Errorf("memstore: create %s: rider %s has %s: %w", t.ID, t.Rider, other, rides.ErrRiderBusy)
		}
		s.active[t.Rider] = t.ID
	}
	t.Version = 1
	s.trips[t.ID] = t
	return nil
}

// Get implements rides.TripStore.
func (s *Trips) Get(ctx context.Context, id string) (rides.Trip, error) {
	if err := ctx.Err(); err != nil {
		return rides.Trip{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.trips[id]
	if !ok {
		return rides.Trip{}, fmt.Errorf("memstore: trip %s: %w", id, rides.ErrNotFound)
	}
	return t, nil
}

// Update implements rides.TripStore.
func (s *Trips) Update(ctx context.Context, t rides.Trip) (rides.Trip, error) {
	if err := ctx.Err(); err != nil {
		return rides.Trip{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	old, ok := s.trips[t.ID]
	if !ok {
		return rides.Trip{}, fmt.Errorf("memstore: update %s: %w", t.ID, rides.ErrNotFound)
	}
	if old.Version != t.Version {
		return rides.Trip{}, fmt.Errorf("memstore: update %s: version %d, stored %d: %w", t.ID, t.Version, old.Version, rides.ErrConflict)
	}
	t.Rider = old.Rider
	t.Version++
	if t.State.Terminal() && s.active[t.Rider] == t.ID {
		delete(s.active, t.Rider)
	}
	s.trips[t.ID] = t
	return t, nil
}

// List implements rides.TripStore.
func (s *Trips) List(ctx context.Context, states []rides.State, before time.Time, limit int) ([]rides.Trip, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	var out []rides.Trip
	for _, t := range s.trips {
		if slices.Contains(states, t.State) && t.Updated.Before(before) {
			out = append(out, t)
		}
	}
	s.mu.Unlock()
	slices.SortFunc(out, func(a, b rides.Trip) int {
		return cmp.Or(a.Updated.Compare(b.Updated), cmp.Compare(a.ID, b.ID))
	})
	if limit >= 0 && len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

// Ended implements rides.TripStore.
func (s *Trips) Ended(ctx context.Context, rider string, after archive.Cursor, limit int) ([]rides.Trip, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	var out []rides.Trip
	for _, t := range s.trips {
		if t.Rider == rider && t.State.Terminal() && after.After(archive.Record{At: t.Ended, ID: t.ID}) {
			out = append(out, t)
		}
	}
	s.mu.Unlock()
	slices.SortFunc(out, func(a, b rides.Trip) int {
		return cmp.Or(b.Ended.Compare(a.Ended), cmp.Compare(b.ID, a.ID))
	})
	if limit >= 0 && len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

// DeleteEnded implements rides.TripStore.
func (s *Trips) DeleteEnded(ctx context.Context, ids []string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, id := range ids {
		if t, ok := s.trips[id]; ok && t.State.Terminal() {
			delete(s.trips, id)
		}
	}
	return nil
}

// Locations is an in-memory rides.Locations.
type Locations struct {
	mu    sync.Mutex
	pings map[string]map[int64]rides.Ping // driver -> Unix ms -> ping
}

// NewLocations returns an empty Locations.
func NewLocations() *Locations { return &Locations{pings: map[string]map[int64]rides.Ping{}} }

// Append implements rides.Locations.
func (l *Locations) Append(ctx context.Context, p rides.Ping) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	m := l.pings[p.Driver]
	if m == nil {
		m = map[int64]rides.Ping{}
		l.pings[p.Driver] = m
	}
	p.At = p.At.Truncate(time.Millisecond).UTC()
	m[p.At.UnixMilli()] = p
	return nil
}

// List implements rides.Locations.
func (l *Locations) List(ctx context.Context, driver string, day time.Time, limit int) ([]rides.Ping, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	y, mo, d := day.UTC().Date()
	from := time.Date(y, mo, d, 0, 0, 0, 0, time.UTC)
	to := from.AddDate(0, 0, 1)
	l.mu.Lock()
	var out []rides.Ping
	for _, p := range l.pings[driver] {
		if !p.At.Before(from) && p.At.Before(to) {
			out = append(out, p)
		}
	}
	l.mu.Unlock()
	slices.SortFunc(out, func(a, b rides.Ping) int { return b.At.Compare(a.At) })
	if limit >= 0 && len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}
