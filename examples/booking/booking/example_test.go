package booking_test

import (
	"context"
	"fmt"
	"time"

	"github.com/sysblocks/sysblocks/examples/booking/backends"
	"github.com/sysblocks/sysblocks/examples/booking/booking"
)

// Example onboards a hotel, finds it with a typo, holds a room and pays
// for it, all in memory.
func Example() {
	ctx := context.Background()
	st, _ := backends.Memory(backends.Settings{})
	defer st.Close()
	var cfg booking.Config
	st.Apply(&cfg)
	cfg.HotelReceiver = nil // no event feed here: the index is rebuilt below
	svc, err := booking.New(cfg)
	if err != nil {
		panic(err)
	}

	h, _ := svc.CreateHotel(ctx, booking.Hotel{Name: "Airport Inn", Locality: booking.Locality{City: "Paris", Country: "FR"}, Active: true})
	_, _ = svc.PutRoom(ctx, h.ID, "airport-inn-double", booking.Room{Name: "Double", Quantity: 2, PriceMin: 80, PriceMax: 120, Active: true})
	_ = svc.Rebuild(ctx)
	res, _ := svc.Search(ctx, booking.SearchRequest{Text: "airprot"})
	fmt.Println("found:", res.Hits[0].Name, "from", *res.Hits[0].PriceFrom)

	tomorrow := time.Now().UTC().AddDate(0, 0, 1)
	b, err := svc.Book(ctx, "request-1", booking.BookRequest{
		User: "alice", Room: "airport-inn-double", Quantity: 1,
		CheckIn: tomorrow.Format(time.DateOnly), CheckOut: tomorrow.AddDate(0, 0, 2).Format(time.DateOnly),
	})
	if err != nil {
		panic(err)
	}
	fmt.Println("held:", b.State, b.Nights(), "nights")
	b, _ = svc.Pay(ctx, b.ID, booking.Payment{Status: "success", PaymentID: "ch_1"})
	fmt.Println("paid:", b.State, b.InvoiceID != "")

	_, err = svc.Book(ctx, "request-2", booking.BookRequest{User: "bob", Room: "airport-inn-double", Quantity: 0,
		CheckIn: tomorrow.Format(time.DateOnly), CheckOut: tomorrow.AddDate(0, 0, 1).Format(time.DateOnly)})
	fmt.Println(err)
	// Output:
	// found: Airport Inn from 80
	// held: reserved 2 nights
	// paid: booked true
	// booking: quantity: want 1 to 100 rooms
}
