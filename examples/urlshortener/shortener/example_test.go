package shortener_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"strings"

	"github.com/sysblocks/sysblocks/examples/urlshortener/backends"
	"github.com/sysblocks/sysblocks/examples/urlshortener/shortener"
	"github.com/sysblocks/sysblocks/shortid"
)

// A shortener on the in-memory stack: create a link over HTTP and follow
// it.
func Example() {
	codec, _ := shortid.New(7, []byte("example key"), nil)
	stack, _ := backends.Memory(backends.Settings{Limit: codec.Space()})
	defer stack.Close()
	cfg := shortener.Config{Codec: codec, BaseURL: "https://sho.rt"}
	stack.Apply(&cfg)
	svc, err := shortener.New(cfg)
	if err != nil {
		panic(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = svc.Run(ctx) }()
	defer func() { cancel(); <-done }()
	h := svc.Handler()

	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("POST", "/api/v1/links", strings.NewReader(`{"url": "https://example.com/a/long/path"}`)))
	fmt.Println(rec.Code, strings.TrimSpace(rec.Body.String()))

	code := rec.Header().Get("Location")[len("/api/v1/links/"):]
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/"+code, nil))
	fmt.Println(rec.Code, rec.Header().Get("Location"))

	for _, path := range []string{"/zzzzzzz", "/admin", "/no-such-alias"} {
		rec = httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
		fmt.Println(path, rec.Code)
	}
	// Output:
	// 201 {"code":"Q6wQT9p","short_url":"https://sho.rt/Q6wQT9p","target":"https://example.com/a/long/path"}
	// 302 https://example.com/a/long/path
	// /zzzzzzz 404
	// /admin 400
	// /no-such-alias 404
}
