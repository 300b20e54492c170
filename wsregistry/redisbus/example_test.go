package redisbus_test

import (
	"context"
	"fmt"
	"os"
	"os/signal"

	"github.com/redis/go-redis/v9"

	"github.com/sysblocks/sysblocks/wsregistry"
	"github.com/sysblocks/sysblocks/wsregistry/memstore"
	"github.com/sysblocks/sysblocks/wsregistry/redisbus"
	"github.com/sysblocks/sysblocks/wsregistry/redisstore"
)

// A gateway host listens on its own channel and hands the Bus to its
// Router as the transport to the other hosts; the registry shares the
// same Redis client.
// It needs a Redis server at SYSBLOCKS_REDIS_ADDR, so go test only compiles it.
func Example() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	rdb := redis.NewClient(&redis.Options{Addr: os.Getenv("SYSBLOCKS_REDIS_ADDR")})
	defer rdb.Close()

	bus, err := redisbus.New(rdb, nil)
	if err != nil {
		panic(err)
	}
	store, _ := redisstore.New(rdb, nil)
	seq, _ := redisstore.NewSequencer(rdb, nil)
	reg, _ := wsregistry.New(store, nil)
	inbox := memstore.NewInbox() // cqlstore in production
	router, err := wsregistry.NewRouter(reg, inbox, seq, bus, nil)
	if err != nil {
		panic(err)
	}

	l, err := bus.Listen(ctx, "hostA", func(ctx context.Context, m wsregistry.Message) error {
		fmt.Printf("push to %s's sockets: %s #%d\n", m.To, m.Conv, m.Seq)
		return nil
	})
	if err != nil {
		panic(err)
	}
	go func() { _ = l.Run(ctx) }()

	if _, err := router.Send(ctx, wsregistry.Message{Conv: "alice|bob", From: "alice", To: "bob", Body: []byte("hi")}); err != nil {
		panic(err)
	}
	<-ctx.Done()
}
