package search_test

import (
	"context"
	"testing"

	"github.com/sysblocks/sysblocks/search"
)

// product is a row of the shop case study's catalogue.
type product struct {
	id, title, brand, category string
	price, sales               float64
}

var products = []product{
	{"p1", "Wireless Headphones with Noise Cancelling", "Sony", "audio", 299, 900},
	{"p2", "Wireless Earbuds", "Anker", "audio", 59, 1500},
	{"p3", "Wired Headphones Studio Monitor", "Audio-Technica", "audio", 149, 400},
	{"p4", "Kids Wireless Headphones", "JBL", "audio", 39, 700},
	{"p5", "Headphone Stand Aluminium", "Satechi", "accessories", 45, 300},
	{"p6", "Bluetooth Speaker Waterproof", "JBL", "audio", 89, 1200},
	{"p7", "Wireless Mouse", "Logitech", "computers", 25, 2000},
	{"p8", "Noise Cancelling Wireless Headphones Pro", "Bose", "audio", 349, 1100},
}

func productDoc(p product, version uint64) search.Document {
	return search.Document{
		ID: p.id, Version: version,
		Fields:     map[string]string{"title": p.title, "brand": p.brand},
		Tags:       map[string][]string{"category": {p.category}},
		Numbers:    map[string]float64{"price": p.price},
		Popularity: p.sales,
	}
}

// TestShopProducts covers what the shop example needs from the index:
// typo-tolerant product search, a price range and a category filter, the
// best sellers first among equal matches, browsing a category without
// text, and price changes and removals arriving as change events.
func TestShopProducts(t *testing.T) {
	ctx := context.Background()
	ix, err := search.New(&search.Options{FieldWeights: map[string]int{"title": 3, "brand": 2}})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range products {
		if _, err := ix.Apply(ctx, search.ChangeEvent{Op: search.OpCreated, Doc: productDoc(p, 1)}); err != nil {
			t.Fatal(err)
		}
	}
	audio := map[string][]string{"category": {"audio"}}
	cases := []struct {
		name string
		q    search.Query
		want string
	}{
		// Same words, same typos, same field: best sellers first. p3
		// ("Wired") and p5 (a stand) lack "wireless".
		{"typos, by sales", search.Query{Text: "wireles headphnes"}, "p8,p1,p4"},
		{"under 100", search.Query{Text: "wireles headphnes", Filter: search.Filter{
			Ranges: []search.Range{search.AtMost("price", 100)}}}, "p4"},
		{"price band", search.Query{Text: "wireless", Filter: search.Filter{
			Ranges: []search.Range{search.Between("price", 50, 300)}}}, "p2,p1"},
		{"category and price", search.Query{Text: "wireless", Filter: search.Filter{Tags: audio,
			Ranges: []search.Range{search.AtLeast("price", 50)}}}, "p2,p8,p1"},
		{"brand field", search.Query{Text: "jbl"}, "p6,p4"},
		{"browse a category by sales", search.Query{Filter: search.Filter{Tags: audio}, Limit: 3}, "p2,p6,p8"},
		{"search as you type", search.Query{Text: "noise canc", Prefix: true}, "p8,p1"},
		{"page 2 by sales", search.Query{Text: "wireless", Offset: 2, Limit: 2}, "p8,p1"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := ids(mustSearch(t, ix, c.q)); got != c.want {
				t.Errorf("Search(%+v) = %q; want %q", c.q, got, c.want)
			}
		})
	}

	// A price drop (version 2) brings p1 under 100; a stale copy of the
	// old price (version 1, redelivered) changes nothing; a removal takes
	// p4 out.
	cheap := products[0]
	cheap.price = 99
	under100 := search.Query{Text: "wireless headphones", Filter: search.Filter{Ranges: []search.Range{search.AtMost("price", 100)}}}
	for _, ev := range []search.ChangeEvent{
		{Op: search.OpUpdated, Doc: productDoc(cheap, 2)},
		{Op: search.OpUpdated, Doc: productDoc(products[0], 1)},
		{Op: search.OpDeleted, Doc: search.Document{ID: "p4", Version: 2}},
	} {
		if _, err := ix.Apply(ctx, ev); err != nil {
			t.Fatal(err)
		}
	}
	r := mustSearch(t, ix, under100)
	if got := ids(r); got != "p1" || r.Hits[0].Doc.Numbers["price"] != 99 {
		t.Errorf("after the price drop and removal: %q (%+v); want p1 at 99", got, r.Hits)
	}
}

// video is a row of the video case study's metadata.
type video struct {
	id, title, description, channel string
	views                           float64
}

// TestVideoTitles covers what the video example needs: titles weigh more
// than descriptions, views order equal matches, typos and search as you
// type work on titles, titles in other scripts are searchable, and a
// retitled video is found by its new title only.
func TestVideoTitles(t *testing.T) {
	ctx := context.Background()
	ix, err := search.New(&search.Options{FieldWeights: map[string]int{"title": 3, "channel": 2}})
	if err != nil {
		t.Fatal(err)
	}
	videos := []video{
		{"v1", "How to cook perfect pasta carbonara", "Eggs, pecorino, guanciale and pepper", "Kitchen Lab", 12000},
		{"v2", "Carbonara in 5 minutes", "A quick weeknight pasta", "Fast Food Home", 50000},
		{"v3", "Rome food tour", "We eat carbonara, cacio e pepe and supplì", "Travel Eats", 90000},
		{"v4", "東京 夜景 タイムラプス", "Tokyo night timelapse", "Japan Walks", 30000},
		{"v5", "Solar eclipse timelapse 4K", "Totality from Oregon", "Sky Watch", 70000},
		{"v6", "Crème brûlée masterclass", "Vanilla custard and caramel", "Kitchen Lab", 8000},
	}
	for _, v := range videos {
		doc := search.Document{ID: v.id, Version: 1, Popularity: v.views,
			Fields: map[string]string{"title": v.title, "description": v.description, "channel": v.channel}}
		if _, err := ix.Apply(ctx, search.ChangeEvent{Op: search.OpCreated, Doc: doc}); err != nil {
			t.Fatal(err)
		}
	}
	cases := []struct {
		name string
		q    search.Query
		want string
	}{
		// v3 has far more views, but only in its description.
		{"title before description", search.Query{Text: "carbonara"}, "v2,v1,v3"},
		{"typo in a title", search.Query{Text: "carbonarra pasta"}, "v1,v2"},
		{"search as you type", search.Query{Text: "solar ecl", Prefix: true}, "v5"},
		{"timelapse by views", search.Query{Text: "timelapse"}, "v5,v4"},
		{"other scripts", search.Query{Text: "東京"}, "v4"},
		{"diacritics", search.Query{Text: "creme brulee"}, "v6"},
		{"channel", search.Query{Text: "kitchen lab"}, "v1,v6"},
		{"titles only", search.Query{Text: "pepper", Fields: []string{"title"}}, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := ids(mustSearch(t, ix, c.q)); got != c.want {
				t.Errorf("Search(%+v) = %q; want %q", c.q, got, c.want)
			}
		})
	}
	retitled := search.Document{ID: "v2", Version: 2, Popularity: 50000,
		Fields: map[string]string{"title": "Weeknight spaghetti", "description": "A quick weeknight pasta", "channel": "Fast Food Home"}}
	if _, err := ix.Apply(ctx, search.ChangeEvent{Op: search.OpUpdated, Doc: retitled}); err != nil {
		t.Fatal(err)
	}
	for q, want := range map[string]string{"carbonara": "v1,v3", "spagheti": "v2"} {
		if got := ids(mustSearch(t, ix, search.Query{Text: q})); got != want {
			t.Errorf("after retitling, Search(%q) = %q; want %q", q, got, want)
		}
	}
}
