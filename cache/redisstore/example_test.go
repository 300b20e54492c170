package redisstore_test

import (
	"context"
	"fmt"
	"os"

	"github.com/redis/go-redis/v9"

	"github.com/sysblocks/sysblocks/cache"
	"github.com/sysblocks/sysblocks/cache/redisstore"
)

// This example needs a Redis server at SYSBLOCKS_REDIS_ADDR, so it is compiled but not run.
func Example() {
	ctx := context.Background()
	client := redis.NewClient(&redis.Options{Addr: os.Getenv("SYSBLOCKS_REDIS_ADDR")})
	defer client.Close()

	store := redisstore.New(client, &redisstore.Options{Prefix: "links:"})
	c, err := cache.New(store, cache.StringCodec{}, func(ctx context.Context, key string) (string, error) {
		return "https://example.com/" + key, nil
	}, nil)
	if err != nil {
		panic(err)
	}
	url, err := c.Get(ctx, "abc123")
	if err != nil {
		panic(err)
	}
	fmt.Println(url)
}
