package redisbus_test

import (
	"context"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/sysblocks/sysblocks/internal/testenv"
	"github.com/sysblocks/sysblocks/wsregistry"
	"github.com/sysblocks/sysblocks/wsregistry/cqlstore"
	"github.com/sysblocks/sysblocks/wsregistry/redisbus"
	"github.com/sysblocks/sysblocks/wsregistry/redisstore"
	"github.com/sysblocks/sysblocks/wsregistry/storetest"
)

// The delivery cases of storetest on the production adapters: registry
// and sequencer on Redis, inbox on Cassandra, pushes over Redis pub/sub.
// Each handle has its own Redis client, as each gateway process would.
func TestRouterRealServices(t *testing.T) {
	re := testenv.Redis(t)
	ce := testenv.Cassandra(t)
	inbox, err := cqlstore.New(ce.Session, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := inbox.CreateSchema(context.Background()); err != nil {
		t.Fatal(err)
	}
	client := func(tb testing.TB) *redis.Client {
		c := redis.NewClient(&redis.Options{Addr: re.Addr})
		tb.Cleanup(func() { _ = c.Close() })
		return c
	}
	regOpts := &redisstore.Options{Prefix: re.Key("reg") + ":"}
	busOpts := &redisbus.Options{Prefix: re.Key("host") + ":"}
	storetest.RunRouter(t, storetest.Deployment{
		Store: func(tb testing.TB) wsregistry.Store {
			s, err := redisstore.New(client(tb), regOpts)
			if err != nil {
				tb.Fatal(err)
			}
			return s
		},
		Inbox: func(testing.TB) wsregistry.Inbox { return inbox },
		Sequencer: func(tb testing.TB) wsregistry.Sequencer {
			q, err := redisstore.NewSequencer(client(tb), regOpts)
			if err != nil {
				tb.Fatal(err)
			}
			return q
		},
		Transport: func(tb testing.TB) wsregistry.Transport {
			b, err := redisbus.New(client(tb), busOpts)
			if err != nil {
				tb.Fatal(err)
			}
			return b
		},
		Listen: func(tb testing.TB, host string, h wsregistry.Handler) func() {
			b, err := redisbus.New(client(tb), busOpts)
			if err != nil {
				tb.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			l, err := b.Listen(ctx, host, h)
			if err != nil {
				cancel()
				tb.Fatal(err)
			}
			done := make(chan struct{})
			go func() { defer close(done); _ = l.Run(ctx) }()
			return func() { cancel(); <-done }
		},
	})
}
