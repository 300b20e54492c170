package cqlstore_test

import (
	"context"
	"testing"

	"github.com/sysblocks/sysblocks/internal/testenv"
	"github.com/sysblocks/sysblocks/wsregistry"
	"github.com/sysblocks/sysblocks/wsregistry/cqlstore"
	"github.com/sysblocks/sysblocks/wsregistry/storetest"
)

func newStore(t *testing.T) *cqlstore.Store {
	e := testenv.Cassandra(t)
	s, err := cqlstore.New(e.Session, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.CreateSchema(context.Background()); err != nil {
		t.Fatal(err)
	}
	return s
}

func TestInbox(t *testing.T) {
	s := newStore(t)
	storetest.RunInbox(t, func(testing.TB) wsregistry.Inbox { return s })
}

func TestLastSeen(t *testing.T) {
	s := newStore(t)
	storetest.RunLastSeen(t, func(testing.TB) wsregistry.LastSeenStore { return s })
}
