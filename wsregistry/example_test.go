package wsregistry_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/sysblocks/sysblocks/wsregistry"
	"github.com/sysblocks/sysblocks/wsregistry/memstore"
)

// Two gateway hosts share a registry, an inbox and a sequencer. Bob is
// online on host B: alice's message is stored and pushed to B. Bob goes
// offline: the next message waits in his inbox until he reconnects,
// registers and resyncs. In production the registry and sequencer are
// redisstore, the inbox cqlstore and the transport redisbus.
func Example() {
	ctx := context.Background()
	store, inbox, seq, tr := memstore.New(), memstore.NewInbox(), memstore.NewSequencer(), memstore.NewTransport()
	now := time.Date(2031, 1, 1, 9, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }

	regA, _ := wsregistry.New(store, &wsregistry.Options{Now: clock})
	routerA, _ := wsregistry.NewRouter(regA, inbox, seq, tr, &wsregistry.RouterOptions{Now: clock})
	regB, _ := wsregistry.New(store, &wsregistry.Options{Now: clock})
	routerB, _ := wsregistry.NewRouter(regB, inbox, seq, tr, &wsregistry.RouterOptions{Now: clock})

	// Host B writes what it receives to bob's socket; bob's client acks.
	stop := tr.Listen("hostB", func(ctx context.Context, m wsregistry.Message) error {
		fmt.Printf("hostB pushes to %s: %s #%d %q\n", m.To, m.Conv, m.Seq, m.Body)
		return routerB.Ack(ctx, m.To, m.Conv, m.Seq)
	})
	if _, err := regB.Register(ctx, "bob", "phone", "hostB"); err != nil {
		panic(err)
	}
	if _, err := routerA.Send(ctx, wsregistry.Message{ID: "m1", Conv: "alice|bob", From: "alice", To: "bob", Body: []byte("hi")}); err != nil {
		panic(err)
	}

	stop() // host B goes away with bob's socket
	_ = regB.Unregister(ctx, "bob", "phone", "hostB")
	m, _ := routerA.Send(ctx, wsregistry.Message{ID: "m2", Conv: "alice|bob", From: "alice", To: "bob", Body: []byte("lunch?")})
	fmt.Println("sent", m.ID, "seq", m.Seq, "stored offline:", routerA.Stats().Offline == 1)

	// Bob reconnects on host A: register first, then resync from his
	// last sequence, then ack.
	if _, err := regA.Register(ctx, "bob", "laptop", "hostA"); err != nil {
		panic(err)
	}
	missed, _ := routerA.Resync(ctx, "bob", map[string]uint64{"alice|bob": 1}, 0)
	for _, m := range missed {
		fmt.Printf("resync: %s #%d %q\n", m.Conv, m.Seq, m.Body)
		_ = routerA.Ack(ctx, "bob", m.Conv, m.Seq)
	}
	fmt.Println("inbox after acks:", inbox.Len("bob"))
	// Output:
	// hostB pushes to bob: alice|bob #1 "hi"
	// sent m2 seq 2 stored offline: true
	// resync: alice|bob #2 "lunch?"
	// inbox after acks: 0
}

// A lease lasts Options.Lease from the last Register or Heartbeat. After
// it, the connection is gone from lookups and the heartbeat is refused.
func ExampleRegistry_Heartbeat() {
	ctx := context.Background()
	now := time.Date(2031, 1, 1, 9, 0, 0, 0, time.UTC)
	reg, _ := wsregistry.New(memstore.New(), &wsregistry.Options{Lease: 30 * time.Second, Now: func() time.Time { return now }})

	c, _ := reg.Register(ctx, "bob", "phone", "hostB")
	fmt.Println("registered until", c.Expires.Format(time.TimeOnly))
	now = now.Add(20 * time.Second)
	c, _ = reg.Heartbeat(ctx, "bob", "phone", "hostB")
	fmt.Println("renewed until", c.Expires.Format(time.TimeOnly))

	now = now.Add(time.Minute) // the client stopped heartbeating
	conns, _ := reg.Lookup(ctx, "bob")
	_, err := reg.Heartbeat(ctx, "bob", "phone", "hostB")
	fmt.Println("connections:", len(conns), "heartbeat:", errors.Is(err, wsregistry.ErrNotFound))
	// Output:
	// registered until 09:00:30
	// renewed until 09:00:50
	// connections: 0 heartbeat: true
}

// A client deduplicates by ID and computes its resync position: its own
// messages fill the gaps of a shared conversation.
func ExampleClient() {
	c := wsregistry.NewClient(0)
	fmt.Println(c.Accept(wsregistry.Message{ID: "m1", Conv: "g", Seq: 1}))
	fmt.Println(c.Accept(wsregistry.Message{ID: "m1", Conv: "g", Seq: 1})) // pushed, then resynced
	c.Accept(wsregistry.Message{ID: "m3", Conv: "g", Seq: 3})
	fmt.Println(c.After()) // seq 2 missing
	c.Sent(wsregistry.Message{ID: "mine", Conv: "g", Seq: 2})
	fmt.Println(c.After())
	// Output:
	// true
	// false
	// map[g:1]
	// map[g:3]
}

// Bad input is refused with typed errors and changes nothing.
func ExampleRouter_Send_errors() {
	ctx := context.Background()
	reg, _ := wsregistry.New(memstore.New(), nil)
	r, _ := wsregistry.NewRouter(reg, memstore.NewInbox(), memstore.NewSequencer(), memstore.NewTransport(), nil)

	_, err := r.Send(ctx, wsregistry.Message{Conv: "c", From: "alice", To: ""})
	fmt.Println(err)
	_, err = r.Send(ctx, wsregistry.Message{Conv: "c", From: "alice", To: "bob", Body: make([]byte, 100000)})
	var big *wsregistry.TooLargeError
	fmt.Println(errors.As(err, &big), big.Max)
	err = r.Ack(ctx, "bob", "no-such-conversation", 1)
	fmt.Println(errors.Is(err, wsregistry.ErrUnknownConversation), err)
	// Output:
	// wsregistry: send: to: empty
	// true 65536
	// true wsregistry: ack: conversation "no-such-conversation" has no messages
}
