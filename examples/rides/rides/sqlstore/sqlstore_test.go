package sqlstore_test

import (
	"context"
	"testing"
	"time"

	"github.com/sysblocks/sysblocks/examples/rides/rides"
	"github.com/sysblocks/sysblocks/examples/rides/rides/sqlstore"
	"github.com/sysblocks/sysblocks/examples/rides/rides/storetest"
	"github.com/sysblocks/sysblocks/internal/testenv"
)

func TestTrips(t *testing.T) {
	storetest.RunTrips(t, func(t *testing.T) rides.TripStore {
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
