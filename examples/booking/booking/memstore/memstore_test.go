package memstore_test

import (
	"testing"

	"go.uber.org/goleak"

	"github.com/sysblocks/sysblocks/examples/booking/booking"
	"github.com/sysblocks/sysblocks/examples/booking/booking/memstore"
	"github.com/sysblocks/sysblocks/examples/booking/booking/storetest"
)

func TestHotels(t *testing.T) {
	storetest.RunHotels(t, func(*testing.T) booking.HotelStore { return memstore.New() })
}

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
