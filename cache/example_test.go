package cache_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"time"

	"github.com/sysblocks/sysblocks/cache"
	"github.com/sysblocks/sysblocks/cache/memstore"
)

// A URL shortener resolves short codes to target URLs in front of its
// database.
func Example() {
	links := map[string]string{"abc1234": "https://example.com/a/very/long/path"} // the database
	lookup := func(ctx context.Context, code string) (string, error) {
		target, ok := links[code]
		if !ok {
			return "", cache.ErrNotFound
		}
		return target, nil
	}
	c, err := cache.New(memstore.New(nil), cache.StringCodec{}, lookup,
		&cache.Options{TTL: time.Hour, NegativeTTL: time.Minute})
	if err != nil {
		panic(err)
	}
	ctx := context.Background()
	for range 3 {
		target, err := c.Get(ctx, "abc1234")
		fmt.Println(target, err)
	}
	for range 2 {
		_, err := c.Get(ctx, "zzzzzzz")
		fmt.Println(errors.Is(err, cache.ErrNotFound))
	}
	st := c.Stats()
	fmt.Printf("hits=%d negative-hits=%d loads=%d\n", st.Hits, st.NegativeHits, st.Loads)
	// Output:
	// https://example.com/a/very/long/path <nil>
	// https://example.com/a/very/long/path <nil>
	// https://example.com/a/very/long/path <nil>
	// true
	// true
	// hits=2 negative-hits=1 loads=2
}

// A code looked up before it exists is remembered as missing for
// NegativeTTL; after that the loader is asked again.
func Example_negativeCaching() {
	now := time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	var mu sync.Mutex
	links := map[string]string{}
	c, _ := cache.New(memstore.New(&memstore.Options{Now: clock}), cache.StringCodec{},
		func(ctx context.Context, code string) (string, error) {
			mu.Lock()
			defer mu.Unlock()
			if t, ok := links[code]; ok {
				return t, nil
			}
			return "", cache.ErrNotFound
		},
		&cache.Options{NegativeTTL: 30 * time.Second, Jitter: -1, Now: clock})
	ctx := context.Background()

	_, err := c.Get(ctx, "new1234")
	fmt.Println(err)
	mu.Lock()
	links["new1234"] = "https://example.com/new" // created elsewhere
	mu.Unlock()
	_, err = c.Get(ctx, "new1234")
	fmt.Println(err, "(negative entry)")
	now = now.Add(30 * time.Second)
	target, err := c.Get(ctx, "new1234")
	fmt.Println(target, err)
	// Output:
	// cache: not found
	// cache: not found (negative entry)
	// https://example.com/new <nil>
}

// After changing the source of truth, Delete the key so that the next Get
// loads the new value.
func ExampleCache_Delete() {
	var mu sync.Mutex
	target := "https://example.com/old"
	c, _ := cache.New(memstore.New(nil), cache.StringCodec{}, func(context.Context, string) (string, error) {
		mu.Lock()
		defer mu.Unlock()
		return target, nil
	}, nil)
	ctx := context.Background()
	v, _ := c.Get(ctx, "abc1234")
	fmt.Println(v)

	mu.Lock()
	target = "https://example.com/new" // UPDATE links SET target = ...
	mu.Unlock()
	v, _ = c.Get(ctx, "abc1234")
	fmt.Println(v, "(cached)")
	_ = c.Delete(ctx, "abc1234")
	v, _ = c.Get(ctx, "abc1234")
	fmt.Println(v)
	// Output:
	// https://example.com/old
	// https://example.com/old (cached)
	// https://example.com/new
}

// In an HTTP redirect handler, ErrNotFound becomes 404 and a load failure
// 503; the request's context bounds only this request's wait, never the
// shared load.
func ExampleCache_Get_redirect() {
	links := map[string]string{"abc1234": "https://example.com/target"}
	c, _ := cache.New(memstore.New(nil), cache.StringCodec{}, func(ctx context.Context, code string) (string, error) {
		if t, ok := links[code]; ok {
			return t, nil
		}
		return "", cache.ErrNotFound
	}, nil)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{code}", func(w http.ResponseWriter, r *http.Request) {
		target, err := c.Get(r.Context(), r.PathValue("code"))
		switch {
		case errors.Is(err, cache.ErrNotFound):
			http.NotFound(w, r)
		case err != nil:
			http.Error(w, "lookup failed", http.StatusServiceUnavailable)
		default:
			http.Redirect(w, r, target, http.StatusFound)
		}
	})
	for _, path := range []string{"/abc1234", "/nope123"} {
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
		fmt.Println(path, rec.Code, rec.Header().Get("Location"))
	}
	// Output:
	// /abc1234 302 https://example.com/target
	// /nope123 404
}
