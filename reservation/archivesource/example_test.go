package archivesource_test

import (
	"context"
	"fmt"
	"time"

	"github.com/sysblocks/sysblocks/archive"
	archmem "github.com/sysblocks/sysblocks/archive/memstore"
	"github.com/sysblocks/sysblocks/reservation"
	"github.com/sysblocks/sysblocks/reservation/archivesource"
	resmem "github.com/sysblocks/sysblocks/reservation/memstore"
)

// Cancelled bookings older than the Age move to the cold store (Cassandra
// in production, with archive/cqlstore); a guest's history merges both.
func Example() {
	ctx := context.Background()
	now := time.Date(2031, time.January, 1, 9, 0, 0, 0, time.UTC)
	svc, _ := reservation.New(resmem.New(), &reservation.Options{Now: func() time.Time { return now }})
	in := reservation.DateOf(2031, time.January, 10)
	_ = svc.SetInventory(ctx, "deluxe", in, in+2, 5)
	for i, nights := range []int{1, 2, 1} {
		now = now.Add(time.Hour)
		b, _ := svc.Hold(ctx, reservation.HoldRequest{Key: fmt.Sprint("req-", i), User: "ann", Room: "deluxe",
			Quantity: 1, CheckIn: in, CheckOut: in + reservation.Date(nights)})
		if i < 2 {
			_, _ = svc.Fail(ctx, b.ID) // payment failed: Cancelled
		}
	}

	src := archivesource.New(svc)
	cold := archmem.New()
	arch, _ := archive.New(src, cold, &archive.Options{Age: 24 * time.Hour, Now: func() time.Time { return now.Add(48 * time.Hour) }})
	moved, err := arch.RunOnce(ctx)
	fmt.Println("moved", moved, err)

	page, _, _ := archive.Merge(ctx, "ann", archive.Cursor{}, 10, src, cold)
	for _, r := range page {
		b, _ := archivesource.Decode(r)
		fmt.Println(b.Created.Format("15:04"), b.State, b.Nights(), "night(s)")
	}
	// Output:
	// moved 2 <nil>
	// 12:00 reserved 1 night(s)
	// 11:00 cancelled 2 night(s)
	// 10:00 cancelled 1 night(s)
}
