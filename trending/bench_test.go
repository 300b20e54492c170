package trending_test

import (
	"testing"
	"time"

	"github.com/sysblocks/sysblocks/trending"
)

func BenchmarkAddTerm(b *testing.B) {
	stream := zipf(1, 1<<16, 100000, 1.1)
	for _, exact := range []bool{false, true} {
		name := "sketch"
		if exact {
			name = "exact"
		}
		b.Run(name, func(b *testing.B) {
			at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
			tr, _ := trending.New(&trending.Options{Exact: exact, Now: func() time.Time { return at }})
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				tr.AddTerm("", stream[i&(len(stream)-1)], 1, at)
				i++
				if i%100000 == 0 {
					at = at.Add(time.Second)
				}
			}
		})
	}
}

func BenchmarkObserve(b *testing.B) {
	tr, _ := trending.New(nil)
	b.ReportAllocs()
	for b.Loop() {
		tr.Observe("paris", "Just landed at the airport, the lounge is packed #travel")
	}
}

func BenchmarkTop(b *testing.B) {
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	tr, _ := trending.New(&trending.Options{Now: func() time.Time { return at }})
	for i, term := range zipf(2, 600000, 100000, 1.1) {
		if i%10000 == 0 {
			at = at.Add(time.Minute)
		}
		tr.AddTerm("", term, 1, at)
	}
	b.ReportAllocs()
	for b.Loop() {
		tr.Top("", 10)
	}
}
