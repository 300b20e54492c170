package storetest_test

import (
	"testing"

	"github.com/sysblocks/sysblocks/archive"
	"github.com/sysblocks/sysblocks/archive/memstore"
	"github.com/sysblocks/sysblocks/archive/storetest"
)

// An adapter's test runs the suite with an Open that returns the store
// under test (or a new handle on its backend).
func Example() {
	_ = func(t *testing.T) { // func TestConformance(t *testing.T) in the adapter's package
		storetest.Run(t, storetest.Config{
			Open: func(testing.TB) archive.Store { return memstore.New() },
		})
	}
}
