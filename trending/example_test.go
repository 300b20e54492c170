package trending_test

import (
	"fmt"
	"time"

	"github.com/sysblocks/sysblocks/trending"
)

func Example() {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	tr, _ := trending.New(&trending.Options{
		Window: time.Hour, Bucket: time.Minute,
		Now: func() time.Time { return now },
	})
	for _, tweet := range []string{
		"The new #golang release is out",
		"Reading the #golang release notes",
		"Lunch at the airport, the release party is tonight",
		"Is it raining in Paris?",
	} {
		tr.ObserveAt("", tweet, now.Add(-10*time.Minute))
	}
	for _, c := range tr.Top("", 3) {
		fmt.Println(c.Term, c.Count)
	}
	// Output:
	// release 3
	// #golang 2
	// airport 1
}

func ExampleTracker_Trending() {
	now := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	tr, _ := trending.New(&trending.Options{Window: time.Hour, Baseline: 6 * time.Hour,
		Now: func() time.Time { return now }})
	// Six quiet hours: the weather, every minute.
	for range 6 * 60 {
		tr.Observe("", "weather weather")
		now = now.Add(time.Minute)
	}
	// One busy hour: the weather as usual, and a sudden eclipse.
	for range 60 {
		tr.Observe("", "weather weather eclipse")
		now = now.Add(time.Minute)
	}
	// The window is the 60 minutes up to now, whose own minute is still
	// empty: 59 minutes of eclipse; the first eclipse minute has moved to
	// the baseline.
	for _, t := range tr.Trending("", 2, 10) {
		fmt.Printf("%s count %d velocity %.0f\n", t.Term, t.Count, t.Velocity)
	}
	// Output:
	// eclipse count 59 velocity 51
	// weather count 118 velocity 1
}

func ExampleSketch_Merge() {
	seed := uint64(42)
	shard1, _ := trending.NewSketch(1024, 4, 64, seed)
	shard2, _ := trending.NewSketch(1024, 4, 64, seed)
	shard1.Add("golang", 5)
	shard1.Add("rust", 2)
	shard2.Add("golang", 4)
	shard2.Add("zig", 7)
	shard1.Merge(shard2)
	fmt.Println(shard1.Top(2))
	// Output:
	// [{golang 9} {zig 7}]
}
