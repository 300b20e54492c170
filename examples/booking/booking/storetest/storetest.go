// Package storetest is the conformance suite of booking.HotelStore, run
// by memstore and by sqlstore against a real MariaDB.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"math"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/sysblocks/sysblocks/examples/booking/booking"
	"github.com/sysblocks/sysblocks/search"
)

// RunHotels runs the suite; newStore returns an empty store for each
// subtest. A store that also has SearchSource() search.Source is checked
// as the source of search rebuilds.
func RunHotels(t *testing.T, newStore func(t *testing.T) booking.HotelStore) {
	ctx := context.Background()
	now := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	hotel := func(id string) booking.Hotel {
		return booking.Hotel{
			ID: id, Name: "Airport Inn " + id, Description: "Next to the terminal",
			Locality: booking.Locality{City: "Paris", State: "IDF", Country: "FR", Zip: "95700"},
			Images:   []string{"https://img.example/" + id + ".jpg"}, DisplayImages: []string{"https://cdn.example/" + id + ".jpg"},
			Facilities: []string{"parking", "wifi"}, Active: true, Version: 1, Updated: now,
		}
	}
	room := func(hotel, id string, qty int) booking.Room {
		return booking.Room{ID: id, HotelID: hotel, Name: "Double " + id, Quantity: qty, PriceMin: 80, PriceMax: 120,
			Facilities: []string{"tv"}, Active: true}
	}

	t.Run("CreateGet", func(t *testing.T) {
		s := newStore(t)
		h := hotel("h1")
		if err := s.CreateHotel(ctx, h); err != nil {
			t.Fatal(err)
		}
		got, err := s.Hotel(ctx, "h1")
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, h) {
			t.Errorf("Hotel: got %+v; want %+v", got, h)
		}
		if err := s.CreateHotel(ctx, hotel("h1")); !errors.Is(err, booking.ErrExists) {
			t.Errorf("second CreateHotel: got %v; want ErrExists", err)
		}
		if _, err := s.Hotel(ctx, "nope"); !errors.Is(err, booking.ErrNotFound) {
			t.Errorf("Hotel(nope): got %v; want ErrNotFound", err)
		}
		if _, err := s.Room(ctx, "nope"); !errors.Is(err, booking.ErrNotFound) {
			t.Errorf("Room(nope): got %v; want ErrNotFound", err)
		}
	})

	t.Run("Update", func(t *testing.T) {
		s := newStore(t)
		if err := s.CreateHotel(ctx, hotel("h1")); err != nil {
			t.Fatal(err)
		}
		h := hotel("h1")
		h.Name, h.Locality.City, h.Facilities, h.Images, h.Active = "Harbour Hotel", "Lyon", []string{"pool"}, nil, false
		h.Updated = now.Add(time.Hour)
		got, err := s.UpdateHotel(ctx, h)
		if err != nil {
			t.Fatal(err)
		}
		h.Version = 2
		if !reflect.DeepEqual(got, h) {
			t.Errorf("UpdateHotel: got %+v; want %+v", got, h)
		}
		if again, _ := s.Hotel(ctx, "h1"); !reflect.DeepEqual(again, h) {
			t.Errorf("Hotel after update: got %+v; want %+v", again, h)
		}
		h.ID = "nope"
		if _, err := s.UpdateHotel(ctx, h); !errors.Is(err, booking.ErrNotFound) {
			t.Errorf("UpdateHotel(nope): got %v; want ErrNotFound", err)
		}
	})

	t.Run("PutRoom", func(t *testing.T) {
		s := newStore(t)
		for _, id := range []string{"h1", "h2"} {
			if err := s.CreateHotel(ctx, hotel(id)); err != nil {
				t.Fatal(err)
			}
		}
		later := now.Add(time.Minute)
		h, err := s.PutRoom(ctx, room("h1", "r2", 5), later)
		if err != nil {
			t.Fatal(err)
		}
		if h, err = s.PutRoom(ctx, room("h1", "r1", 3), later); err != nil {
			t.Fatal(err)
		}
		if h.Version != 3 || !h.Updated.Equal(later) || len(h.Rooms) != 2 || h.Rooms[0].ID != "r1" || h.Rooms[1].ID != "r2" {
			t.Fatalf("after two rooms: got version %d, updated %v, rooms %+v; want 3, %v, r1 and r2", h.Version, h.Updated, h.Rooms, later)
		}
		r := room("h1", "r1", 7)
		r.Facilities, r.Active = []string{"balcony", "minibar"}, false
		if h, err = s.PutRoom(ctx, r, later); err != nil {
			t.Fatal(err)
		}
		if got, _ := s.Room(ctx, "r1"); !reflect.DeepEqual(got, r) {
			t.Errorf("Room after replace: got %+v; want %+v", got, r)
		}
		if !reflect.DeepEqual(h.Rooms[0], r) {
			t.Errorf("hotel's room after replace: got %+v; want %+v", h.Rooms[0], r)
		}
		// A room of another hotel: refused, nothing changes.
		if _, err := s.PutRoom(ctx, room("h2", "r1", 1), later); !errors.Is(err, booking.ErrRoomTaken) {
			t.Errorf("PutRoom of h1's room under h2: got %v; want ErrRoomTaken", err)
		}
		if got, _ := s.Room(ctx, "r1"); !reflect.DeepEqual(got, r) {
			t.Errorf("Room after refused put: got %+v; want %+v", got, r)
		}
		if h2, _ := s.Hotel(ctx, "h2"); h2.Version != 1 || len(h2.Rooms) != 0 {
			t.Errorf("h2 after refused put: version %d, rooms %d; want 1, 0", h2.Version, len(h2.Rooms))
		}
		if _, err := s.PutRoom(ctx, room("nope", "r9", 1), later); !errors.Is(err, booking.ErrNotFound) {
			t.Errorf("PutRoom under unknown hotel: got %v; want ErrNotFound", err)
		}
		if _, err := s.Room(ctx, "r9"); !errors.Is(err, booking.ErrNotFound) {
			t.Errorf("Room r9 after refused put: got %v; want ErrNotFound", err)
		}
		// UpdateHotel keeps the rooms.
		u := hotel("h1")
		u.Name = "Renamed"
		if got, err := s.UpdateHotel(ctx, u); err != nil || len(got.Rooms) != 2 || got.Version != 5 {
			t.Errorf("UpdateHotel: got %d rooms, version %d, %v; want 2 rooms, version 5", len(got.Rooms), got.Version, err)
		}
	})

	t.Run("ConcurrentChanges", func(t *testing.T) {
		// Every change of one hotel gets its own version: N writers
		// leave version 1+N and every room.
		s := newStore(t)
		if err := s.CreateHotel(ctx, hotel("h1")); err != nil {
			t.Fatal(err)
		}
		const n = 24
		var wg sync.WaitGroup
		versions := make(chan int64, n)
		for i := range n {
			wg.Go(func() {
				var h booking.Hotel
				var err error
				if i%3 == 0 {
					u := hotel("h1")
					u.Name = fmt.Sprintf("Name %d", i)
					h, err = s.UpdateHotel(ctx, u)
				} else {
					h, err = s.PutRoom(ctx, room("h1", fmt.Sprintf("r%02d", i), i), now)
				}
				if err != nil {
					t.Error(err)
					return
				}
				versions <- h.Version
			})
		}
		wg.Wait()
		close(versions)
		seen := map[int64]bool{}
		for v := range versions {
			if seen[v] {
				t.Errorf("version %d returned twice", v)
			}
			seen[v] = true
		}
		h, err := s.Hotel(ctx, "h1")
		if err != nil {
			t.Fatal(err)
		}
		if h.Version != n+1 || len(h.Rooms) != n-n/3 {
			t.Errorf("after %d changes: version %d, %d rooms; want %d, %d", n, h.Version, len(h.Rooms), n+1, n-n/3)
		}
	})

	t.Run("RoomRace", func(t *testing.T) {
		// Two hotels create the same room ID at once: exactly one owns it.
		s := newStore(t)
		for _, id := range []string{"h1", "h2"} {
			if err := s.CreateHotel(ctx, hotel(id)); err != nil {
				t.Fatal(err)
			}
		}
		for round := range 10 {
			id := fmt.Sprintf("race%d", round)
			var wg sync.WaitGroup
			errs := make([]error, 2)
			for i, h := range []string{"h1", "h2"} {
				wg.Go(func() { _, errs[i] = s.PutRoom(ctx, room(h, id, 1), now) })
			}
			wg.Wait()
			won := 0
			for _, err := range errs {
				switch {
				case err == nil:
					won++
				case !errors.Is(err, booking.ErrRoomTaken):
					t.Errorf("PutRoom race: %v; want nil or ErrRoomTaken", err)
				}
			}
			if won != 1 {
				t.Errorf("round %d: %d winners; want 1", round, won)
			}
		}
	})

	t.Run("SearchSource", func(t *testing.T) {
		s := newStore(t)
		ss, ok := s.(interface{ SearchSource() search.Source })
		if !ok {
			t.Skip("the store has no SearchSource")
		}
		for _, id := range []string{"h1", "h2", "h3"} {
			if err := s.CreateHotel(ctx, hotel(id)); err != nil {
				t.Fatal(err)
			}
		}
		off := hotel("h3")
		off.Active = false
		if _, err := s.UpdateHotel(ctx, off); err != nil {
			t.Fatal(err)
		}
		cheap := room("h1", "r1", 2)
		cheap.PriceMin = 55
		for _, r := range []booking.Room{room("h1", "r0", 1), cheap} {
			if _, err := s.PutRoom(ctx, r, now); err != nil {
				t.Fatal(err)
			}
		}
		docs := map[string]search.Document{}
		if err := ss.SearchSource().Scan(ctx, func(d search.Document) error { docs[d.ID] = d; return nil }); err != nil {
			t.Fatal(err)
		}
		if len(docs) != 2 {
			t.Fatalf("scanned %d documents; want the 2 active hotels", len(docs))
		}
		for _, id := range []string{"h1", "h2"} {
			h, _ := s.Hotel(ctx, id)
			want := h.Listing().Document()
			if !reflect.DeepEqual(docs[id], want) {
				t.Errorf("document of %s: got %+v; want %+v", id, docs[id], want)
			}
		}
		if p := docs["h1"].Numbers["price"]; p != 55 || math.IsNaN(p) {
			t.Errorf("price of h1: got %v; want 55", p)
		}
	})
}
