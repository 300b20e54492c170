package search_test

import (
	"context"
	"fmt"

	"github.com/sysblocks/sysblocks/search"
)

func Example() {
	ctx := context.Background()
	ix, _ := search.New(&search.Options{FieldWeights: map[string]int{"name": 2}})
	// Change events from the hotels table, as a Kafka consumer delivers them.
	for _, ev := range []search.ChangeEvent{
		{Op: search.OpCreated, Doc: search.Document{ID: "1", Version: 1,
			Fields: map[string]string{"name": "Airport Inn", "city": "Paris"}, Numbers: map[string]float64{"price": 120}}},
		{Op: search.OpCreated, Doc: search.Document{ID: "2", Version: 1,
			Fields: map[string]string{"name": "Grand Hôtel", "city": "Paris"}, Numbers: map[string]float64{"price": 340}}},
		{Op: search.OpCreated, Doc: search.Document{ID: "3", Version: 1,
			Fields: map[string]string{"name": "Inn at the Airport", "city": "Lyon"}, Numbers: map[string]float64{"price": 80}}},
	} {
		ix.Apply(ctx, ev)
	}
	res, _ := ix.Search(ctx, search.Query{Text: "airprot inn"})
	for _, h := range res.Hits {
		fmt.Printf("%s (typos %d, proximity %d)\n", h.Doc.Fields["name"], h.Typos, h.Proximity)
	}
	// Output:
	// Airport Inn (typos 1, proximity 1)
	// Inn at the Airport (typos 1, proximity 4)
}

func ExampleIndex_Apply() {
	ctx := context.Background()
	ix, _ := search.New(nil)
	v2 := search.Document{ID: "7", Version: 2, Fields: map[string]string{"title": "Cooking pasta"}}
	v1 := search.Document{ID: "7", Version: 1, Fields: map[string]string{"title": "Cooking rice"}}
	fmt.Println(ix.Apply(ctx, search.ChangeEvent{Op: search.OpUpdated, Doc: v2}))
	// The older event arrives late, or again: it is ignored.
	fmt.Println(ix.Apply(ctx, search.ChangeEvent{Op: search.OpCreated, Doc: v1}))
	fmt.Println(ix.Apply(ctx, search.ChangeEvent{Op: search.OpDeleted, Doc: search.Document{ID: "7", Version: 3}}))
	fmt.Println(ix.Len(), ix.Version("7"))
	// Output:
	// true <nil>
	// false <nil>
	// true <nil>
	// 0 3
}

func ExampleIndex_Search_prefix() {
	ctx := context.Background()
	ix, _ := search.New(nil)
	for i, title := range []string{"Airport lounge tour", "Airplane food review", "Fairport convention live"} {
		ix.Apply(ctx, search.ChangeEvent{Op: search.OpCreated, Doc: search.Document{
			ID: fmt.Sprint(i), Version: 1, Fields: map[string]string{"title": title}, Popularity: float64(i)}})
	}
	// Search as you type: the last word is a prefix, with its own typo
	// budget ("airpo" may have one typo, so "airpl" qualifies, ranked after
	// the exact prefix).
	for _, typed := range []string{"air", "airpo", "arpo"} {
		res, _ := ix.Search(ctx, search.Query{Text: typed, Prefix: true})
		fmt.Printf("%-6s", typed)
		for _, h := range res.Hits {
			fmt.Printf(" | %s", h.Doc.Fields["title"])
		}
		fmt.Println()
	}
	// Output:
	// air    | Airplane food review | Airport lounge tour
	// airpo  | Airport lounge tour | Airplane food review
	// arpo   | Airport lounge tour
}

func ExampleIndex_Search_filter() {
	ctx := context.Background()
	ix, _ := search.New(nil)
	for i, h := range []struct {
		name, city string
		price      float64
	}{{"Seaside Inn", "Nice", 150}, {"Budget Inn", "Nice", 60}, {"Royal Inn", "Paris", 90}} {
		ix.Apply(ctx, search.ChangeEvent{Op: search.OpCreated, Doc: search.Document{
			ID: fmt.Sprint(i), Version: 1, Fields: map[string]string{"name": h.name},
			Tags: map[string][]string{"city": {h.city}}, Numbers: map[string]float64{"price": h.price}}})
	}
	res, _ := ix.Search(ctx, search.Query{Text: "inn", Filter: search.Filter{
		Tags:   map[string][]string{"city": {"Nice"}},
		Ranges: []search.Range{search.AtMost("price", 100)},
	}})
	for _, h := range res.Hits {
		fmt.Println(h.Doc.Fields["name"])
	}
	// Output:
	// Budget Inn
}

func ExampleDistance() {
	fmt.Println(search.Distance("airprot", "airport"))
	fmt.Println(search.Distance("Zürich", "Zurich"))
	// Output:
	// 1
	// 1
}
