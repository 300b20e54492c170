package wsregistry_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/sysblocks/sysblocks/wsregistry"
	"github.com/sysblocks/sysblocks/wsregistry/memstore"
)

// BenchmarkLookup compares a lookup answered by the local cache with one
// that reads the (in-memory) store. redisstore has the same benchmark on
// Redis, where the store read is a network round trip.
func BenchmarkLookup(b *testing.B) {
	for _, tc := range []struct {
		name string
		ttl  int
	}{{"cached", 0}, {"store", -1}} {
		b.Run(tc.name, func(b *testing.B) {
			ctx := context.Background()
			reg, _ := wsregistry.New(memstore.New(), &wsregistry.Options{CacheTTL: durationOf(tc.ttl)})
			for i := range 1000 {
				if _, err := reg.Register(ctx, fmt.Sprint("u", i), "phone", "h1"); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				if _, err := reg.Lookup(ctx, fmt.Sprint("u", i%1000)); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
	}
}

func durationOf(n int) time.Duration { return time.Duration(n) }

// BenchmarkSend measures a send to an online recipient on the memory
// adapters: sequence, append, cached lookup, in-process delivery.
func BenchmarkSend(b *testing.B) {
	ctx := context.Background()
	store, inbox, seq, tr := memstore.New(), memstore.NewInbox(), memstore.NewSequencer(), memstore.NewTransport()
	reg, _ := wsregistry.New(store, nil)
	r, _ := wsregistry.NewRouter(reg, inbox, seq, tr, nil)
	defer tr.Listen("h1", func(ctx context.Context, m wsregistry.Message) error {
		return r.Ack(ctx, m.To, m.Conv, m.Seq)
	})()
	if _, err := reg.Register(ctx, "bob", "phone", "h1"); err != nil {
		b.Fatal(err)
	}
	body := make([]byte, 200)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := r.Send(ctx, wsregistry.Message{Conv: "a|b", From: "alice", To: "bob", Body: body}); err != nil {
			b.Fatal(err)
		}
	}
}
