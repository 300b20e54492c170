package cache

import (
	"context"
	"time"
)

// Store is the storage behind a [Cache]: a map from keys to opaque byte
// strings with a time to live. The Cache encodes everything it keeps,
// values and negative entries alike, into the bytes, so a Store needs
// nothing beyond these three operations. Implementations must be safe for
// concurrent use.
//
// Adapters: [github.com/sysblocks/sysblocks/cache/memstore] (in process,
// bounded, LRU eviction) and [github.com/sysblocks/sysblocks/cache/redisstore]
// (Redis through go-redis). [github.com/sysblocks/sysblocks/cache/storetest]
// checks an implementation against this contract.
type Store interface {
	// Get returns the bytes stored under key and found true, or found
	// false and a nil error when the key is absent or expired. The
	// returned slice belongs to the caller: the store must not keep or
	// change it. Get must return an error (wrapping ctx.Err()) when ctx is
	// already done.
	Get(ctx context.Context, key string) (val []byte, found bool, err error)

	// Set stores val under key, replacing any previous value and its TTL.
	// The key must expire ttl after the call (ttl > 0; the store may round
	// it up to its own resolution, never down). The store must not keep
	// val: the caller may reuse it after Set returns.
	Set(ctx context.Context, key string, val []byte, ttl time.Duration) error

	// Delete removes key. Deleting an absent key is not an error.
	Delete(ctx context.Context, key string) error
}
