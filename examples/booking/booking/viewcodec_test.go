package booking_test

import (
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/sysblocks/sysblocks/examples/booking/booking"
	"github.com/sysblocks/sysblocks/reservation"
)

func sampleView() booking.View {
	d := reservation.DateOf(2026, 3, 1)
	return booking.View{Hotel: "h_1", From: d, To: d.AddDays(2), Generated: time.Date(2026, 3, 1, 8, 0, 0, 5, time.UTC),
		Rooms: []booking.RoomView{
			{Room: "r1", Name: "Double", Nights: []booking.NightView{{Date: d, Offered: 4, Available: 1, Taken: 3}, {Date: d + 1, Offered: 4, Available: 4}},
				Bookings: []booking.ViewBooking{
					{ID: "bk_1", User: "alice", Room: "r1", CheckIn: d, CheckOut: d + 1, Nights: 1, Quantity: 2, State: reservation.Booked},
					{ID: "bk_2", User: "bob", Room: "r1", CheckIn: d, CheckOut: d + 3, Nights: 3, Quantity: 1, State: reservation.Reserved, ExpiresAt: &exp},
				}, More: true},
			{Room: "r2", Name: "Suite é", Nights: []booking.NightView{}, Bookings: []booking.ViewBooking{}},
		}}
}

var exp = time.Date(2026, 3, 1, 8, 10, 0, 7000, time.UTC)

func TestViewCodecRoundTrip(t *testing.T) {
	var c booking.ViewCodec
	for _, v := range []booking.View{sampleView(), {Rooms: []booking.RoomView{}, Generated: time.Unix(0, 0).UTC()}} {
		if len(v.Rooms) > 0 {
			// A reserved booking without a deadline, a booked one with
			// one, an unknown state, an empty stay: each refused.
			for i, edit := range []func(*booking.ViewBooking){
				func(x *booking.ViewBooking) { x.State, x.ExpiresAt = reservation.Reserved, nil },
				func(x *booking.ViewBooking) { x.ExpiresAt = &exp },
				func(x *booking.ViewBooking) { x.State = "lost" },
				func(x *booking.ViewBooking) { x.CheckOut = x.CheckIn },
			} {
				bad := sampleView()
				bad.Rooms[0].Bookings = slices.Clone(bad.Rooms[0].Bookings)
				edit(&bad.Rooms[0].Bookings[0])
				raw, _ := c.Encode(bad)
				if _, err := c.Decode(raw); err == nil {
					t.Errorf("Decode of bad booking %d succeeded", i)
				}
			}
		}
		b, err := c.Encode(v)
		if err != nil {
			t.Fatal(err)
		}
		got, err := c.Decode(b)
		if err != nil || !reflect.DeepEqual(got, v) {
			t.Errorf("round trip: got %+v, %v; want %+v", got, err, v)
		}
		for i := range b { // every truncation is refused
			if _, err := c.Decode(b[:i]); err == nil {
				t.Errorf("Decode of %d of %d bytes succeeded", i, len(b))
			}
		}
	}
}

// FuzzViewCodec checks that Decode never panics, and that whatever it
// accepts encodes back to the same bytes.
func FuzzViewCodec(f *testing.F) {
	var c booking.ViewCodec
	b, _ := c.Encode(sampleView())
	f.Add(b)
	f.Add([]byte{1})
	f.Add([]byte{1, 0, 0, 0, 0, 0})
	f.Add([]byte(`{"hotel":"h"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		v, err := c.Decode(b)
		if err != nil {
			return
		}
		again, err := c.Encode(v)
		if err != nil {
			t.Fatal(err)
		}
		v2, err := c.Decode(again)
		if err != nil || !reflect.DeepEqual(v, v2) {
			t.Fatalf("re-decode: %+v, %v; want %+v", v2, err, v)
		}
	})
}

func BenchmarkViewCodec(b *testing.B) {
	v := sampleView()
	for i := range 3 {
		v.Rooms = append(v.Rooms, v.Rooms[0])
		_ = i
	}
	d := reservation.DateOf(2026, 3, 1)
	for i := range v.Rooms {
		v.Rooms[i].Nights = nil
		for n := range 14 {
			v.Rooms[i].Nights = append(v.Rooms[i].Nights, booking.NightView{Date: d.AddDays(n), Offered: 10, Available: 7, Taken: 3})
		}
		v.Rooms[i].Bookings = nil
		for n := range 3 {
			v.Rooms[i].Bookings = append(v.Rooms[i].Bookings, booking.ViewBooking{ID: "bk_abcdefghijklmnopqrstuvwxyz", User: "user-42",
				Room: v.Rooms[i].Room, CheckIn: d.AddDays(n), CheckOut: d.AddDays(n + 2), Nights: 2, Quantity: 1, State: reservation.Booked})
		}
	}
	b.Run("binary-decode", func(b *testing.B) {
		raw, _ := booking.ViewCodec{}.Encode(v)
		b.ReportAllocs()
		for b.Loop() {
			if _, err := (booking.ViewCodec{}).Decode(raw); err != nil {
				b.Fatal(err)
			}
		}
	})
}
