package storetest

import (
	"context"
	"strconv"
	"sync/atomic"
	"testing"

	"github.com/sysblocks/sysblocks/reservation"
)

// benchNights is the number of nights the benchmarks spread over, each
// with [reservation.MaxRooms] rooms, so that no run sells out.
const benchNights = 64

// Benchmark measures, as sub-benchmarks of b, one-night holds through a
// [reservation.Service] on the store from 16 goroutines per GOMAXPROCS:
// HoldHotRoom puts every hold on one room, HoldManyRooms spreads them over
// 1,000 rooms. Each op is one Hold with a fresh idempotency key.
func Benchmark(b *testing.B, cfg Config) {
	b.Run("HoldHotRoom", func(b *testing.B) { benchHold(b, cfg, 1) })
	b.Run("HoldManyRooms", func(b *testing.B) { benchHold(b, cfg, 1000) })
}

func benchHold(b *testing.B, cfg Config, rooms int) {
	ctx := context.Background()
	store := cfg.Open(b)
	clock := NewClock(base)
	svc, err := reservation.New(store, &reservation.Options{Now: clock.Now})
	if err != nil {
		b.Fatal(err)
	}
	prefix := Unique("bench")
	names := make([]string, rooms)
	for i := range names {
		names[i] = prefix + "-" + strconv.Itoa(i)
		if err := svc.SetInventory(ctx, names[i], D0, D0+benchNights, reservation.MaxRooms); err != nil {
			b.Fatal(err)
		}
	}
	var n atomic.Int64
	perNight := int64(reservation.MaxRooms / 2)
	b.SetParallelism(16)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := n.Add(1)
			night := D0.AddDays(int(i / perNight % benchNights))
			_, err := svc.Hold(ctx, reservation.HoldRequest{
				Key: prefix + "-k" + strconv.FormatInt(i, 10), User: "bench", Room: names[i%int64(rooms)],
				Quantity: 1, CheckIn: night, CheckOut: night + 1,
			})
			if err != nil {
				b.Error(err)
				return
			}
		}
	})
}
