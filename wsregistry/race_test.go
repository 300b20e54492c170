package wsregistry_test

import (
	"context"
	"testing"
	"time"

	"github.com/sysblocks/sysblocks/wsregistry"
)

// gatedInbox blocks Append before it stores anything until released.
type gatedInbox struct {
	wsregistry.Inbox
	entered chan struct{}
	release chan struct{}
}

func (g *gatedInbox) Append(ctx context.Context, m wsregistry.Message) error {
	close(g.entered)
	<-g.release
	return g.Inbox.Append(ctx, m)
}

// gatedList blocks List after it has read the store until released: the
// moment the sender has found the recipient offline.
type gatedList struct {
	wsregistry.Store
	entered chan []wsregistry.Conn
	release chan struct{}
}

func (g *gatedList) List(ctx context.Context, user string, now time.Time) ([]wsregistry.Conn, error) {
	conns, err := g.Store.List(ctx, user, now)
	g.entered <- conns
	<-g.release
	return conns, err
}

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

// The recipient comes online while the sender is storing the message:
// the resync runs before the message is stored, and the sender's lookup,
// which runs after, finds the new socket and pushes.
func TestRaceOnlineDuringStore(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	gate := &gatedInbox{Inbox: w.inbox, entered: make(chan struct{}), release: make(chan struct{})}
	_, sender := w.host(w.store, gate, w.tr)
	bobReg, bobRouter := w.defaultHost()
	box := &mailbox{}
	defer w.tr.Listen("hostB", box.handler)()

	done := make(chan error)
	go func() {
		_, err := sender.Send(ctx, wsregistry.Message{Conv: "a|b", From: "alice", To: "bob", Body: []byte("hi")})
		done <- err
	}()
	<-gate.entered // the sender holds a sequence number and is storing
	if got := reconnect(t, bobReg, bobRouter, "bob", "hostB"); len(got) != 0 {
		t.Fatalf("resync before the store: got %d messages; want 0", len(got))
	}
	close(gate.release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if got := box.take(); len(got) != 1 || string(got[0].Body) != "hi" {
		t.Fatalf("pushed to bob's host: got %+v; want the message", got)
	}
}

// The sender has looked bob up and found him offline; bob comes online
// before the send ends. The message was stored before the lookup, so
// bob's resync returns it.
func TestRaceOnlineAfterOfflineLookup(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	gate := &gatedList{Store: w.store, entered: make(chan []wsregistry.Conn, 1), release: make(chan struct{})}
	_, sender := w.host(gate, w.inbox, w.tr)
	bobReg, bobRouter := w.defaultHost()
	box := &mailbox{}
	defer w.tr.Listen("hostB", box.handler)()

	done := make(chan error)
	go func() {
		_, err := sender.Send(ctx, wsregistry.Message{Conv: "a|b", From: "alice", To: "bob", Body: []byte("hi")})
		done <- err
	}()
	if conns := <-gate.entered; len(conns) != 0 {
		t.Fatalf("sender's lookup: got %+v; want bob offline", conns)
	}
	got := reconnect(t, bobReg, bobRouter, "bob", "hostB")
	close(gate.release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || string(got[0].Body) != "hi" {
		t.Fatalf("bob's resync: got %+v; want the message", got)
	}
	if pushed := box.take(); len(pushed) != 0 {
		t.Fatalf("pushed %d messages; want 0 (the sender saw bob offline)", len(pushed))
	}
	if st := sender.Stats(); st.Offline != 1 {
		t.Errorf("Offline = %d; want 1", st.Offline)
	}
}

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
