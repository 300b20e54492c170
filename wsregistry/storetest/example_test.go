package storetest_test

import (
	"testing"

	"github.com/sysblocks/sysblocks/wsregistry"
	"github.com/sysblocks/sysblocks/wsregistry/memstore"
	"github.com/sysblocks/sysblocks/wsregistry/storetest"
)

// An adapter's own tests run the suite for each interface it implements.
// Each Open function returns a handle on the same backend, as another
// process would have: for memory adapters, the same value every time.
func Example() {
	testStore := func(t *testing.T) {
		s := memstore.New()
		storetest.RunStore(t, func(testing.TB) wsregistry.Store { return s })
	}
	testRouter := func(t *testing.T) {
		s, b, q, tr := memstore.New(), memstore.NewInbox(), memstore.NewSequencer(), memstore.NewTransport()
		storetest.RunRouter(t, storetest.Deployment{
			Store:     func(testing.TB) wsregistry.Store { return s },
			Inbox:     func(testing.TB) wsregistry.Inbox { return b },
			Sequencer: func(testing.TB) wsregistry.Sequencer { return q },
			Transport: func(testing.TB) wsregistry.Transport { return tr },
			Listen: func(_ testing.TB, host string, h wsregistry.Handler) func() {
				return tr.Listen(host, h)
			},
		})
	}
	_, _ = testStore, testRouter // as func TestStore and func TestRouter in the adapter's _test.go
}
