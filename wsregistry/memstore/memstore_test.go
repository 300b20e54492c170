package memstore_test

import (
	"testing"

	"github.com/sysblocks/sysblocks/wsregistry"
	"github.com/sysblocks/sysblocks/wsregistry/memstore"
	"github.com/sysblocks/sysblocks/wsregistry/storetest"
)

func TestStore(t *testing.T) {
	s := memstore.New()
	storetest.RunStore(t, func(testing.TB) wsregistry.Store { return s })
}

func TestInbox(t *testing.T) {
	b := memstore.NewInbox()
	storetest.RunInbox(t, func(testing.TB) wsregistry.Inbox { return b })
}

func TestSequencer(t *testing.T) {
	q := memstore.NewSequencer()
	storetest.RunSequencer(t, func(testing.TB) wsregistry.Sequencer { return q })
}

func TestLastSeen(t *testing.T) {
	l := memstore.NewLastSeen()
	storetest.RunLastSeen(t, func(testing.TB) wsregistry.LastSeenStore { return l })
}
