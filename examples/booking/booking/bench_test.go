package booking_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/sysblocks/sysblocks/examples/booking/backends"
	"github.com/sysblocks/sysblocks/examples/booking/booking"
	"github.com/sysblocks/sysblocks/internal/testenv"
	"github.com/sysblocks/sysblocks/reservation"
)

// BenchmarkView compares a manager's view read through the cache with the
// reads the view would cost the availability database without it (one
// Availability and one RoomBookings call per room), for a hotel of 5
// rooms with 3 current bookings each over 14 nights, in
// memory and on the real servers (Redis cache, MariaDB availability).
func BenchmarkView(b *testing.B) {
	b.Run("memory", func(b *testing.B) {
		st, err := backends.Memory(backends.Settings{})
		if err != nil {
			b.Fatal(err)
		}
		benchView(b, st)
	})
	b.Run("real", func(b *testing.B) {
		r := testenv.Redis(b)
		m := testenv.MySQL(b)
		k := testenv.Kafka(b)
		c := testenv.Cassandra(b)
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		st, err := backends.Real(ctx, backends.Clients{Redis: r.Client, MySQL: m.DB, Cassandra: c.Session, Brokers: k.Brokers},
			backends.Settings{HotelTopic: k.Topic(1), BookingTopic: k.Topic(1), RedisPrefix: r.Key("b:")})
		if err != nil {
			b.Fatal(err)
		}
		defer st.Close()
		benchView(b, st)
	})
}

func benchView(b *testing.B, st *backends.Stack) {
	ctx := context.Background()
	var cfg booking.Config
	st.Apply(&cfg)
	cfg.HotelReceiver, cfg.BookingReceiver = nil, nil
	svc, err := booking.New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	h, err := svc.CreateHotel(ctx, booking.Hotel{Name: "Bench Hotel", Locality: booking.Locality{City: "Paris", Country: "FR"}, Active: true})
	if err != nil {
		b.Fatal(err)
	}
	var rooms []string
	for i := range 5 {
		id := fmt.Sprintf("%s-r%d", h.ID, i)
		if _, err := svc.PutRoom(ctx, h.ID, id, booking.Room{Name: "Room", Quantity: 10, Active: true}); err != nil {
			b.Fatal(err)
		}
		rooms = append(rooms, id)
		// Three current bookings per room: two paid stays and a hold.
		for j := range 3 {
			in := reservation.DateFromTime(time.Now().UTC()).AddDays(1 + 2*j)
			bk, err := svc.Book(ctx, fmt.Sprintf("bench-%s-%d", id, j), booking.BookRequest{User: fmt.Sprintf("u%d", j), Room: id,
				Quantity: 1, CheckIn: in.String(), CheckOut: in.AddDays(2).String()})
			if err != nil {
				b.Fatal(err)
			}
			if j < 2 {
				if _, err := svc.Pay(ctx, bk.ID, booking.Payment{Status: "success"}); err != nil {
					b.Fatal(err)
				}
			}
		}
	}
	if _, err := svc.CurrentBookings(ctx, h.ID); err != nil {
		b.Fatal(err)
	}
	b.Run("cached-view", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := svc.CurrentBookings(ctx, h.ID); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("database-reads", func(b *testing.B) {
		b.ReportAllocs()
		from := reservation.DateFromTime(time.Now().UTC())
		for b.Loop() {
			for _, r := range rooms {
				if _, err := svc.Reservations().Availability(ctx, r, from, from.AddDays(booking.DefaultViewDays)); err != nil {
					b.Fatal(err)
				}
				if _, err := svc.Reservations().RoomBookings(ctx, r, from, from.AddDays(booking.DefaultViewDays), booking.MaxViewBookings+1); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
}
