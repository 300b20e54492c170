package redisstore_test

import (
	"context"
	"errors"
	"os"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/sysblocks/sysblocks/internal/testenv"
	"github.com/sysblocks/sysblocks/tokenrange"
	"github.com/sysblocks/sysblocks/tokenrange/redisstore"
	"github.com/sysblocks/sysblocks/tokenrange/storetest"
)

// Child processes find the server and the test's key prefix here.
const (
	envAddr   = "TOKENRANGE_REDISSTORE_TEST_ADDR"
	envPrefix = "TOKENRANGE_REDISSTORE_TEST_PREFIX"
)

func TestMain(m *testing.M) {
	if storetest.IsChild() {
		storetest.ChildMain(func(ctx context.Context) (tokenrange.Store, error) {
			c := redis.NewClient(&redis.Options{Addr: os.Getenv(envAddr)})
			return redisstore.New(c, &redisstore.Options{Prefix: os.Getenv(envPrefix)}), nil
		})
	}
	os.Exit(m.Run())
}

// setup returns the test's Redis and a function that opens a new handle
// (its own client) with the test's key prefix.
func setup(t testing.TB) (*testenv.RedisEnv, func(tb testing.TB) tokenrange.Store) {
	env := testenv.Redis(t)
	open := func(tb testing.TB) tokenrange.Store {
		c := redis.NewClient(&redis.Options{Addr: env.Addr})
		tb.Cleanup(func() { _ = c.Close() })
		return redisstore.New(c, &redisstore.Options{Prefix: env.Key("")})
	}
	return env, open
}

func TestConformance(t *testing.T) {
	_, open := setup(t)
	storetest.Run(t, storetest.Config{Open: open})
}

func TestProcesses(t *testing.T) {
	env, open := setup(t)
	storetest.RunProcesses(t, storetest.ProcessConfig{
		Open: open,
		Env:  []string{envAddr + "=" + env.Addr, envPrefix + "=" + env.Key("")},
	})
}

// TestOvershootNearTop drives a counter next to MaxLimit: the crossing call
// gets the partial range, later calls ErrExhausted, and the counter's
// overshoot never wraps around.
func TestOvershootNearTop(t *testing.T) {
	env, _ := setup(t)
	ctx := context.Background()
	s := redisstore.New(env.Client, &redisstore.Options{Prefix: env.Key("")})
	start := tokenrange.MaxLimit - 10
	if err := env.Client.Set(ctx, s.Key("top"), start, 0).Err(); err != nil {
		t.Fatal(err)
	}
	r, err := s.Reserve(ctx, "top", tokenrange.MaxRangeSize, tokenrange.MaxLimit)
	if err != nil || r != (tokenrange.Range{Lo: start, Hi: tokenrange.MaxLimit}) {
		t.Fatalf("crossing Reserve = %v, %v; want [%d, %d)", r, err, start, tokenrange.MaxLimit)
	}
	for range 5 {
		if _, err := s.Reserve(ctx, "top", tokenrange.MaxRangeSize, tokenrange.MaxLimit); !errors.Is(err, tokenrange.ErrExhausted) {
			t.Fatalf("Reserve past the top: err %v; want ErrExhausted", err)
		}
	}
	// A counter pushed to the edge of int64 reports exhaustion, not an
	// internal error.
	if err := env.Client.Set(ctx, s.Key("edge"), int64(^uint64(0)>>1)-5, 0).Err(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Reserve(ctx, "edge", 10, tokenrange.MaxLimit); !errors.Is(err, tokenrange.ErrExhausted) {
		t.Fatalf("Reserve at the int64 edge: err %v; want ErrExhausted", err)
	}
}

func BenchmarkStore(b *testing.B) {
	_, open := setup(b)
	storetest.Benchmark(b, storetest.Config{Open: open})
}

// BenchmarkIncrPerID is the baseline: one Redis INCR per ID.
func BenchmarkIncrPerID(b *testing.B) {
	env := testenv.Redis(b)
	ctx := context.Background()
	key := env.Key("incr")
	b.ReportAllocs()
	for b.Loop() {
		if err := env.Client.Incr(ctx, key).Err(); err != nil {
			b.Fatal(err)
		}
	}
}
