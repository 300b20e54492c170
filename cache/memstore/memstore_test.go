package memstore_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/sysblocks/sysblocks/cache"
	"github.com/sysblocks/sysblocks/cache/memstore"
	"github.com/sysblocks/sysblocks/cache/storetest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func config(maxEntries int) storetest.Config {
	return storetest.Config{
		New: func(_ testing.TB, now func() time.Time) cache.Store {
			return memstore.New(&memstore.Options{Now: now, MaxEntries: maxEntries})
		},
	}
}

func TestConformance(t *testing.T) {
	t.Run("Sharded", func(t *testing.T) { storetest.Run(t, config(0)) })
	t.Run("SingleShard", func(t *testing.T) { storetest.Run(t, config(100)) })
	t.Run("Unbounded", func(t *testing.T) { storetest.Run(t, config(-1)) })
}

// Rule: a full single-shard store evicts the least recently used key, and
// a Get counts as a use.
func TestEvictsLeastRecentlyUsed(t *testing.T) {
	ctx := context.Background()
	s := memstore.New(&memstore.Options{MaxEntries: 3})
	for _, k := range []string{"a", "b", "c"} {
		if err := s.Set(ctx, k, []byte(k), time.Hour); err != nil {
			t.Fatal(err)
		}
	}
	if _, found, _ := s.Get(ctx, "a"); !found { // a is now the most recent
		t.Fatal("a: not found")
	}
	if err := s.Set(ctx, "d", []byte("d"), time.Hour); err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]bool{"a": true, "b": false, "c": true, "d": true} {
		if _, found, _ := s.Get(ctx, k); found != want {
			t.Errorf("Get(%q) found = %v; want %v", k, found, want)
		}
	}
	if got := s.Len(); got != 3 {
		t.Errorf("Len = %d; want 3", got)
	}
	// Overwriting an existing key evicts nothing.
	if err := s.Set(ctx, "c", []byte("c2"), time.Hour); err != nil {
		t.Fatal(err)
	}
	if got := s.Len(); got != 3 {
		t.Errorf("Len after overwrite = %d; want 3", got)
	}
}

// Rule: a sharded store stays within MaxEntries (rounded up to a multiple
// of the shard count).
func TestShardedBound(t *testing.T) {
	ctx := context.Background()
	const max = 4096
	s := memstore.New(&memstore.Options{MaxEntries: max})
	for i := range 10 * max {
		if err := s.Set(ctx, fmt.Sprint("k", i), []byte("v"), time.Hour); err != nil {
			t.Fatal(err)
		}
	}
	if got := s.Len(); got > max || got < max*9/10 {
		t.Fatalf("Len = %d; want at most %d and close to it", got, max)
	}
	// The most recent key always survives.
	if _, found, _ := s.Get(ctx, fmt.Sprint("k", 10*max-1)); !found {
		t.Fatal("most recent key evicted")
	}
}

// Rule: a read of an expired key removes it.
func TestExpiredKeyRemovedOnRead(t *testing.T) {
	ctx := context.Background()
	clk := storetest.NewClock()
	s := memstore.New(&memstore.Options{Now: clk.Now})
	_ = s.Set(ctx, "k", []byte("v"), time.Second)
	clk.Advance(time.Second)
	if _, found, _ := s.Get(ctx, "k"); found {
		t.Fatal("expired key found")
	}
	if got := s.Len(); got != 0 {
		t.Fatalf("Len = %d; want 0", got)
	}
}

func BenchmarkStore(b *testing.B) { storetest.Bench(b, config(0)) }

// BenchmarkGetParallel measures hits on one hot key and on spread keys
// from all Ps at once.
func BenchmarkGetParallel(b *testing.B) {
	ctx := context.Background()
	s := memstore.New(nil)
	keys := make([]string, 1024)
	for i := range keys {
		keys[i] = fmt.Sprint("k", i)
		_ = s.Set(ctx, keys[i], []byte("https://example.com/x"), time.Hour)
	}
	b.Run("HotKey", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				_, _, _ = s.Get(ctx, "k0")
			}
		})
	})
	b.Run("SpreadKeys", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			i := 0
			for pb.Next() {
				_, _, _ = s.Get(ctx, keys[i&1023])
				i++
			}
		})
	})
}
