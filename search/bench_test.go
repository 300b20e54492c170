package search_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/sysblocks/sysblocks/search"
)

// catalogue builds an index of n hotel-like documents from the model.
func catalogue(b *testing.B, n int, opts *search.Options) (*search.Index, *world) {
	w := newWorld(9)
	for i := range n {
		id := fmt.Sprintf("e%d", i)
		w.docs[id] = w.randomDoc(id, 1)
	}
	w.next = n
	ix, _ := search.New(opts)
	ix.Rebuild(context.Background(), &memSource{docs: w.docs})
	return ix, w
}

func BenchmarkSearch(b *testing.B) {
	ctx := context.Background()
	for _, mode := range []struct {
		name string
		opts *search.Options
	}{{"deletes", nil}, {"deletes-strict", &search.Options{StrictTypos: true}}, {"walk", &search.Options{TypoIndex: search.SortedWalk}}} {
		ix, _ := catalogue(b, 20000, mode.opts)
		for _, q := range []search.Query{
			{Text: "airprot"}, {Text: "grand hotel paris"}, {Text: "seasid gardn", MinWords: 1},
			{Text: "pala", Prefix: true}, {Text: "zurich", Filter: search.Filter{Ranges: []search.Range{search.AtMost("price", 100)}}},
		} {
			b.Run(fmt.Sprintf("%s/%s/prefix=%v", mode.name, q.Text, q.Prefix), func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if _, err := ix.Search(ctx, q); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

func BenchmarkApply(b *testing.B) {
	ctx := context.Background()
	ix, w := catalogue(b, 20000, nil)
	r := rand.New(rand.NewPCG(1, 1))
	b.ReportAllocs()
	v := uint64(1 << 40)
	for b.Loop() {
		v++
		d := w.randomDoc(fmt.Sprintf("e%d", r.IntN(w.next)), v)
		if _, err := ix.Apply(ctx, search.ChangeEvent{Op: search.OpUpdated, Doc: d}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSearchParallel(b *testing.B) {
	ctx := context.Background()
	ix, _ := catalogue(b, 20000, nil)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			ix.Search(ctx, search.Query{Text: "airprot inn"})
		}
	})
}

func BenchmarkDistance(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		search.Distance("internationalisation", "intrenationalizaton")
	}
}
