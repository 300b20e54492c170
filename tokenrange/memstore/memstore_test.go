package memstore_test

import (
	"testing"

	"github.com/sysblocks/sysblocks/tokenrange"
	"github.com/sysblocks/sysblocks/tokenrange/memstore"
	"github.com/sysblocks/sysblocks/tokenrange/storetest"
)

func TestConformance(t *testing.T) {
	shared := memstore.New() // every handle is the same in-process store
	storetest.Run(t, storetest.Config{
		Open:     func(testing.TB) tokenrange.Store { return shared },
		Reserves: 2000,
	})
}

func BenchmarkStore(b *testing.B) {
	shared := memstore.New()
	storetest.Benchmark(b, storetest.Config{Open: func(testing.TB) tokenrange.Store { return shared }})
}
