package storetest

import (
	"slices"
	"testing"
	"time"

	"github.com/sysblocks/sysblocks/reservation"
)

// Rule: ByRoom lists the Booked stays and the holds before their deadline
// of one room whose nights overlap [from, to), by CheckIn then ID, up to
// limit; expired holds (swept or not), cancelled and completed bookings
// and other rooms are left out; the quantities listed on each night add up
// to the rooms Inventory counts as taken.
func testByRoom(t *testing.T, cfg Config) {
	f := newFixture(t, cfg)
	f.setInv(10, 10, 10, 10)
	book := func(b reservation.Booking) reservation.Booking {
		t.Helper()
		out, err := f.transition(b, reservation.Booked, base)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	held := f.hold(f.booking(1, 0, 2, time.Hour), base)       // nights 0-1, until base+1h
	short := f.hold(f.booking(2, 1, 3, 10*time.Minute), base) // nights 1-2, until base+10m
	stay := book(f.hold(f.booking(3, 2, 4, time.Hour), base)) // nights 2-3, booked
	tie := book(f.hold(f.booking(1, 2, 3, time.Hour), base))  // night 2, booked: ties with stay on CheckIn
	expired := f.hold(f.booking(1, 0, 4, time.Minute), base)  // expired at base+1m, not swept
	gone, err := f.transition(f.hold(f.booking(1, 0, 4, time.Hour), base), reservation.Cancelled, base)
	if err != nil {
		t.Fatal(err)
	}
	done, err := f.transition(book(f.hold(f.booking(1, 0, 1, time.Hour), base)), reservation.Completed, base)
	if err != nil {
		t.Fatal(err)
	}
	born := f.booking(1, 3, 4, 0) // created Booked, as a late payment's rebooking
	born.State, born.Rebooks = reservation.Booked, gone.ID
	born = f.hold(born, base)
	other := &fixture{t: t, s: f.s, room: Unique("room"), ctx: f.ctx}
	other.setInv(10)
	other.hold(other.booking(1, 0, 1, time.Hour), base)

	byRoom := func(from, to int, now time.Time, limit int) []reservation.Booking {
		t.Helper()
		got, err := f.s.ByRoom(f.ctx, f.room, D0.AddDays(from), D0.AddDays(to), now, limit)
		if err != nil {
			t.Fatalf("ByRoom: %v", err)
		}
		return got
	}
	sorted := func(bs ...reservation.Booking) []string {
		slices.SortFunc(bs, func(a, b reservation.Booking) int {
			if a.CheckIn != b.CheckIn {
				return int(a.CheckIn - b.CheckIn)
			}
			if a.ID < b.ID {
				return -1
			}
			return 1
		})
		return ids(bs)
	}
	want := func(name string, got []reservation.Booking, bs ...reservation.Booking) {
		t.Helper()
		if w := sorted(bs...); !slices.Equal(ids(got), w) {
			t.Fatalf("%s: ByRoom = %v;\nwant %v", name, ids(got), w)
		}
		for _, b := range got {
			if stored := f.get(b.ID); b != stored {
				t.Fatalf("%s: ByRoom returned %+v;\nGet returns %+v", name, b, stored)
			}
		}
	}
	now := base.Add(2 * time.Minute) // expired is past its deadline, short is not
	want("all nights", byRoom(0, 4, now, 100), held, short, stay, tie, born)
	want("night 2", byRoom(2, 3, now, 100), short, stay, tie)
	want("night 3", byRoom(3, 4, now, 100), stay, born)
	want("before the first", byRoom(-5, 0, now, 100))
	want("before expiry", byRoom(0, 4, base, 100), held, short, stay, tie, expired, born)
	dl := short.ExpiresAt
	want("just before the deadline", byRoom(1, 2, dl.Add(-time.Microsecond), 100), held, short)
	want("at the deadline", byRoom(1, 2, dl, 100), held)
	for limit := 1; limit <= 5; limit++ {
		all := sorted(held, short, stay, tie, born)
		if got := byRoom(0, 4, now, limit); !slices.Equal(ids(got), all[:limit]) {
			t.Fatalf("ByRoom(limit %d) = %v; want %v", limit, ids(got), all[:limit])
		}
	}
	// The list explains the counts: per night, the quantities listed are
	// the rooms taken (besides the completed stay's, whose rooms stay
	// taken: a stay is completed from its check-out day on, so the
	// Service never has one on a night to come).
	for _, at := range []time.Time{base, now, dl, base.Add(2 * time.Hour)} {
		list := byRoom(0, 4, at, 100)
		avail := f.avail(4, at)
		for i := range 4 {
			d := D0.AddDays(i)
			taken := 0
			if done.CheckIn <= d && d < done.CheckOut {
				taken += done.Quantity
			}
			for _, b := range list {
				if b.CheckIn <= d && d < b.CheckOut {
					taken += b.Quantity
				}
			}
			if taken != 10-avail[i] {
				t.Fatalf("at %s, night %s: ByRoom lists %d rooms; Inventory counts %d taken", at.Format(time.RFC3339Nano), d, taken, 10-avail[i])
			}
		}
	}
	if got, err := f.s.ByRoom(f.ctx, Unique("nowhere"), D0, D0+4, now, 10); err != nil || len(got) != 0 {
		t.Fatalf("ByRoom(unknown room) = %v, %v; want none", ids(got), err)
	}
}
