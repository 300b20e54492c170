package storetest_test

import (
	"testing"

	"github.com/sysblocks/sysblocks/tokenrange"
	"github.com/sysblocks/sysblocks/tokenrange/memstore"
	"github.com/sysblocks/sysblocks/tokenrange/storetest"
)

// An adapter's own test runs the suite with an Open that returns a new
// handle on one shared backend; an in-memory store can only share itself.
func Example() {
	testConformance := func(t *testing.T) {
		shared := memstore.New()
		storetest.Run(t, storetest.Config{
			Open: func(testing.TB) tokenrange.Store { return shared },
		})
	}
	_ = testConformance
}
