package redisbus_test

import (
	"context"
	"testing"
	"time"

	"github.com/sysblocks/sysblocks/internal/testenv"
	"github.com/sysblocks/sysblocks/wsregistry"
	"github.com/sysblocks/sysblocks/wsregistry/cqlstore"
)

// BenchmarkSendRealServices measures Router.Send to an online recipient
// on the production adapters (INCR on Redis, INSERT on Cassandra, a cached
// lookup, PUBLISH on Redis) against the baseline of the two writes any
// store-then-push design needs: the Cassandra INSERT and the PUBLISH
// alone, issued the same way.
func BenchmarkSendRealServices(b *testing.B) {
	re := testenv.Redis(b)
	ce := testenv.Cassandra(b)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	inbox, _ := cqlstore.New(ce.Session, nil)
	if err := inbox.CreateSchema(ctx); err != nil {
		b.Fatal(err)
	}
	prefix := re.Key("bench") + ":"
	reg, r, _, err := deployment(ctx, re.Addr, prefix, inbox)
	if err != nil {
		b.Fatal(err)
	}
	bus := newBusPrefix(b, re, prefix+"host:")
	l, err := bus.Listen(ctx, "h1", func(context.Context, wsregistry.Message) error { return nil })
	if err != nil {
		b.Fatal(err)
	}
	done := make(chan struct{})
	go func() { defer close(done); _ = l.Run(ctx) }()
	defer func() { cancel(); <-done }()
	if _, err := reg.Register(ctx, "bob", "phone", "h1"); err != nil {
		b.Fatal(err)
	}
	body := make([]byte, 200)

	b.Run("router", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := r.Send(ctx, wsregistry.Message{Conv: "a|b", From: "alice", To: "bob", Body: body}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("baseline-insert+publish", func(b *testing.B) {
		b.ReportAllocs()
		seq := uint64(1 << 40)
		for b.Loop() {
			seq++
			m := wsregistry.Message{ID: "x", Conv: "base", From: "alice", To: "bob", Seq: seq, Kind: "text", Body: body, At: time.Now()}
			if err := inbox.Append(ctx, m); err != nil {
				b.Fatal(err)
			}
			if err := bus.Deliver(ctx, "h1", m); err != nil {
				b.Fatal(err)
			}
		}
	})
}
