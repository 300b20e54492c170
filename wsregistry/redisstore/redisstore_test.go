package redisstore_test

import (
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/sysblocks/sysblocks/internal/testenv"
	"github.com/sysblocks/sysblocks/wsregistry"
	"github.com/sysblocks/sysblocks/wsregistry/redisstore"
	"github.com/sysblocks/sysblocks/wsregistry/storetest"
)

// handle returns a new client on the test's Redis, as another process
// would have, with the test's key prefix.
func handle(tb testing.TB, e *testenv.RedisEnv) (*redis.Client, *redisstore.Options) {
	c := redis.NewClient(&redis.Options{Addr: e.Addr})
	tb.Cleanup(func() { _ = c.Close() })
	return c, &redisstore.Options{Prefix: e.Key("wsr") + ":"}
}

func TestStore(t *testing.T) {
	e := testenv.Redis(t)
	storetest.RunStore(t, func(tb testing.TB) wsregistry.Store {
		s, err := redisstore.New(handle(tb, e))
		if err != nil {
			tb.Fatal(err)
		}
		return s
	})
}

func TestSequencer(t *testing.T) {
	e := testenv.Redis(t)
	storetest.RunSequencer(t, func(tb testing.TB) wsregistry.Sequencer {
		q, err := redisstore.NewSequencer(handle(tb, e))
		if err != nil {
			tb.Fatal(err)
		}
		return q
	})
}
