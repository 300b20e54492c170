package storetest_test

import (
	"testing"
	"time"

	"github.com/sysblocks/sysblocks/cache"
	"github.com/sysblocks/sysblocks/cache/memstore"
	"github.com/sysblocks/sysblocks/cache/storetest"
)

// An adapter's own test runs the suite on a fresh store per check. A store
// that expires keys on a server's clock sets ServerClock instead of using now.
func Example() {
	testConformance := func(t *testing.T) {
		storetest.Run(t, storetest.Config{
			New: func(tb testing.TB, now func() time.Time) cache.Store {
				return memstore.New(&memstore.Options{Now: now})
			},
		})
	}
	_ = testConformance
}
