package redisindex_test

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sysblocks/sysblocks/geogrid"
	"github.com/sysblocks/sysblocks/geogrid/redisindex"
)

// Every process of a fleet builds the same Index on one Redis, so updates
// made by one are found by the queries of another. The hash tag keeps all
// keys of the index on one Redis Cluster slot.
// It needs a Redis server at SYSBLOCKS_REDIS_ADDR, so go test only compiles it.
func Example() {
	ctx := context.Background()
	rdb := redis.NewClient(&redis.Options{Addr: os.Getenv("SYSBLOCKS_REDIS_ADDR")})
	defer rdb.Close()

	idx, err := redisindex.New(rdb, "{rides}:grid", nil)
	if err != nil {
		panic(err)
	}
	g, err := geogrid.New(idx, &geogrid.Options{TTL: 30 * time.Second})
	if err != nil {
		panic(err)
	}
	d, err := geogrid.NewDispatcher(g, idx, geogrid.StraightLine{}, geogrid.OfferFunc(func(ctx context.Context, o geogrid.Offer) error {
		return nil // push the offer to the driver's app
	}), nil)
	if err != nil {
		panic(err)
	}

	if err := g.Update(ctx, "kiran", 12.9716, 77.5946, time.Now()); err != nil {
		panic(err)
	}
	a, err := d.Assign(ctx, geogrid.Request{Trip: "trip-1", Rider: "rider-1", Lat: 12.9720, Lng: 77.5950, Premium: true})
	fmt.Println(a.Driver, err)
}
