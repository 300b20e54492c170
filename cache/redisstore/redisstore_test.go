package redisstore_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"go.uber.org/goleak"

	"github.com/sysblocks/sysblocks/cache"
	"github.com/sysblocks/sysblocks/cache/redisstore"
	"github.com/sysblocks/sysblocks/cache/storetest"
	"github.com/sysblocks/sysblocks/internal/testenv"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func config() storetest.Config {
	return storetest.Config{
		New: func(tb testing.TB, _ func() time.Time) cache.Store {
			e := testenv.Redis(tb)
			return redisstore.New(e.Client, &redisstore.Options{Prefix: e.Key("")})
		},
		ServerClock: true,
	}
}

func TestConformance(t *testing.T) { storetest.Run(t, config()) }

// Rule: with Jitter j, every TTL Redis reports (PTTL) lies within
// [ttl, ttl*(1+j)], less the little time between the write and the read,
// and the TTLs are spread over that range rather than all equal.
func TestJitterBoundsInRedis(t *testing.T) {
	e := testenv.Redis(t)
	ctx := context.Background()
	const (
		ttl    = time.Hour
		negTTL = 10 * time.Minute
		jitter = 0.2
		keys   = 200
	)
	loader := func(_ context.Context, key string) (string, error) {
		if key[0] == 'n' {
			return "", cache.ErrNotFound
		}
		return "v", nil
	}
	c, err := cache.New(redisstore.New(e.Client, &redisstore.Options{Prefix: e.Key("")}), cache.StringCodec{}, loader,
		&cache.Options{TTL: ttl, NegativeTTL: negTTL, Jitter: jitter})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		prefix string
		base   time.Duration
	}{{"v", ttl}, {"n", negTTL}} {
		lo, hi := time.Duration(1<<62), time.Duration(0)
		start := time.Now()
		for i := range keys {
			key := fmt.Sprint(tc.prefix, i)
			_, _ = c.Get(ctx, key)
			if i%3 == 0 { // Set takes the same path for values
				if tc.prefix == "v" {
					if err := c.Set(ctx, key, "set"); err != nil {
						t.Fatal(err)
					}
				}
			}
		}
		for i := range keys {
			d, err := e.Client.PTTL(ctx, e.Key(fmt.Sprint(tc.prefix, i))).Result()
			if err != nil {
				t.Fatal(err)
			}
			lo, hi = min(lo, d), max(hi, d)
		}
		elapsed := time.Since(start) + time.Millisecond
		upper := time.Duration(float64(tc.base) * (1 + jitter))
		if lo < tc.base-elapsed || hi > upper {
			t.Fatalf("%s: PTTL range [%v, %v]; want within [%v, %v]", tc.prefix, lo, hi, tc.base-elapsed, upper)
		}
		// 200 uniform draws leave gaps of about 1/200 of the range at each
		// end; requiring 80% coverage fails only by a broken jitter.
		if spread := hi - lo; spread < time.Duration(float64(upper-tc.base)*0.8) {
			t.Fatalf("%s: PTTL spread %v over [%v, %v]; want at least 80%% of %v", tc.prefix, spread, lo, hi, upper-tc.base)
		}
	}
}

// Rule: with jitter disabled, the TTL written is exactly Options.TTL,
// rounded up to a millisecond; sub-millisecond TTLs are not truncated to
// zero.
func TestExactTTLWithoutJitter(t *testing.T) {
	e := testenv.Redis(t)
	ctx := context.Background()
	s := redisstore.New(e.Client, &redisstore.Options{Prefix: e.Key("")})
	c, err := cache.New(s, cache.StringCodec{}, nil, &cache.Options{TTL: 90 * time.Second, Jitter: -1})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Set(ctx, "k", "v"); err != nil {
		t.Fatal(err)
	}
	d, err := e.Client.PTTL(ctx, e.Key("k")).Result()
	if err != nil {
		t.Fatal(err)
	}
	if d > 90*time.Second || d < 89*time.Second {
		t.Fatalf("PTTL = %v; want 90s less the round trip", d)
	}
	if err := s.Set(ctx, "tiny", []byte("v"), time.Microsecond); err != nil {
		t.Fatal(err)
	}
	if d, err := e.Client.PTTL(ctx, e.Key("tiny")).Result(); err != nil || d > time.Millisecond {
		t.Fatalf("PTTL of a 1µs TTL = %v, %v; want at most 1ms", d, err)
	}
}

// Rule: the store writes only under its prefix.
func TestPrefix(t *testing.T) {
	e := testenv.Redis(t)
	ctx := context.Background()
	s := redisstore.New(e.Client, &redisstore.Options{Prefix: e.Key("links:")})
	if err := s.Set(ctx, "abc", []byte("https://example.com"), time.Hour); err != nil {
		t.Fatal(err)
	}
	got, err := e.Client.Get(ctx, e.Key("links:abc")).Result()
	if err != nil || got != "https://example.com" {
		t.Fatalf("GET %s = %q, %v; want the value under the prefix", e.Key("links:abc"), got, err)
	}
	if err := e.Client.Get(ctx, "abc").Err(); !errors.Is(err, redis.Nil) {
		t.Fatalf("GET abc (unprefixed) = %v; want redis.Nil", err)
	}
}

// Rule: when Redis is unreachable the cache loads through: Get returns the
// loader's value and counts a store error for the read and the write.
func TestCacheSurvivesDeadRedis(t *testing.T) {
	ctx := context.Background()
	// A port nothing listens on: every command fails at dial.
	dead := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", MaxRetries: -1, DialTimeout: time.Second})
	defer dead.Close()
	c, err := cache.New(redisstore.New(dead, nil), cache.StringCodec{}, func(_ context.Context, key string) (string, error) {
		return "loaded-" + key, nil
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	v, err := c.Get(ctx, "k")
	if err != nil || v != "loaded-k" {
		t.Fatalf("Get = %q, %v; want the loaded value", v, err)
	}
	// Read in Get, second look in the load, write after the load: the
	// second look does not count (it is not reported), read and write do.
	if st := c.Stats(); st.StoreErrors != 2 || st.Loads != 1 {
		t.Fatalf("stats %+v; want StoreErrors 2, Loads 1", st)
	}
}

func BenchmarkStore(b *testing.B) { storetest.Bench(b, config()) }

// BenchmarkGetHitVsBareGet compares a Cache Get hit on Redis with a bare
// go-redis GET of the same value on the same server: the ratio is the
// cost the cache adds to a round trip.
func BenchmarkGetHitVsBareGet(b *testing.B) {
	e := testenv.Redis(b)
	ctx := context.Background()
	const target = "https://example.com/some/long/target/path?with=query"
	c, err := cache.New(redisstore.New(e.Client, &redisstore.Options{Prefix: e.Key("c:")}), cache.StringCodec{},
		func(context.Context, string) (string, error) { return target, nil }, nil)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := c.Get(ctx, "abc1234"); err != nil {
		b.Fatal(err)
	}
	if err := e.Client.Set(ctx, e.Key("bare:abc1234"), target, time.Hour).Err(); err != nil {
		b.Fatal(err)
	}
	b.Run("CacheGet", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := c.Get(ctx, "abc1234"); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("BareGET", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := e.Client.Get(ctx, e.Key("bare:abc1234")).Result(); err != nil {
				b.Fatal(err)
			}
		}
	})
}
