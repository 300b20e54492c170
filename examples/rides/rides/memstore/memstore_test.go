package memstore_test

import (
	"testing"

	"go.uber.org/goleak"

	"github.com/sysblocks/sysblocks/examples/rides/rides"
	"github.com/sysblocks/sysblocks/examples/rides/rides/memstore"
	"github.com/sysblocks/sysblocks/examples/rides/rides/storetest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestTrips(t *testing.T) {
	storetest.RunTrips(t, func(*testing.T) rides.TripStore { return memstore.NewTrips() })
}

func TestLocations(t *testing.T) {
	storetest.RunLocations(t, func(*testing.T) rides.Locations { return memstore.NewLocations() })
}
