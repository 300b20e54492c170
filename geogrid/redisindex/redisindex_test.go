package redisindex_test

import (
	"testing"

	"github.com/sysblocks/sysblocks/geogrid"
	"github.com/sysblocks/sysblocks/geogrid/indextest"
	"github.com/sysblocks/sysblocks/geogrid/redisindex"
	"github.com/sysblocks/sysblocks/internal/testenv"
)

func newIndex(t *testing.T, seg geogrid.Segmentation) *redisindex.Index {
	e := testenv.Redis(t)
	x, err := redisindex.New(e.Client, e.Key("grid"), &redisindex.Options{Segmentation: seg})
	if err != nil {
		t.Fatal(err)
	}
	return x
}

func TestConformance(t *testing.T) {
	indextest.Run(t, indextest.Config{
		New:    func(t *testing.T, seg geogrid.Segmentation) geogrid.Index { return newIndex(t, seg) },
		Claims: func(t *testing.T) geogrid.Claims { return newIndex(t, geogrid.Segmentation{}) },
		Scale:  0.25,
	})
}
