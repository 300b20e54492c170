package redisstore_test

import (
	"context"
	"fmt"
	"os"

	"github.com/redis/go-redis/v9"

	"github.com/sysblocks/sysblocks/tokenrange"
	"github.com/sysblocks/sysblocks/tokenrange/redisstore"
)

// This example needs a Redis server at SYSBLOCKS_REDIS_ADDR, so it is compiled but not run.
func Example() {
	ctx := context.Background()
	client := redis.NewClient(&redis.Options{Addr: os.Getenv("SYSBLOCKS_REDIS_ADDR")})
	defer client.Close()

	alloc, err := tokenrange.NewAllocator(redisstore.New(client, nil), nil)
	if err != nil {
		panic(err)
	}
	leaser, err := tokenrange.NewLeaser(alloc, "links", nil)
	if err != nil {
		panic(err)
	}
	defer leaser.Close()
	token, err := leaser.Next(ctx)
	if err != nil {
		panic(err)
	}
	fmt.Println(token)
}
