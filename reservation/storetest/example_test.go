package storetest_test

import (
	"testing"

	"github.com/sysblocks/sysblocks/reservation"
	"github.com/sysblocks/sysblocks/reservation/memstore"
	"github.com/sysblocks/sysblocks/reservation/storetest"
)

// An adapter's test runs the suite with an Open that returns a handle on
// the store under test. A memstore has no separate handles, so every call
// returns the same store; a server-backed adapter opens a new client on
// the same database each time.
func Example() {
	store := memstore.New()
	_ = func(t *testing.T) { // func TestConformance(t *testing.T) in the adapter's package
		storetest.Run(t, storetest.Config{
			Open: func(testing.TB) reservation.Store { return store },
		})
	}
}
