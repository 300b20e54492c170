package redisstore_test

import (
	"context"
	"fmt"
	"os"

	"github.com/redis/go-redis/v9"

	"github.com/sysblocks/sysblocks/wsregistry"
	"github.com/sysblocks/sysblocks/wsregistry/memstore"
	"github.com/sysblocks/sysblocks/wsregistry/redisstore"
)

// Every gateway host builds the registry and the sequencer on the same
// Redis, so a connection registered by one host is found by all of them.
// It needs a Redis server at SYSBLOCKS_REDIS_ADDR, so go test only compiles it.
func Example() {
	ctx := context.Background()
	rdb := redis.NewClient(&redis.Options{Addr: os.Getenv("SYSBLOCKS_REDIS_ADDR")})
	defer rdb.Close()

	store, err := redisstore.New(rdb, nil)
	if err != nil {
		panic(err)
	}
	seq, err := redisstore.NewSequencer(rdb, nil)
	if err != nil {
		panic(err)
	}
	reg, err := wsregistry.New(store, nil)
	if err != nil {
		panic(err)
	}
	// The inbox is cqlstore and the transport redisbus in production.
	router, err := wsregistry.NewRouter(reg, memstore.NewInbox(), seq, memstore.NewTransport(), nil)
	if err != nil {
		panic(err)
	}

	if _, err := reg.Register(ctx, "bob", "phone", "hostB"); err != nil {
		panic(err)
	}
	conns, _ := reg.LookupFresh(ctx, "bob")
	for _, c := range conns {
		fmt.Println(c.Device, "on", c.Host)
	}
	m, err := router.Send(ctx, wsregistry.Message{Conv: "alice|bob", From: "alice", To: "bob", Body: []byte("hi")})
	fmt.Println(m.Seq, err)
}
