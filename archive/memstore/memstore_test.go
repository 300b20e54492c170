package memstore_test

import (
	"testing"

	"github.com/sysblocks/sysblocks/archive"
	"github.com/sysblocks/sysblocks/archive/memstore"
	"github.com/sysblocks/sysblocks/archive/storetest"
)

func TestConformance(t *testing.T) {
	shared := memstore.New()
	storetest.Run(t, storetest.Config{Open: func(testing.TB) archive.Store { return shared }})
}

func TestLen(t *testing.T) {
	s := memstore.New()
	recs := storetest.Records("o", 5)
	for range 2 {
		if err := s.Put(t.Context(), recs); err != nil {
			t.Fatal(err)
		}
	}
	if s.Len() != 5 {
		t.Fatalf("Len after two Puts of 5 = %d; want 5", s.Len())
	}
}
