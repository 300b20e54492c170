package indextest_test

import (
	"testing"

	"github.com/sysblocks/sysblocks/geogrid"
	"github.com/sysblocks/sysblocks/geogrid/indextest"
	"github.com/sysblocks/sysblocks/geogrid/memindex"
)

// An adapter's own test runs the whole suite with a Config that builds a
// fresh index (and claim store) per case; memindex expires claims by the
// now it is given, so ClaimClock is true. A backend with a network round
// trip per call sets Scale below 1.
func Example() {
	newIndex := func(t *testing.T, seg geogrid.Segmentation) *memindex.Index {
		x, err := memindex.New(&memindex.Options{Segmentation: seg})
		if err != nil {
			t.Fatal(err)
		}
		return x
	}
	testConformance := func(t *testing.T) {
		indextest.Run(t, indextest.Config{
			New:        func(t *testing.T, seg geogrid.Segmentation) geogrid.Index { return newIndex(t, seg) },
			Claims:     func(t *testing.T) geogrid.Claims { return newIndex(t, geogrid.Segmentation{}) },
			ClaimClock: true,
		})
	}
	_ = testConformance // as func TestConformance(t *testing.T) in the adapter's _test.go
}
