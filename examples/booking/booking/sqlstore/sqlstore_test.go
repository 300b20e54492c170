package sqlstore_test

import (
	"context"
	"testing"
	"time"

	"github.com/sysblocks/sysblocks/examples/booking/booking"
	"github.com/sysblocks/sysblocks/examples/booking/booking/sqlstore"
	"github.com/sysblocks/sysblocks/examples/booking/booking/storetest"
	"github.com/sysblocks/sysblocks/internal/testenv"
)

func TestHotels(t *testing.T) {
	storetest.RunHotels(t, func(t *testing.T) booking.HotelStore {
		env := testenv.MySQL(t)
		s := sqlstore.New(env.DB)
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		for range 2 { // CreateSchema is idempotent
			if err := s.CreateSchema(ctx); err != nil {
				t.Fatal(err)
			}
		}
		return s
	})
}
