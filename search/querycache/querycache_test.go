package querycache_test

import (
	"context"
	"testing"
	"time"

	"github.com/sysblocks/sysblocks/internal/testenv"
	"github.com/sysblocks/sysblocks/search"
	"github.com/sysblocks/sysblocks/search/querycache"
)

func check(t *testing.T, c search.QueryCache) {
	ctx := context.Background()
	ix, _ := search.New(&search.Options{Cache: c, CacheTTL: time.Minute})
	ix.Apply(ctx, search.ChangeEvent{Op: search.OpCreated, Doc: search.Document{ID: "1", Version: 1,
		Fields: map[string]string{"title": "Go generics explained"}}})
	q := search.Query{Text: "generics explaned"}
	first, err := ix.Search(ctx, q)
	if err != nil || first.Total != 1 {
		t.Fatalf("Search = %+v, %v; want one hit", first, err)
	}
	// The entity is deleted, but the hot query is served from the cache.
	ix.Apply(ctx, search.ChangeEvent{Op: search.OpDeleted, Doc: search.Document{ID: "1", Version: 2}})
	second, err := ix.Search(ctx, q)
	if err != nil || second.Total != 1 || second.Hits[0].Doc.Fields["title"] != "Go generics explained" {
		t.Fatalf("cached Search = %+v, %v; want the cached hit", second, err)
	}
	if st := ix.Stats(); st.CacheHits != 1 || st.CacheMisses != 1 || st.CacheErrors != 0 {
		t.Fatalf("stats %+v; want 1 hit, 1 miss, no error", st)
	}
	// Another index sharing the cache answers from it too.
	other, _ := search.New(&search.Options{Cache: c})
	if r, _ := other.Search(ctx, q); r.Total != 1 {
		t.Fatalf("second index got %d hits; want the cached 1", r.Total)
	}
}

func TestMemory(t *testing.T) { check(t, querycache.Memory(100)) }

func TestRedis(t *testing.T) {
	env := testenv.Redis(t)
	check(t, querycache.Redis(env.Client, env.Key("search")+":"))
	n, err := env.Client.Keys(context.Background(), env.Key("search")+":*").Result()
	if err != nil || len(n) != 1 {
		t.Fatalf("keys under the prefix: %v, %v; want one cached result", n, err)
	}
	ttl := env.Client.TTL(context.Background(), n[0]).Val()
	if ttl <= 0 || ttl > time.Minute {
		t.Fatalf("cached result TTL %v; want at most a minute", ttl)
	}
}
