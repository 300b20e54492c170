package memstore_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/sysblocks/sysblocks/reservation"
	"github.com/sysblocks/sysblocks/reservation/memstore"
)

// Two guests race for the last room of a night: the store gives it to one,
// and the other is told the night is sold out.
func Example() {
	ctx := context.Background()
	now := time.Date(2031, time.March, 1, 9, 0, 0, 0, time.UTC)
	svc, err := reservation.New(memstore.New(), &reservation.Options{Now: func() time.Time { return now }})
	if err != nil {
		panic(err)
	}
	in := reservation.DateOf(2031, time.March, 14)
	_ = svc.SetInventory(ctx, "suite", in, in+2, 1)

	ann, err := svc.Hold(ctx, reservation.HoldRequest{Key: "ann-1", User: "ann", Room: "suite",
		Quantity: 1, CheckIn: in, CheckOut: in + 2})
	fmt.Println(ann.State, err)
	_, err = svc.Hold(ctx, reservation.HoldRequest{Key: "bob-1", User: "bob", Room: "suite",
		Quantity: 1, CheckIn: in + 1, CheckOut: in + 2})
	fmt.Println(errors.Is(err, reservation.ErrSoldOut))

	b, _ := svc.Confirm(ctx, ann.ID, reservation.Payment{ID: "pay-1"})
	fmt.Println(b.State)
	// Output:
	// reserved <nil>
	// true
	// booked
}
