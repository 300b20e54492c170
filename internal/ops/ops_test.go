package ops

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestHealthzAndMetrics(t *testing.T) {
	o := New("test")
	var fail error
	o.AddCheck("store", func(context.Context) error { return fail })
	hits := 0.0
	o.AddStats("links_cache", "cache counters", func() map[string]float64 {
		return map[string]float64{"hits": hits, "size": 3}
	}, "hits")
	mux := http.NewServeMux()
	o.Register(mux)
	o.Handle(mux, "GET /x/{id}", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusTeapot)
	}))
	srv := httptest.NewServer(mux)
	defer srv.Close()
	get := func(path string) (int, string) {
		res, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	if code, body := get("/healthz"); code != 200 || !strings.Contains(body, `"store":"ok"`) {
		t.Fatalf("healthz = %d %s; want 200 with store ok", code, body)
	}
	fail = errors.New("down")
	if code, body := get("/healthz"); code != 503 || !strings.Contains(body, `"store":"down"`) {
		t.Fatalf("healthz with a failing check = %d %s; want 503 naming the error", code, body)
	}
	get("/x/1")
	hits = 7
	_, m := get("/metrics")
	for _, want := range []string{
		`http_requests_total{code="418",route="GET /x/{id}"} 1`,
		"# TYPE links_cache_hits counter", "links_cache_hits 7",
		"# TYPE links_cache_size gauge", "links_cache_size 3",
		"go_goroutines",
	} {
		if !strings.Contains(m, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}
