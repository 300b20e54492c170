package wsregistry_test

import (
	"context"
	"testing"

	"github.com/sysblocks/sysblocks/wsregistry"
)

// reconnect is what a gateway does when a client connects: register,
// then resync.
func reconnect(t *testing.T, reg *wsregistry.Registry, r *wsregistry.Router, user, host string) []wsregistry.Message {
	t.Helper()
	ctx := context.Background()
	if _, err := reg.Register(ctx, user, "phone", host); err != nil {
		t.Fatal(err)
	}
	got, err := r.Resync(ctx, user, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// The race of the notes is forced in both interleavings by
// storetest.RunRouter (TestRouterMemory here, and on Redis, Cassandra and
// Redis pub/sub in package redisbus).

// The order the notes describe (look up, find the user offline, then
// store) loses the message in the same interleaving. This checks that the
// harness above detects a loss: it runs the naive order by hand with the
// same stores.
func TestRaceNaiveOrderLoses(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	bobReg, bobRouter := w.defaultHost()
	conns, err := w.store.List(ctx, "bob", w.clk.Now()) // the sender's lookup: offline
	if err != nil || len(conns) != 0 {
		t.Fatalf("lookup: %v %v", conns, err)
	}
	got := reconnect(t, bobReg, bobRouter, "bob", "hostB") // bob comes online and resyncs
	seq, _ := w.seq.Next(ctx, "a|b")
	if err := w.inbox.Append(ctx, wsregistry.Message{ID: "m1", Conv: "a|b", From: "alice", To: "bob", Seq: seq}); err != nil {
		t.Fatal(err)
	}
	if len(got) != 0 {
		t.Fatalf("naive order: bob's resync got %d messages; want 0", len(got))
	}
	// Bob is online with an empty resync and nobody pushes: the message
	// waits in the inbox until his next reconnect.
	if w.inbox.Len("bob") != 1 {
		t.Fatal("message not stored")
	}
}
