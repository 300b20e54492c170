package storetest

import (
	"context"
	"sync"
	"testing"

	"github.com/sysblocks/sysblocks/tokenrange"
)

// Benchmark measures the store under cfg.Open:
//
//   - Reserve: one Allocate of 1000 tokens per op (the store's round trip).
//   - LeaserNext: Leaser.Next with Run, one goroutine.
//   - LeaserNextParallel: Leaser.Next with Run, GOMAXPROCS goroutines.
//
// The Leaser benchmarks report fetches/Mtoken (store round trips per
// million tokens) and stalls (Next calls that waited for the store).
func Benchmark(b *testing.B, cfg Config) {
	b.Run("Reserve", func(b *testing.B) {
		alloc, err := tokenrange.NewAllocator(cfg.Open(b), nil)
		if err != nil {
			b.Fatal(err)
		}
		ns := Namespace("bench")
		ctx := context.Background()
		b.ReportAllocs()
		for b.Loop() {
			if _, err := alloc.Allocate(ctx, ns, 1000); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("LeaserNext", func(b *testing.B) {
		l, stop := benchLeaser(b, cfg)
		defer stop()
		ctx := context.Background()
		b.ReportAllocs()
		for b.Loop() {
			if _, err := l.Next(ctx); err != nil {
				b.Fatal(err)
			}
		}
		reportLeaser(b, l)
	})
	b.Run("LeaserNextParallel", func(b *testing.B) {
		l, stop := benchLeaser(b, cfg)
		defer stop()
		ctx := context.Background()
		b.ReportAllocs()
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := l.Next(ctx); err != nil {
					b.Error(err)
					return
				}
			}
		})
		reportLeaser(b, l)
	})
}

// benchLeaser returns a running Leaser on a fresh namespace, warmed up, and
// a function that stops it.
func benchLeaser(b *testing.B, cfg Config) (*tokenrange.Leaser, func()) {
	alloc, err := tokenrange.NewAllocator(cfg.Open(b), nil)
	if err != nil {
		b.Fatal(err)
	}
	l, err := tokenrange.NewLeaser(alloc, Namespace("bench"), &tokenrange.LeaserOptions{InitialSize: 100_000})
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { _ = l.Run(ctx) })
	if _, err := l.Next(ctx); err != nil { // wait for the first range
		b.Fatal(err)
	}
	return l, func() {
		cancel()
		wg.Wait()
		_ = l.Close()
	}
}

func reportLeaser(b *testing.B, l *tokenrange.Leaser) {
	st := l.Stats()
	if st.Served > 0 {
		b.ReportMetric(float64(st.Fetches)/float64(st.Served)*1e6, "fetches/Mtoken")
	}
	b.ReportMetric(float64(st.Stalls), "stalls")
}
