package memindex_test

import (
	"testing"

	"github.com/sysblocks/sysblocks/geogrid"
	"github.com/sysblocks/sysblocks/geogrid/indextest"
	"github.com/sysblocks/sysblocks/geogrid/memindex"
)

func newIndex(t *testing.T, seg geogrid.Segmentation) *memindex.Index {
	x, err := memindex.New(&memindex.Options{Segmentation: seg})
	if err != nil {
		t.Fatal(err)
	}
	return x
}

func TestConformance(t *testing.T) {
	indextest.Run(t, indextest.Config{
		New:        func(t *testing.T, seg geogrid.Segmentation) geogrid.Index { return newIndex(t, seg) },
		Claims:     func(t *testing.T) geogrid.Claims { return newIndex(t, geogrid.Segmentation{}) },
		ClaimClock: true,
	})
}
