package querycache_test

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sysblocks/sysblocks/search"
	"github.com/sysblocks/sysblocks/search/querycache"
)

// Every replica of an index shares the results of hot queries through
// Redis. It needs a server, so it is compiled but not run by go test.
func Example() {
	ctx := context.Background()
	rdb := redis.NewClient(&redis.Options{Addr: os.Getenv("SYSBLOCKS_REDIS_ADDR")})
	defer rdb.Close()

	ix, err := search.New(&search.Options{
		Cache:    querycache.Redis(rdb, "search:hotels:"), // querycache.Memory(10_000) in one process
		CacheTTL: 30 * time.Second,
	})
	if err != nil {
		panic(err)
	}
	res, err := ix.Search(ctx, search.Query{Text: "beach hotel", Limit: 10})
	fmt.Println(res.Total, err)
}
