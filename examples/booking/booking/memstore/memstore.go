// Package memstore implements booking.HotelStore in memory, for tests and
// the example's memory mode. One mutex serialises every operation.
package memstore

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/sysblocks/sysblocks/examples/booking/booking"
	"github.com/sysblocks/sysblocks/search"
)

// Hotels is a booking.HotelStore in memory. It is safe for concurrent use.
type Hotels struct {
	mu     sync.Mutex
	hotels map[string]*booking.Hotel
	rooms  map[string]booking.Room
}

// New returns an empty store.
func New() *Hotels {
	return &Hotels{hotels: map[string]*booking.Hotel{}, rooms: map[string]booking.Room{}}
}

func clone(h booking.Hotel) booking.Hotel {
	h.Images = slices.Clone(h.Images)
	h.DisplayImages = slices.Clone(h.DisplayImages)
	h.Facilities = slices.Clone(h.Facilities)
	h.Rooms = slices.Clone(h.Rooms)
	for i := range h.Rooms {
		h.Rooms[i].Facilities = slices.Clone(h.Rooms[i].Facilities)
	}
	return h
}

// CreateHotel implements booking.HotelStore.
func (s *Hotels) CreateHotel(ctx context.Context, h booking.Hotel) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.hotels[h.ID]; ok {
		return fmt.Errorf("memstore: hotel %s: %w", h.ID, booking.ErrExists)
	}
	h = clone(h)
	h.Rooms, h.Version = nil, 1
	s.hotels[h.ID] = &h
	return nil
}

// Hotel implements booking.HotelStore.
func (s *Hotels) Hotel(ctx context.Context, id string) (booking.Hotel, error) {
	if err := ctx.Err(); err != nil {
		return booking.Hotel{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	h, ok := s.hotels[id]
	if !ok {
		return booking.Hotel{}, fmt.Errorf("memstore: hotel %s: %w", id, booking.ErrNotFound)
	}
	return clone(*h), nil
}

// UpdateHotel implements booking.HotelStore.
func (s *Hotels) UpdateHotel(ctx context.Context, h booking.Hotel) (booking.Hotel, error) {
	if err := ctx.Err(); err != nil {
		return booking.Hotel{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	old, ok := s.hotels[h.ID]
	if !ok {
		return booking.Hotel{}, fmt.Errorf("memstore: update hotel %s: %w", h.ID, booking.ErrNotFound)
	}
	h = clone(h)
	h.Rooms, h.Version = old.Rooms, old.Version+1
	*old = h
	return clone(h), nil
}

// PutRoom implements booking.HotelStore.
func (s *Hotels) PutRoom(ctx context.Context, r booking.Room, now time.Time) (booking.Hotel, error) {
	if err := ctx.Err(); err != nil {
		return booking.Hotel{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	h, ok := s.hotels[r.HotelID]
	if !ok {
		return booking.Hotel{}, fmt.Errorf("memstore: put room %s: hotel %s: %w", r.ID, r.HotelID, booking.ErrNotFound)
	}
	if old, ok := s.rooms[r.ID]; ok && old.HotelID != r.HotelID {
		return booking.Hotel{}, fmt.Errorf("memstore: put room %s: %w", r.ID, booking.ErrRoomTaken)
	}
	r.Facilities = slices.Clone(r.Facilities)
	s.rooms[r.ID] = r
	i, found := slices.BinarySearchFunc(h.Rooms, r.ID, func(a booking.Room, id string) int { return strings.Compare(a.ID, id) })
	if found {
		h.Rooms[i] = r
	} else {
		h.Rooms = slices.Insert(h.Rooms, i, r)
	}
	h.Version++
	h.Updated = now
	return clone(*h), nil
}

// Room implements booking.HotelStore.
func (s *Hotels) Room(ctx context.Context, id string) (booking.Room, error) {
	if err := ctx.Err(); err != nil {
		return booking.Room{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.rooms[id]
	if !ok {
		return booking.Room{}, fmt.Errorf("memstore: room %s: %w", id, booking.ErrNotFound)
	}
	r.Facilities = slices.Clone(r.Facilities)
	return r, nil
}

// SearchSource returns the active hotels as a search.Source, for
// search.Index.Rebuild.
func (s *Hotels) SearchSource() search.Source { return source{s} }

type source struct{ s *Hotels }

func (src source) Scan(ctx context.Context, fn func(search.Document) error) error {
	src.s.mu.Lock()
	var docs []search.Document
	for _, h := range src.s.hotels {
		if h.Active {
			docs = append(docs, h.Listing().Document())
		}
	}
	src.s.mu.Unlock()
	for _, d := range docs {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := fn(d); err != nil {
			return err
		}
	}
	return nil
}
