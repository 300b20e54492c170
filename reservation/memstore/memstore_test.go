package memstore_test

import (
	"testing"

	"github.com/sysblocks/sysblocks/reservation"
	"github.com/sysblocks/sysblocks/reservation/memstore"
	"github.com/sysblocks/sysblocks/reservation/storetest"
)

func TestConformance(t *testing.T) {
	shared := memstore.New() // every handle is the same in-process store
	storetest.Run(t, storetest.Config{Open: func(testing.TB) reservation.Store { return shared }})
}

func BenchmarkStore(b *testing.B) {
	shared := memstore.New()
	storetest.Benchmark(b, storetest.Config{Open: func(testing.TB) reservation.Store { return shared }})
}
