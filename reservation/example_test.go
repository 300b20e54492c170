package reservation_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sysblocks/sysblocks/reservation"
	"github.com/sysblocks/sysblocks/reservation/memstore"
)

// A guest holds a room for two nights, retries the request, and pays. In
// production the store is sqlstore on MariaDB and Run sweeps in the
// background.
func Example() {
	ctx := context.Background()
	now := time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC)
	n := 0
	svc, err := reservation.New(memstore.New(), &reservation.Options{
		Now:          func() time.Time { return now },
		NewID:        func() string { n++; return fmt.Sprintf("bk_%d", n) },
		NewInvoiceID: func(b reservation.Booking) string { return "inv_" + b.ID },
		Emitter: reservation.EmitterFunc(func(_ context.Context, e reservation.Event) error {
			fmt.Println("event:", e.Type, e.Booking.ID)
			return nil
		}),
	})
	if err != nil {
		panic(err)
	}
	in := reservation.DateOf(2030, time.March, 1)
	if err := svc.SetInventory(ctx, "hotel-7/double", in, in+3, 2); err != nil {
		panic(err)
	}

	req := reservation.HoldRequest{
		Key: "req-42", User: "alice", Room: "hotel-7/double", Quantity: 1,
		CheckIn: in, CheckOut: in + 2, TTL: 10 * time.Minute,
	}
	hold, err := svc.Hold(ctx, req)
	if err != nil {
		panic(err)
	}
	fmt.Println(hold.ID, hold.State, "until", hold.ExpiresAt.Format(time.Kitchen))

	again, _ := svc.Hold(ctx, req) // a retry: same key, same request
	fmt.Println("retry returns", again.ID)

	b, err := svc.Confirm(ctx, hold.ID, reservation.Payment{ID: "pi_123"})
	if err != nil {
		panic(err)
	}
	fmt.Println(b.ID, b.State, b.InvoiceID)

	nights, _ := svc.Availability(ctx, "hotel-7/double", in, in+3)
	for _, n := range nights {
		fmt.Println(n.Date, n.Available, "of", n.Initial)
	}
	// Output:
	// event: held bk_1
	// bk_1 reserved until 12:10PM
	// retry returns bk_1
	// event: booked bk_1
	// bk_1 booked inv_bk_1
	// 2030-03-01 1 of 2
	// 2030-03-02 1 of 2
	// 2030-03-03 2 of 2
}

// Twenty guests race for the last three rooms of a night: three get them.
// Nobody pays; at the deadline the rooms are free again before any sweep,
// and the sweeper then cancels the holds.
func Example_overbooking() {
	ctx := context.Background()
	var mu sync.Mutex
	clock := time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC)
	now := func() time.Time { mu.Lock(); defer mu.Unlock(); return clock }
	svc, _ := reservation.New(memstore.New(), &reservation.Options{Now: now})
	night := reservation.DateOf(2030, time.March, 1)
	_ = svc.SetInventory(ctx, "hotel-7/double", night, night+1, 3)

	var held, soldOut atomic.Int32
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Go(func() {
			_, err := svc.Hold(ctx, reservation.HoldRequest{
				Key: fmt.Sprint("guest-", i), User: fmt.Sprint("guest-", i), Room: "hotel-7/double",
				Quantity: 1, CheckIn: night, CheckOut: night + 1, TTL: 15 * time.Minute,
			})
			switch {
			case err == nil:
				held.Add(1)
			case errors.Is(err, reservation.ErrSoldOut):
				soldOut.Add(1)
			}
		})
	}
	wg.Wait()
	fmt.Println("held:", held.Load(), "sold out:", soldOut.Load())

	mu.Lock()
	clock = clock.Add(15 * time.Minute) // every hold's deadline
	mu.Unlock()
	nights, _ := svc.Availability(ctx, "hotel-7/double", night, night+1)
	fmt.Println("available at the deadline:", nights[0].Available)
	res, _ := svc.Sweep(ctx)
	fmt.Println("cancelled by the sweeper:", res.Expired)
	// Output:
	// held: 3 sold out: 17
	// available at the deadline: 3
	// cancelled by the sweeper: 3
}

// A payment that arrives after the deadline books the stay if the rooms
// are still free, and is marked for refund if someone took them.
func Example_latePayment() {
	ctx := context.Background()
	clock := time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC)
	svc, _ := reservation.New(memstore.New(), &reservation.Options{Now: func() time.Time { return clock }})
	night := reservation.DateOf(2030, time.March, 1)
	_ = svc.SetInventory(ctx, "r", night, night+1, 1)
	req := func(key string) reservation.HoldRequest {
		return reservation.HoldRequest{Key: key, User: key, Room: "r", Quantity: 1, CheckIn: night, CheckOut: night + 1}
	}

	a, _ := svc.Hold(ctx, req("alice"))
	clock = clock.Add(time.Hour) // past alice's deadline; the room is still free
	b, err := svc.Confirm(ctx, a.ID, reservation.Payment{ID: "pay-a"})
	fmt.Println("alice:", b.State, b.Reason, err)

	_, _ = svc.Cancel(ctx, a.ID) // the stay is freed again
	c, _ := svc.Hold(ctx, req("carol"))
	clock = clock.Add(time.Hour)
	_, _ = svc.Hold(ctx, req("dave")) // dave takes the room after carol's deadline
	b, err = svc.Confirm(ctx, c.ID, reservation.Payment{ID: "pay-c"})
	fmt.Println("carol:", b.State, b.RefundRequired, errors.Is(err, reservation.ErrRefundRequired))
	// Output:
	// alice: booked late_payment <nil>
	// carol: cancelled true true
}
