package querycache

import (
	"github.com/redis/go-redis/v9"

	"github.com/sysblocks/sysblocks/cache/memstore"
	"github.com/sysblocks/sysblocks/cache/redisstore"
	"github.com/sysblocks/sysblocks/search"
)

var (
	_ search.QueryCache = (*redisstore.Store)(nil)
	_ search.QueryCache = (*memstore.Store)(nil)
)

// Redis returns a query cache on the caller's Redis client, with every key
// under prefix (for example "search:hotels:"). The client is not closed.
func Redis(c redis.UniversalClient, prefix string) search.QueryCache {
	return redisstore.New(c, &redisstore.Options{Prefix: prefix})
}

// Memory returns an in-process query cache holding at most maxEntries
// results (least recently used evicted first; zero means the memstore
// default).
func Memory(maxEntries int) search.QueryCache {
	return memstore.New(&memstore.Options{MaxEntries: maxEntries})
}
