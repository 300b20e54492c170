package memstore_test

import (
	"context"
	"fmt"
	"time"

	"github.com/sysblocks/sysblocks/archive"
	"github.com/sysblocks/sysblocks/archive/memstore"
)

// A user's records come back newest first, a page at a time; writing a
// record again leaves one copy.
func Example() {
	ctx := context.Background()
	st := memstore.New()
	t0 := time.Date(2031, time.May, 1, 8, 0, 0, 0, time.UTC)
	var recs []archive.Record
	for i := 0; i < 3; i++ {
		recs = append(recs, archive.Record{Owner: "ann", ID: fmt.Sprint("order-", i),
			At: t0.Add(time.Duration(i) * time.Hour), Data: []byte(fmt.Sprint("item ", i))})
	}
	_ = st.Put(ctx, recs)
	_ = st.Put(ctx, recs[:1]) // again: still one copy

	var after archive.Cursor
	for {
		page, err := st.List(ctx, "ann", after, 2)
		if err != nil || len(page) == 0 {
			break
		}
		for _, r := range page {
			fmt.Println(r.At.Format("15:04"), r.ID, string(r.Data))
		}
		after = archive.Of(page[len(page)-1])
	}
	// Output:
	// 10:00 order-2 item 2
	// 09:00 order-1 item 1
	// 08:00 order-0 item 0
}
