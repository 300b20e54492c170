package search_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/sysblocks/sysblocks/search"
)

type hotel struct {
	id, name, city string
	price          float64
	stars          []string
	pop            float64
}

var hotels = []hotel{
	{"h1", "Airport Inn", "Paris", 120, []string{"3"}, 50},
	{"h2", "Grand Hotel de l'Opéra", "Paris", 340, []string{"5"}, 90},
	{"h3", "Airport Plaza Conference Center", "Lyon", 95, []string{"4"}, 70},
	{"h4", "Seaside Inn", "Nice", 150, []string{"3"}, 40},
	{"h5", "Inn at the Airport", "Lyon", 80, []string{"2"}, 20},
	{"h6", "Hôtel Zürich Centre", "Zürich", 210, []string{"4"}, 60},
	{"h7", "Paris Airport Hotel", "Roissy", 110, []string{"3"}, 80},
	{"h8", "Budget Rooms", "Paris", 45, []string{"1"}, 10},
}

func hotelDoc(h hotel, version uint64) search.Document {
	return search.Document{
		ID: h.id, Version: version,
		Fields:     map[string]string{"name": h.name, "city": h.city},
		Tags:       map[string][]string{"city": {h.city}, "stars": h.stars},
		Numbers:    map[string]float64{"price": h.price},
		Popularity: h.pop,
	}
}

func newHotels(t testing.TB, opts *search.Options) *search.Index {
	t.Helper()
	if opts == nil {
		opts = &search.Options{FieldWeights: map[string]int{"name": 3, "city": 1}}
	}
	ix, err := search.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range hotels {
		if _, err := ix.Apply(context.Background(), search.ChangeEvent{Op: search.OpCreated, Doc: hotelDoc(h, 1)}); err != nil {
			t.Fatal(err)
		}
	}
	return ix
}

func ids(r search.Result) string {
	var out []string
	for _, h := range r.Hits {
		out = append(out, h.Doc.ID)
	}
	return strings.Join(out, ",")
}

func mustSearch(t testing.TB, ix *search.Index, q search.Query) search.Result {
	t.Helper()
	r, err := ix.Search(context.Background(), q)
	if err != nil {
		t.Fatalf("Search(%+v): %v", q, err)
	}
	return r
}

func TestSearchHotels(t *testing.T) {
	ix := newHotels(t, nil)
	cases := []struct {
		name string
		q    search.Query
		want string
	}{
		// One transposition in a 7-rune word; exact "Airport" hits rank by
		// proximity, field weight and popularity.
		{"typo", search.Query{Text: "airprot"}, "h7,h3,h1,h5"},
		{"two words in order first", search.Query{Text: "airport inn"}, "h1,h5"},
		// "in" has 2 runes: no typo within the budget; with no hit, the
		// widened look allows it one.
		{"typos in both words", search.Query{Text: "airprot in"}, "h1,h5"},
		{"typos in long words", search.Query{Text: "airprot confrence"}, "h3"},
		{"diacritics folded", search.Query{Text: "hotel zurich"}, "h6"},
		{"diacritics in query", search.Query{Text: "Zürich"}, "h6"},
		{"city field", search.Query{Text: "paris"}, "h7,h2,h1,h8"},
		{"fields restricted", search.Query{Text: "paris", Fields: []string{"name"}}, "h7"},
		{"prefix", search.Query{Text: "airp", Prefix: true}, "h7,h3,h1,h5"},
		{"prefix with typo", search.Query{Text: "seasdi", Prefix: true}, "h4"},
		{"prefix after full word", search.Query{Text: "grand hot", Prefix: true}, "h2"},
		{"no prefix without flag", search.Query{Text: "airp"}, ""},
		{"first letter typo costs double", search.Query{Text: "birport"}, "h7,h3,h1,h5"},
		// Over the budget, found by the widened look only.
		{"first letter typo and one more", search.Query{Text: "birprot"}, "h7,h3,h1,h5"},
		{"filter city", search.Query{Text: "airport", Filter: search.Filter{Tags: map[string][]string{"city": {"Lyon"}}}}, "h3,h5"},
		{"filter price", search.Query{Text: "airport", Filter: search.Filter{Ranges: []search.Range{search.AtMost("price", 100)}}}, "h3,h5"},
		{"filter both", search.Query{Text: "inn", Filter: search.Filter{
			Tags: map[string][]string{"stars": {"3", "2"}}, Ranges: []search.Range{search.Between("price", 100, 200)}}}, "h1,h4"},
		{"filter func", search.Query{Text: "airport", Filter: search.Filter{Match: func(d search.Document) bool { return d.ID != "h7" }}}, "h3,h1,h5"},
		{"empty text browses by popularity", search.Query{Filter: search.Filter{Tags: map[string][]string{"city": {"Paris"}}}}, "h2,h1,h8"},
		{"page 2", search.Query{Text: "airport", Offset: 2, Limit: 2}, "h1,h5"},
		{"past the end", search.Query{Text: "airport", Offset: 10}, ""},
		{"min words", search.Query{Text: "seaside budget rooms", MinWords: 1}, "h8,h4"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := mustSearch(t, ix, c.q)
			if got := ids(r); got != c.want {
				t.Errorf("Search(%q) = %q; want %q (hits %+v)", c.q.Text, got, c.want, r.Hits)
			}
		})
	}
	// With StrictTypos the budget is a hard limit.
	strict := newHotels(t, &search.Options{StrictTypos: true})
	for _, c := range []struct{ name, text, want string }{
		{"typos in both words", "airprot in", ""}, // "in" has 2 runes: no typo allowed
		{"first letter typo and one more", "birprot", ""},
		{"first letter typo costs double", "birport", "h7,h3,h1,h5"},
		{"typos in long words", "airprot confrence", "h3"},
	} {
		t.Run("strict/"+c.name, func(t *testing.T) {
			r := mustSearch(t, strict, search.Query{Text: c.text})
			if got := ids(r); got != c.want {
				t.Errorf("Search(%q) = %q; want %q (hits %+v)", c.text, got, c.want, r.Hits)
			}
		})
	}
}

func TestSearchTotalAndFigures(t *testing.T) {
	ix := newHotels(t, nil)
	r := mustSearch(t, ix, search.Query{Text: "airprot inn", Limit: 1})
	if r.Total != 2 || len(r.Hits) != 1 {
		t.Fatalf("got total %d, %d hits; want 2, 1", r.Total, len(r.Hits))
	}
	h := r.Hits[0]
	if h.Doc.ID != "h1" || h.Words != 2 || h.Typos != 1 || h.Proximity != 1 || h.Weight != 6 {
		t.Fatalf("got %+v; want h1 with 2 words, 1 typo, proximity 1, weight 6", h)
	}
	if h.Doc.Fields["name"] != "Airport Inn" || h.Doc.Numbers["price"] != 120 {
		t.Fatalf("hit document %+v; want the stored hotel", h.Doc)
	}
}

func TestTypoBudget(t *testing.T) {
	ix, _ := search.New(&search.Options{FirstTypoCost: 1, StrictTypos: true})
	words := []string{"ox", "cat", "house", "airport", "internationalisation"}
	for i, w := range words {
		ix.Apply(context.Background(), search.ChangeEvent{Op: search.OpCreated, Doc: search.Document{
			ID: fmt.Sprint(i), Version: 1, Fields: map[string]string{"w": w}}})
	}
	cases := []struct {
		q    string
		want bool
	}{
		{"ox", true}, {"ax", false}, // under 3 runes: exact only
		{"cat", true}, {"cta", true}, {"cut", true}, {"cu", false}, {"cuts", false},
		{"hose", true}, {"hoose", true}, {"hoouse", true}, {"hxxse", false},
		{"airprot", true}, {"aiport", true}, {"arport", true}, {"arprto", false}, {"arpt", false},
		{"internationalisaton", true}, {"intrenationalisaton", true}, {"intrenationalizaton", false},
	}
	for _, c := range cases {
		r := mustSearch(t, ix, search.Query{Text: c.q})
		if got := r.Total > 0; got != c.want {
			t.Errorf("Search(%q) found %v (%s); want %v", c.q, got, ids(r), c.want)
		}
	}
	// The widened look, when nothing is found within the budget: one typo
	// more, up to two.
	wide, _ := search.New(&search.Options{FirstTypoCost: 1})
	for i, w := range words {
		wide.Apply(context.Background(), search.ChangeEvent{Op: search.OpCreated, Doc: search.Document{
			ID: fmt.Sprint(i), Version: 1, Fields: map[string]string{"w": w}}})
	}
	for _, c := range []struct {
		q    string
		want bool
	}{
		{"ox", true}, {"ax", true}, {"a", false}, {"cuts", true}, {"cu", false}, {"hxxse", true}, {"hxxxe", false},
		{"arprto", false}, {"intrenationalizaton", false},
	} {
		r := mustSearch(t, wide, search.Query{Text: c.q})
		if got := r.Total > 0; got != c.want {
			t.Errorf("widened: Search(%q) found %v (%s); want %v", c.q, got, ids(r), c.want)
		}
	}
	// Typo tolerance off.
	strict, _ := search.New(&search.Options{TypoLengths: []int{}})
	strict.Apply(context.Background(), search.ChangeEvent{Op: search.OpCreated, Doc: search.Document{ID: "a", Version: 1, Fields: map[string]string{"w": "airport"}}})
	if r := mustSearch(t, strict, search.Query{Text: "airprot"}); r.Total != 0 {
		t.Errorf("with typos off, airprot found %s", ids(r))
	}
	if r := mustSearch(t, strict, search.Query{Text: "AIRPORT"}); r.Total != 1 {
		t.Errorf("with typos off, AIRPORT found %d; want 1", r.Total)
	}
}

func TestFewerTyposRankFirst(t *testing.T) {
	ix, _ := search.New(nil)
	for i, w := range []string{"cart", "card", "care", "cars", "scar"} {
		ix.Apply(context.Background(), search.ChangeEvent{Op: search.OpCreated, Doc: search.Document{
			ID: w, Version: 1, Fields: map[string]string{"w": w}, Popularity: float64(i)}})
	}
	r := mustSearch(t, ix, search.Query{Text: "card"})
	// card: 0 typos; cars, care, cart: 1 typo, by popularity; scar: first
	// letter differs, costs 2 > budget 1: found by the widened look only,
	// after all the others although it is the most popular.
	if got := ids(r); got != "card,cars,care,cart,scar" {
		t.Fatalf("got %s; want card,cars,care,cart,scar", got)
	}
	// A full page within the budget: no widened look.
	r = mustSearch(t, ix, search.Query{Text: "card", Limit: 4})
	if got := ids(r); got != "card,cars,care,cart" || r.Total != 4 {
		t.Fatalf("limit 4: got %s (total %d); want card,cars,care,cart (total 4)", got, r.Total)
	}
}

func TestWidenedLook(t *testing.T) {
	ctx := context.Background()
	build := func(opts *search.Options) *search.Index {
		ix, err := search.New(opts)
		if err != nil {
			t.Fatal(err)
		}
		for i, w := range []string{"ave", "have", "unconstitutional", "constitution"} {
			ix.Apply(ctx, search.ChangeEvent{Op: search.OpCreated, Doc: search.Document{
				ID: w, Version: 1, Fields: map[string]string{"w": w}, Popularity: float64(10 * i)}})
		}
		return ix
	}
	ix := build(nil)
	byPop := build(&search.Options{Ranking: []search.Rule{search.ByPopularity, search.ByTypos}})
	strict := build(&search.Options{StrictTypos: true})
	cases := []struct {
		name  string
		ix    *search.Index
		q     search.Query
		want  string
		total int
	}{
		// "ave" is one deletion away; "have" a swap of the first letter,
		// which costs 2 against a budget of 1 at 4 runes.
		{"fills the page after the budget's hits", ix, search.Query{Text: "ahve"}, "ave,have", 2},
		{"a full page is not widened", ix, search.Query{Text: "ahve", Limit: 1}, "ave", 1},
		{"page 2 follows page 1", ix, search.Query{Text: "ahve", Offset: 1, Limit: 1}, "have", 2},
		{"widened hits rank last whatever the rules", byPop, search.Query{Text: "ahve"}, "ave,have", 2},
		{"strict", strict, search.Query{Text: "ahve"}, "ave", 1},
		{"first letter and one more on a long word", ix, search.Query{Text: "neconstitutional"}, "unconstitutional", 1},
		{"strict long word", strict, search.Query{Text: "neconstitutional"}, "", 0},
		// The last word of a prefix query keeps its budget.
		{"prefix not widened", ix, search.Query{Text: "ahv", Prefix: true}, "ave", 1},
		{"whole words of a prefix query are", ix, search.Query{Text: "ahve ha", Prefix: true}, "have", 1},
		{"beyond the largest budget", ix, search.Query{Text: "nekonstitutionel"}, "", 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := mustSearch(t, c.ix, c.q)
			if got := ids(r); got != c.want || r.Total != c.total {
				t.Errorf("Search(%+v) = %q, total %d; want %q, total %d", c.q, got, r.Total, c.want, c.total)
			}
		})
	}
	r := mustSearch(t, ix, search.Query{Text: "ahve"})
	if h := r.Hits[1]; h.Typos != 2 {
		t.Errorf("widened hit %s has %d typos; want 2 (a first-letter swap)", h.Doc.ID, h.Typos)
	}
}

func TestCatalogues(t *testing.T) {
	ctx := context.Background()
	ix, _ := search.New(&search.Options{FieldWeights: map[string]int{"title": 2}})
	docs := []search.Document{
		{ID: "p1", Version: 1, Fields: map[string]string{"title": "Apple iPhone 15 Pro Max 256GB", "category": "phones"}, Popularity: 9},
		{ID: "p2", Version: 1, Fields: map[string]string{"title": "Samsung Galaxy S24 Ultra", "category": "phones"}, Popularity: 8},
		{ID: "p3", Version: 1, Fields: map[string]string{"title": "Wireless Headphones with Noise Cancelling", "category": "audio"}, Popularity: 7},
		{ID: "t1", Version: 1, Fields: map[string]string{"text": "Just landed at the airport, the lounge is packed #travel"}},
		{ID: "t2", Version: 1, Fields: map[string]string{"text": "Go generics are finally here, rewriting my library"}},
		{ID: "v1", Version: 1, Fields: map[string]string{"title": "How to cook perfect pasta carbonara"}, Popularity: 3},
		{ID: "v2", Version: 1, Fields: map[string]string{"title": "東京 夜景 タイムラプス"}, Popularity: 2},
		{ID: "v3", Version: 1, Fields: map[string]string{"title": "Москва: прогулка по центру"}, Popularity: 1},
	}
	for _, d := range docs {
		if _, err := ix.Apply(ctx, search.ChangeEvent{Op: search.OpCreated, Doc: d}); err != nil {
			t.Fatal(err)
		}
	}
	cases := map[string]string{
		"samsng galxy":        "p2",
		"iphone pro":          "p1",
		"headphnes noise":     "p3",
		"airprot lounge":      "t1",
		"generic":             "t2",
		"carbonarra pasta":    "v1",
		"東京":                  "v2",
		"москва":              "v3",
		"моская":              "v3", // Cyrillic typo, counted in runes
		"wireles headphone":   "p3",
		"apple iphone 256gb":  "p1",
		"noise cancelling ph": "",
	}
	for q, want := range cases {
		if got := ids(mustSearch(t, ix, search.Query{Text: q})); got != want {
			t.Errorf("Search(%q) = %q; want %q", q, got, want)
		}
	}
	if got := ids(mustSearch(t, ix, search.Query{Text: "noise cancelling ph", Prefix: true})); got != "" {
		t.Errorf("prefix ph matched %q; want nothing (no word starts with ph in p3)", got)
	}
	if got := ids(mustSearch(t, ix, search.Query{Text: "wireless head", Prefix: true})); got != "p3" {
		t.Errorf("prefix head = %q; want p3", got)
	}
}

func TestInvalidInput(t *testing.T) {
	ctx := context.Background()
	ix := newHotels(t, nil)
	before := ix.Stats()
	bad := []search.ChangeEvent{
		{Op: search.OpCreated, Doc: search.Document{Version: 1}},
		{Op: search.OpCreated, Doc: search.Document{ID: "x"}},
		{Op: 0, Doc: search.Document{ID: "x", Version: 1}},
		{Op: 9, Doc: search.Document{ID: "x", Version: 1}},
	}
	for _, ev := range bad {
		if _, err := ix.Apply(ctx, ev); !errors.Is(err, search.ErrInvalidDocument) {
			t.Errorf("Apply(%+v) = %v; want ErrInvalidDocument", ev, err)
		}
	}
	queries := []search.Query{
		{Text: "a", Offset: -1}, {Text: "a", Limit: -1}, {Text: "a", Limit: 1001}, {Text: "a", MinWords: -2},
		{Text: "a", Filter: search.Filter{Ranges: []search.Range{{Field: "price", Min: 3, Max: 1}}}},
	}
	for _, q := range queries {
		if _, err := ix.Search(ctx, q); !errors.Is(err, search.ErrInvalidQuery) {
			t.Errorf("Search(%+v) = %v; want ErrInvalidQuery", q, err)
		}
	}
	if after := ix.Stats(); after.Docs != before.Docs || after.Terms != before.Terms || after.Applied != before.Applied {
		t.Errorf("bad input changed the index: %+v -> %+v", before, after)
	}
	for _, o := range []search.Options{
		{TypoLengths: []int{3, 3}}, {TypoLengths: []int{1, 2, 3, 4}}, {FirstTypoCost: 4}, {TypoIndex: 7},
		{DeletePrefix: -1}, {MaxExpansions: -1}, {Ranking: []search.Rule{0}}, {CacheTTL: -1},
	} {
		if _, err := search.New(&o); !errors.Is(err, search.ErrInvalidOptions) {
			t.Errorf("New(%+v) = %v; want ErrInvalidOptions", o, err)
		}
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := ix.Search(cctx, search.Query{Text: "inn"}); !errors.Is(err, context.Canceled) {
		t.Errorf("Search on a cancelled context = %v; want context.Canceled", err)
	}
	if _, err := ix.Apply(cctx, search.ChangeEvent{Op: search.OpDeleted, Doc: search.Document{ID: "h1", Version: 9}}); !errors.Is(err, context.Canceled) {
		t.Errorf("Apply on a cancelled context = %v; want context.Canceled", err)
	}
	if _, ok := ix.Get("h1"); !ok {
		t.Error("a cancelled Apply deleted h1")
	}
}

func TestTokenize(t *testing.T) {
	got := search.Tokenize("L'Hôtel ZÜRICH—Crème brûlée, 42 東京!")
	want := []string{"l", "hotel", "zurich", "creme", "brulee", "42", "東", "京"}
	if !slices.Equal(got, want) {
		t.Fatalf("Tokenize = %q; want %q", got, want)
	}
}
