package shortener_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/sysblocks/sysblocks/examples/urlshortener/backends"
	"github.com/sysblocks/sysblocks/examples/urlshortener/shortener"
	"github.com/sysblocks/sysblocks/shortid"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// TestAPIMemory drives the service over HTTP on the in-memory stack.
func TestAPIMemory(t *testing.T) { apiSuite(t, memoryStack) }

// The same suite with an in-process cache in front of the memory store
// exercises the cache path (negative entries, invalidation) without servers.
func TestAPIMemoryCached(t *testing.T) {
	apiSuite(t, func(t *testing.T, s backends.Settings) *backends.Stack {
		s.CacheInMemory = true
		return memoryStack(t, s)
	})
}

func TestRedirectStatus(t *testing.T) {
	for _, status := range []int{301, 302, 307, 308} {
		e := start(t, memoryStack, shortener.Config{RedirectStatus: status})
		c := e.create(map[string]any{"url": "https://example.com/"})
		if r := e.do("GET", "/"+c.Code, ""); r.status != status || r.header.Get("Location") != "https://example.com/" {
			t.Errorf("RedirectStatus %d: got %d to %q", status, r.status, r.header.Get("Location"))
		}
	}
	for _, bad := range []int{200, 303, 404} {
		cfg := validConfig(t)
		cfg.RedirectStatus = bad
		if _, err := shortener.New(cfg); err == nil {
			t.Errorf("RedirectStatus %d accepted", bad)
		}
	}
}

func validConfig(t *testing.T) shortener.Config {
	codec := newCodec(t)
	st, err := backends.Memory(backends.Settings{Limit: codec.Space()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	cfg := shortener.Config{Codec: codec}
	st.Apply(&cfg)
	return cfg
}

func TestConfigErrors(t *testing.T) {
	for name, mutate := range map[string]func(*shortener.Config){
		"no codec":     func(c *shortener.Config) { c.Codec = nil },
		"no leaser":    func(c *shortener.Config) { c.Leaser = nil },
		"no links":     func(c *shortener.Config) { c.Links = nil },
		"no counts":    func(c *shortener.Config) { c.Counts = nil },
		"no clicks":    func(c *shortener.Config) { c.Clicks = nil },
		"relative URL": func(c *shortener.Config) { c.BaseURL = "/x" },
		"ftp base":     func(c *shortener.Config) { c.BaseURL = "ftp://sho.rt" },
	} {
		cfg := validConfig(t)
		mutate(&cfg)
		if _, err := shortener.New(cfg); err == nil {
			t.Errorf("%s: New accepted the config", name)
		}
	}
}

func TestRunTwice(t *testing.T) {
	e := start(t, memoryStack, shortener.Config{})
	waitFor(t, func() bool { return e.svc.Stats().Leaser.Fetches > 0 }) // Run has started
	if err := e.svc.Run(context.Background()); !errors.Is(err, shortener.ErrRunning) {
		t.Fatalf("second Run: %v; want ErrRunning", err)
	}
}

// Creation is limited per client address: the burst passes, the next
// request gets 429 with Retry-After, and the bucket refills with time.
func TestRateLimit(t *testing.T) {
	e := start(t, memoryStack, shortener.Config{CreateRate: 0.5, CreateBurst: 3})
	req := body(map[string]any{"url": "https://example.com/"})
	for i := range 3 {
		if r := e.do("POST", "/api/v1/links", req); r.status != http.StatusCreated {
			t.Fatalf("create %d within the burst: %d", i, r.status)
		}
	}
	r := e.do("POST", "/api/v1/links", req)
	if r.status != http.StatusTooManyRequests || r.header.Get("Retry-After") != "2" {
		t.Fatalf("over the burst: %d Retry-After %q; want 429 and 2", r.status, r.header.Get("Retry-After"))
	}
	// Bad requests count too: the limit is on attempts.
	if r := e.do("POST", "/api/v1/links", "garbage"); r.status != http.StatusTooManyRequests {
		t.Fatalf("bad request over the limit: %d; want 429", r.status)
	}
	// Without -trust-proxy, X-Forwarded-For cannot buy a fresh bucket.
	if r := e.do("POST", "/api/v1/links", req, "X-Forwarded-For", "203.0.113.9"); r.status != http.StatusTooManyRequests {
		t.Fatalf("spoofed X-Forwarded-For: %d; want 429", r.status)
	}
	e.clock.Add(2 * time.Second)
	if r := e.do("POST", "/api/v1/links", req); r.status != http.StatusCreated {
		t.Fatalf("after refill: %d; want 201", r.status)
	}
	if r := e.do("POST", "/api/v1/links", req); r.status != http.StatusTooManyRequests {
		t.Fatalf("refill gave more than one token: %d", r.status)
	}
	if got := e.svc.Stats().RateLimited; got != 4 {
		t.Fatalf("RateLimited = %d; want 4", got)
	}
}

// Behind a trusted proxy the rightmost X-Forwarded-For entry is the client.
func TestRateLimitTrustProxy(t *testing.T) {
	e := start(t, memoryStack, shortener.Config{CreateRate: 1, CreateBurst: 1, TrustProxy: true})
	req := body(map[string]any{"url": "https://example.com/"})
	for _, xff := range []string{"198.51.100.1", "10.0.0.1, 198.51.100.2", "198.51.100.3"} {
		if r := e.do("POST", "/api/v1/links", req, "X-Forwarded-For", xff); r.status != http.StatusCreated {
			t.Fatalf("first link from %q: %d", xff, r.status)
		}
	}
	// The same client with a different forged left part is still limited.
	if r := e.do("POST", "/api/v1/links", req, "X-Forwarded-For", "1.2.3.4, 198.51.100.2"); r.status != http.StatusTooManyRequests {
		t.Fatalf("second link from 198.51.100.2: %d; want 429", r.status)
	}
}

// The collision rule between generated codes and aliases, stated and
// checked: every generated code is exactly Length() base62 characters, and
// the alias rules refuse exactly those strings, so the two sets are
// disjoint whatever the token.
func TestCodesAndAliasesDisjoint(t *testing.T) {
	codec := newCodec(t)
	aliases, err := shortid.NewAlias(&shortid.AliasOptions{CodeLength: codec.Length()})
	if err != nil {
		t.Fatal(err)
	}
	for tok := uint64(0); tok < codec.Space(); tok += codec.Space()/10007 + 1 {
		code, err := codec.Encode(tok)
		if err != nil {
			t.Fatal(err)
		}
		if err := aliases.Validate(code); !errors.Is(err, shortid.ErrCodeLike) {
			t.Fatalf("code %s of token %d: alias rules say %v; want ErrCodeLike", code, tok, err)
		}
	}
	// And through the service: an alias equal to an issued code is refused.
	e := start(t, memoryStack, shortener.Config{})
	c := e.create(map[string]any{"url": "https://example.com/"})
	if r := e.do("POST", "/api/v1/links", body(map[string]any{"url": "https://x.example/", "alias": c.Code})); r.status != http.StatusBadRequest {
		t.Fatalf("alias equal to code %s: %d; want 400", c.Code, r.status)
	}
}

// With a code space smaller than 62^7, a 7-character code outside it is
// malformed: 400, and no store call.
func TestCodeOutsideSpace(t *testing.T) {
	codec, err := shortid.New(7, []byte("test key"), &shortid.Options{Space: shortid.Capacity(6)})
	if err != nil {
		t.Fatal(err)
	}
	e := start(t, memoryStack, shortener.Config{Codec: codec})
	c := e.create(map[string]any{"url": "https://example.com/"})
	if r := e.do("GET", "/"+c.Code, ""); r.status != http.StatusFound {
		t.Fatalf("issued code: %d; want 302", r.status)
	}
	outside := ""
	for i := 0; outside == ""; i++ {
		cand := fmt.Sprintf("zz%05d", i)
		if _, err := codec.Decode(cand); errors.Is(err, shortid.ErrRange) {
			outside = cand
		}
	}
	calls := e.links.calls.Load()
	if r := e.do("GET", "/"+outside, ""); r.status != http.StatusBadRequest {
		t.Fatalf("GET /%s outside the code space: %d; want 400", outside, r.status)
	}
	if e.links.calls.Load() != calls {
		t.Fatal("a code outside the space reached the store")
	}
}

func TestClickRoundTrip(t *testing.T) {
	in := shortener.Click{
		Code: "abc1234", Time: time.UnixMilli(1_900_000_000_123).UTC(),
		UserAgent: strings.Repeat("u", 300), Referrer: "https://ref.example/", Country: "DE",
	}
	got, err := shortener.DecodeClick(shortener.AppendClick(nil, &in))
	if err != nil {
		t.Fatal(err)
	}
	want := in
	want.UserAgent = in.UserAgent[:256]
	if got != want {
		t.Fatalf("round trip: %+v; want %+v", got, want)
	}
}

func FuzzDecodeClick(f *testing.F) {
	f.Add(shortener.AppendClick(nil, &shortener.Click{Code: "abc1234", Time: time.UnixMilli(1), UserAgent: "Mozilla", Country: "FR"}))
	f.Add([]byte{1})
	f.Add([]byte{1, 0, 0, 0, 0, 0})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := shortener.DecodeClick(b)
		if err != nil {
			return
		}
		again, err := shortener.DecodeClick(shortener.AppendClick(nil, &c))
		if err != nil || again != c {
			t.Fatalf("re-encoding %+v gave %+v, %v", c, again, err)
		}
	})
}

// The redirect path of the service, in memory mode, against a bare
// handler writing a fixed 302: both through httptest.NewRecorder.
func BenchmarkRedirect(b *testing.B) {
	codec, _ := shortid.New(7, []byte("bench"), nil)
	st, _ := backends.Memory(backends.Settings{Limit: codec.Space()})
	defer st.Close()
	cfg := shortener.Config{Codec: codec, BaseURL: base, CreateRate: -1}
	st.Apply(&cfg)
	svc, err := shortener.New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = svc.Run(ctx) }()
	defer func() { cancel(); <-done }()
	l, err := svc.Create(ctx, shortener.CreateRequest{URL: "https://example.com/some/long/target?x=1"})
	if err != nil {
		b.Fatal(err)
	}
	h := svc.Handler()
	req := httptest.NewRequest("GET", "/"+l.Code, nil)
	req.Header.Set("User-Agent", "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0")
	b.Run("service", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			w := httptest.NewRecorder()
			h.ServeHTTP(w, req)
			if w.Code != http.StatusFound {
				b.Fatal(w.Code)
			}
		}
	})
	bare := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Location", "https://example.com/some/long/target?x=1")
		w.WriteHeader(http.StatusFound)
	})
	b.Run("bare", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			w := httptest.NewRecorder()
			bare.ServeHTTP(w, req)
		}
	})
}
