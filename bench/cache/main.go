// Command cache measures the cache block against named baselines on one
// Redis server in one run:
//
//   - hit latency: cache.Cache.Get on memstore (against a map read under a
//     sync.RWMutex) and on redisstore (against a bare go-redis GET of the
//     same value, and github.com/go-redis/cache/v9 Get);
//   - stampede: N concurrent Gets of a missing key, counting loader calls,
//     for cache.Cache, a naive cache-aside (GET, load, SET) and
//     go-redis/cache Once;
//   - cancel isolation: the caller that started a load is cancelled while
//     it runs; how many of the callers sharing the load still get the
//     value.
//
// Usage (Redis from SYSBLOCKS_REDIS_ADDR, else 127.0.0.1:6379):
//
//	cd bench && go run ./cache
//
// Every key is written under a random "sbbench:cache:" prefix and deleted
// at the end.
package main

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	gocache "github.com/go-redis/cache/v9"
	"github.com/redis/go-redis/v9"

	"github.com/sysblocks/sysblocks/cache"
	"github.com/sysblocks/sysblocks/cache/memstore"
	"github.com/sysblocks/sysblocks/cache/redisstore"
)

const target = "https://example.com/articles/2024/05/a-rather-long-slug-for-a-short-link?utm_source=x"

func main() {
	addr := os.Getenv("SYSBLOCKS_REDIS_ADDR")
	if addr == "" {
		addr = "127.0.0.1:6379"
	}
	flag.StringVar(&addr, "addr", addr, "Redis address")
	loadDelay := flag.Duration("load", 5*time.Millisecond, "simulated loader (database) latency")
	rounds := flag.Int("rounds", 5, "stampede rounds per N")
	reps := flag.Int("reps", 5, "hit benchmarks: interleaved repetitions, the median is reported")
	testing.Init()
	flag.Parse()
	if f := flag.Lookup("test.benchtime"); f != nil && !isSet("test.benchtime") {
		_ = f.Value.Set("300ms")
	}

	ctx := context.Background()
	rdb := redis.NewClient(&redis.Options{Addr: addr, PoolSize: 1100})
	defer rdb.Close()
	if err := rdb.Ping(ctx).Err(); err != nil {
		fmt.Fprintf(os.Stderr, "cache bench: redis at %s: %v\n", addr, err)
		os.Exit(1)
	}
	prefix := "sbbench:cache:" + randHex() + ":"
	defer cleanup(rdb, prefix)

	fmt.Printf("redis %s, loader delay %v\n\n", addr, *loadDelay)
	hitLatency(ctx, rdb, prefix, *reps)
	stampede(ctx, rdb, prefix, *loadDelay, *rounds)
	cancelIsolation(ctx, rdb, prefix)
}

func isSet(name string) bool {
	set := false
	flag.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

// medians runs the benchmarks interleaved reps times and returns, for
// each, the run with the median ns/op, so that load from other processes
// falls on all of them alike.
func medians(reps int, fns ...func(*testing.B)) []testing.BenchmarkResult {
	runs := make([][]testing.BenchmarkResult, len(fns))
	for range reps {
		for i, f := range fns {
			runs[i] = append(runs[i], testing.Benchmark(f))
		}
	}
	out := make([]testing.BenchmarkResult, len(fns))
	for i, rs := range runs {
		slices.SortFunc(rs, func(a, b testing.BenchmarkResult) int { return cmp.Compare(a.NsPerOp(), b.NsPerOp()) })
		out[i] = rs[len(rs)/2]
	}
	return out
}

func randHex() string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func cleanup(rdb *redis.Client, prefix string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	iter := rdb.Scan(ctx, 0, prefix+"*", 1000).Iterator()
	var keys []string
	for iter.Next(ctx) {
		keys = append(keys, iter.Val())
	}
	for len(keys) > 0 {
		n := min(len(keys), 500)
		rdb.Del(ctx, keys[:n]...)
		keys = keys[n:]
	}
}

func must(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "cache bench:", err)
		os.Exit(1)
	}
}

func report(name string, r testing.BenchmarkResult, base testing.BenchmarkResult) {
	ratio := float64(r.NsPerOp()) / float64(max(base.NsPerOp(), 1))
	fmt.Printf("  %-42s %9d ns/op %5d B/op %3d allocs/op   x%.2f\n", name, r.NsPerOp(), r.AllocedBytesPerOp(), r.AllocsPerOp(), ratio)
}

func hitLatency(ctx context.Context, rdb *redis.Client, prefix string, reps int) {
	fmt.Printf("Get hit, one goroutine, median of %d interleaved runs (ratio against the first line of each group)\n", reps)

	// In process.
	var mu sync.RWMutex
	m := map[string]string{"abc1234": target}
	mapReadFn := func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			mu.RLock()
			_ = m["abc1234"]
			mu.RUnlock()
		}
	}
	mc, err := cache.New(memstore.New(nil), cache.StringCodec{}, func(context.Context, string) (string, error) { return target, nil }, nil)
	must(err)
	_, err = mc.Get(ctx, "abc1234")
	must(err)
	memHitFn := func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := mc.Get(ctx, "abc1234"); err != nil {
				b.Fatal(err)
			}
		}
	}
	r := medians(reps, mapReadFn, memHitFn)
	mapRead, memHit := r[0], r[1]
	report("map[string]string under RWMutex", mapRead, mapRead)
	report("cache.Get on memstore", memHit, mapRead)

	// On Redis.
	bareKey := prefix + "bare:abc1234"
	must(rdb.Set(ctx, bareKey, target, time.Hour).Err())
	bareFn := func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := rdb.Get(ctx, bareKey).Result(); err != nil {
				b.Fatal(err)
			}
		}
	}
	rc, err := cache.New(redisstore.New(rdb, &redisstore.Options{Prefix: prefix + "sb:"}), cache.StringCodec{},
		func(context.Context, string) (string, error) { return target, nil }, &cache.Options{TTL: time.Hour})
	must(err)
	_, err = rc.Get(ctx, "abc1234")
	must(err)
	oursFn := func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := rc.Get(ctx, "abc1234"); err != nil {
				b.Fatal(err)
			}
		}
	}
	gc := gocache.New(&gocache.Options{Redis: rdb})
	gKey := prefix + "gc:abc1234"
	must(gc.Set(&gocache.Item{Ctx: ctx, Key: gKey, Value: target, TTL: time.Hour}))
	theirsFn := func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var s string
			if err := gc.Get(ctx, gKey, &s); err != nil {
				b.Fatal(err)
			}
		}
	}
	r = medians(reps, bareFn, oursFn, theirsFn)
	bare, ours, theirs := r[0], r[1], r[2]
	report("bare go-redis GET", bare, bare)
	report("cache.Get on redisstore", ours, bare)
	report("go-redis/cache/v9 Get", theirs, bare)
	fmt.Println()
}

// stampede fires n concurrent Gets at a fresh missing key per round and
// counts loader calls.
func stampede(ctx context.Context, rdb *redis.Client, prefix string, delay time.Duration, rounds int) {
	fmt.Printf("Stampede: N concurrent Gets of one missing key, loader calls per round (mean of %d rounds)\n", rounds)
	fmt.Printf("  %6s %16s %16s %22s\n", "N", "naive aside", "cache.Cache", "go-redis/cache Once")
	var calls atomic.Int64
	load := func(ctx context.Context, key string) (string, error) {
		calls.Add(1)
		select {
		case <-time.After(delay):
			return target, nil
		case <-ctx.Done():
			return "", ctx.Err()
		}
	}
	rc, err := cache.New(redisstore.New(rdb, &redisstore.Options{Prefix: prefix + "st:sb:"}), cache.StringCodec{}, load, &cache.Options{TTL: time.Hour})
	must(err)
	gc := gocache.New(&gocache.Options{Redis: rdb})

	naive := func(key string) {
		k := prefix + "st:naive:" + key
		if _, err := rdb.Get(ctx, k).Result(); err == nil {
			return
		}
		v, err := load(ctx, key)
		if err == nil {
			rdb.Set(ctx, k, v, time.Hour)
		}
	}
	ourGet := func(key string) { _, _ = rc.Get(ctx, key) }
	theirOnce := func(key string) {
		var s string
		_ = gc.Once(&gocache.Item{Ctx: ctx, Key: prefix + "st:gc:" + key, Value: &s, TTL: time.Hour,
			Do: func(it *gocache.Item) (any, error) { return load(it.Context(), key) }})
	}
	run := func(n int, get func(string)) float64 {
		calls.Store(0)
		for r := range rounds {
			key := fmt.Sprintf("n%d-r%d", n, r)
			var wg sync.WaitGroup
			start := make(chan struct{})
			for range n {
				wg.Go(func() { <-start; get(key) })
			}
			close(start)
			wg.Wait()
		}
		return float64(calls.Load()) / float64(rounds)
	}
	for _, n := range []int{10, 100, 1000} {
		a, b, c := run(n, naive), run(n, ourGet), run(n, theirOnce)
		fmt.Printf("  %6d %16.1f %16.1f %22.1f\n", n, a, b, c)
	}
	fmt.Println()
}

// cancelIsolation starts a load with one caller, lets 99 others join it,
// cancels the first caller while the loader runs, and counts how many of
// the 99 get the value.
func cancelIsolation(ctx context.Context, rdb *redis.Client, prefix string) {
	const others = 99
	fmt.Printf("Cancel isolation: the caller that started the load is cancelled mid-load; of %d callers sharing it, how many get the value\n", others)
	release := make(chan struct{})
	started := make(chan struct{}, 256)
	load := func(ctx context.Context, key string) (string, error) {
		started <- struct{}{}
		select {
		case <-release:
			return target, nil
		case <-ctx.Done():
			return "", ctx.Err()
		}
	}
	trial := func(get func(ctx context.Context) error) (ok int, firstErr error) {
		release = make(chan struct{})
		lctx, cancel := context.WithCancel(ctx)
		first := make(chan error, 1)
		go func() { first <- get(lctx) }()
		<-started
		res := make(chan error, others)
		for range others {
			go func() { res <- get(ctx) }()
		}
		time.Sleep(50 * time.Millisecond) // let them join the load in flight
		cancel()
		firstErr = <-first
		close(release)
		for range others {
			if err := <-res; err == nil {
				ok++
			}
		}
		// Loads started by callers that arrived after the first one ended.
		for len(started) > 0 {
			<-started
		}
		return ok, firstErr
	}

	rc, err := cache.New(redisstore.New(rdb, &redisstore.Options{Prefix: prefix + "ci:sb:"}), cache.StringCodec{}, load, nil)
	must(err)
	ok, ferr := trial(func(ctx context.Context) error { _, err := rc.Get(ctx, "k"); return err })
	fmt.Printf("  %-24s %3d/%d got the value; cancelled caller got %v\n", "cache.Cache", ok, others, ferr)

	gc := gocache.New(&gocache.Options{Redis: rdb})
	ok, ferr = trial(func(ctx context.Context) error {
		var s string
		return gc.Once(&gocache.Item{Ctx: ctx, Key: prefix + "ci:gc:k", Value: &s, TTL: time.Hour,
			Do: func(it *gocache.Item) (any, error) { return load(it.Context(), "k") }})
	})
	if errors.Is(ferr, context.Canceled) {
		ferr = context.Canceled
	}
	fmt.Printf("  %-24s %3d/%d got the value; cancelled caller got %v\n", "go-redis/cache Once", ok, others, ferr)
}
