package search_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/sysblocks/sysblocks/search"
)

// mapCache is a QueryCache over a map that records TTLs; fail makes every
// call fail.
type mapCache struct {
	mu   sync.Mutex
	m    map[string][]byte
	ttls []time.Duration
	fail bool
}

func (c *mapCache) Get(ctx context.Context, key string) ([]byte, bool, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.fail {
		return nil, false, errors.New("cache down")
	}
	v, ok := c.m[key]
	return v, ok, nil
}

func (c *mapCache) Set(ctx context.Context, key string, val []byte, ttl time.Duration) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.fail {
		return errors.New("cache down")
	}
	c.m[key] = append([]byte(nil), val...)
	c.ttls = append(c.ttls, ttl)
	return nil
}

func TestQueryCache(t *testing.T) {
	ctx := context.Background()
	c := &mapCache{m: map[string][]byte{}}
	ix := newHotels(t, &search.Options{Cache: c, CacheTTL: 30 * time.Second, FieldWeights: map[string]int{"name": 3}})
	q := search.Query{Text: "airprot inn"}
	first := mustSearch(t, ix, q)
	if len(c.m) != 1 || c.ttls[0] != 30*time.Second {
		t.Fatalf("cache holds %d entries, ttls %v; want 1 with 30s", len(c.m), c.ttls)
	}
	// The cached page is served even after the index changed, until the TTL.
	ix.Apply(ctx, search.ChangeEvent{Op: search.OpDeleted, Doc: search.Document{ID: "h1", Version: 2}})
	second := mustSearch(t, ix, q)
	if ids(second) != ids(first) || second.Hits[0].Doc.Fields["name"] != "Airport Inn" {
		t.Fatalf("cached result %s; want %s", ids(second), ids(first))
	}
	if st := ix.Stats(); st.CacheHits != 1 || st.CacheMisses != 1 {
		t.Fatalf("hits %d misses %d; want 1 and 1", st.CacheHits, st.CacheMisses)
	}
	// A different page is a different key.
	if got := ids(mustSearch(t, ix, search.Query{Text: "airprot inn", Offset: 1})); got != "" {
		t.Fatalf("page 2 = %q; want empty (h1 deleted, fresh lookup)", got)
	}
	// Queries with a predicate bypass the cache.
	n := len(c.m)
	mustSearch(t, ix, search.Query{Text: "inn", Filter: search.Filter{Match: func(search.Document) bool { return true }}})
	if len(c.m) != n {
		t.Fatal("query with Filter.Match was cached")
	}
	// A failing cache does not fail searches.
	c.fail = true
	if got := ids(mustSearch(t, ix, search.Query{Text: "seaside"})); got != "h4" {
		t.Fatalf("with the cache down, seaside = %q; want h4", got)
	}
	if st := ix.Stats(); st.CacheErrors != 2 {
		t.Fatalf("cache errors %d; want 2 (get and set)", st.CacheErrors)
	}
}
