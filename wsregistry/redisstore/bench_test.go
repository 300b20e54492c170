package redisstore_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/sysblocks/sysblocks/internal/testenv"
	"github.com/sysblocks/sysblocks/wsregistry"
	"github.com/sysblocks/sysblocks/wsregistry/redisstore"
)

// BenchmarkLookup measures a user's lookup on Redis three ways in one
// run: through the Registry's local cache (the notes' short-TTL cache on
// each host), through the store (one Lua script applying the lease
// predicate), and the baseline a bare HGETALL of the user's hash (one
// command, no expiry check).
func BenchmarkLookup(b *testing.B) {
	e := testenv.Redis(b)
	ctx := context.Background()
	opts := &redisstore.Options{Prefix: e.Key("wsr") + ":"}
	store, err := redisstore.New(e.Client, opts)
	if err != nil {
		b.Fatal(err)
	}
	const users = 1000
	seed, _ := wsregistry.New(store, &wsregistry.Options{Lease: time.Hour})
	for i := range users {
		for _, dev := range []string{"phone", "laptop"} {
			if _, err := seed.Register(ctx, fmt.Sprint("u", i), dev, "h1"); err != nil {
				b.Fatal(err)
			}
		}
	}
	for _, tc := range []struct {
		name string
		ttl  time.Duration
	}{{"cached", time.Minute}, {"store", -1}} {
		b.Run(tc.name, func(b *testing.B) {
			reg, _ := wsregistry.New(store, &wsregistry.Options{CacheTTL: tc.ttl})
			for i := range users { // warm: the cache case measures hits
				_, _ = reg.Lookup(ctx, fmt.Sprint("u", i))
			}
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				conns, err := reg.Lookup(ctx, fmt.Sprint("u", i%users))
				if err != nil || len(conns) != 2 {
					b.Fatal(conns, err)
				}
				i++
			}
		})
	}
	b.Run("baseline-HGETALL", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			m, err := e.Client.HGetAll(ctx, opts.Prefix+"{"+fmt.Sprint("u", i%users)+"}:hosts").Result()
			if err != nil || len(m) != 2 {
				b.Fatal(m, err)
			}
			i++
		}
	})
}
