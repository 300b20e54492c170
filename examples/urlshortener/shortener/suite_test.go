package shortener_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sysblocks/sysblocks/examples/urlshortener/backends"
	"github.com/sysblocks/sysblocks/examples/urlshortener/shortener"
	"github.com/sysblocks/sysblocks/shortid"
)

const base = "http://sho.rt"

// clock is a settable clock shared by the service and its stores.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock {
	// Near the real time: Kafka refuses message timestamps far from it.
	return &clock{t: time.Now().UTC().Truncate(time.Second)}
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// countingLinks counts every call into the link store, to prove that
// malformed codes never reach it.
type countingLinks struct {
	shortener.LinkStore
	calls atomic.Int64
}

func (c *countingLinks) Put(ctx context.Context, l shortener.Link) error {
	c.calls.Add(1)
	return c.LinkStore.Put(ctx, l)
}

func (c *countingLinks) Claim(ctx context.Context, l shortener.Link) error {
	c.calls.Add(1)
	return c.LinkStore.Claim(ctx, l)
}

func (c *countingLinks) Get(ctx context.Context, code string) (shortener.Link, error) {
	c.calls.Add(1)
	return c.LinkStore.Get(ctx, code)
}

func (c *countingLinks) Delete(ctx context.Context, code string) error {
	c.calls.Add(1)
	return c.LinkStore.Delete(ctx, code)
}

// env is one running service behind an httptest server.
type env struct {
	t      *testing.T
	srv    *httptest.Server
	svc    *shortener.Service
	clock  *clock
	links  *countingLinks
	codec  *shortid.Codec
	client *http.Client
}

// stackFunc builds the storage of a test service.
type stackFunc func(t *testing.T, s backends.Settings) *backends.Stack

func memoryStack(t *testing.T, s backends.Settings) *backends.Stack {
	st, err := backends.Memory(s)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func newCodec(t *testing.T) *shortid.Codec {
	c, err := shortid.New(7, []byte("test key"), nil)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// start runs a service on the stack from mk, with cfg's non-backend fields
// (the zero Config gives an unlimited creation rate and base URL
// http://sho.rt).
func start(t *testing.T, mk stackFunc, cfg shortener.Config) *env {
	t.Helper()
	clk := newClock()
	codec := cfg.Codec
	if codec == nil {
		codec = newCodec(t)
	}
	st := mk(t, backends.Settings{Limit: codec.Space(), Now: clk.Now})
	t.Cleanup(func() { _ = st.Close() })
	st.Apply(&cfg)
	links := &countingLinks{LinkStore: cfg.Links}
	cfg.Links = links
	cfg.Codec = codec
	cfg.Now = clk.Now
	if cfg.BaseURL == "" {
		cfg.BaseURL = base
	}
	if cfg.CreateRate == 0 {
		cfg.CreateRate = -1
	}
	cfg.ClickDelay = 20 * time.Millisecond
	cfg.CountFlush = 20 * time.Millisecond
	svc, err := shortener.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := svc.Run(ctx); err != nil {
			t.Errorf("Run: %v", err)
		}
	}()
	srv := httptest.NewServer(svc.Handler())
	t.Cleanup(func() {
		srv.Close()
		cancel()
		<-done
	})
	client := &http.Client{
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		Timeout:       time.Minute,
	}
	t.Cleanup(client.CloseIdleConnections)
	return &env{t: t, srv: srv, svc: svc, clock: clk, links: links, codec: codec, client: client}
}

type response struct {
	status int
	header http.Header
	body   []byte
}

func (r response) json(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("body %q: %v", r.body, err)
	}
}

func (e *env) do(method, path string, body string, hdr ...string) response {
	e.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, e.srv.URL+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	res, err := e.client.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return response{status: res.StatusCode, header: res.Header, body: b}
}

type created struct {
	Code      string     `json:"code"`
	ShortURL  string     `json:"short_url"`
	Target    string     `json:"target"`
	ExpiresAt *time.Time `json:"expires_at"`
}

func body(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// create posts a link and requires 201.
func (e *env) create(req map[string]any) created {
	e.t.Helper()
	r := e.do("POST", "/api/v1/links", body(req))
	if r.status != http.StatusCreated {
		e.t.Fatalf("create %v: %d %s; want 201", req, r.status, r.body)
	}
	var c created
	r.json(e.t, &c)
	return c
}

func uniqueAlias(prefix string) string {
	return fmt.Sprintf("%s-%d", prefix, time.Now().UnixNano()%1_000_000_000)
}

// apiSuite drives the service over HTTP: every case the example promises,
// in either mode. Cases share one service and use codes of their own.
func apiSuite(t *testing.T, mk stackFunc) {
	e := start(t, mk, shortener.Config{})
	t.Run("CreateRedirectInfo", func(t *testing.T) { e.t = t; testCreateRedirectInfo(e) })
	t.Run("BadURLs", func(t *testing.T) { e.t = t; testBadURLs(e) })
	t.Run("BadBodies", func(t *testing.T) { e.t = t; testBadBodies(e) })
	t.Run("Aliases", func(t *testing.T) { e.t = t; testAliases(e) })
	t.Run("AliasRace", func(t *testing.T) { e.t = t; testAliasRace(e) })
	t.Run("UnknownAndMalformedCodes", func(t *testing.T) { e.t = t; testCodes(e) })
	t.Run("Delete", func(t *testing.T) { e.t = t; testDelete(e) })
	t.Run("ClicksAndBots", func(t *testing.T) { e.t = t; testClicks(e) })
	t.Run("Expiry", func(t *testing.T) { e.t = t; testExpiry(e) }) // moves the clock: keep last
	t.Run("HealthAndMetrics", func(t *testing.T) { e.t = t; testOps(e) })
}

func testCreateRedirectInfo(e *env) {
	t := e.t
	const target = "https://example.com/a/long/path?q=1&r=two#frag"
	c := e.create(map[string]any{"url": target})
	if len(c.Code) != 7 || c.ShortURL != base+"/"+c.Code || c.Target != target || c.ExpiresAt != nil {
		t.Fatalf("created %+v; want a 7-character code under %s", c, base)
	}
	r := e.do("GET", "/"+c.Code, "")
	if r.status != http.StatusFound || r.header.Get("Location") != target {
		t.Fatalf("GET /%s: %d Location %q; want 302 to %q", c.Code, r.status, r.header.Get("Location"), target)
	}
	if r := e.do("HEAD", "/"+c.Code, ""); r.status != http.StatusFound || r.header.Get("Location") != target {
		t.Fatalf("HEAD /%s: %d; want 302", c.Code, r.status)
	}
	r = e.do("GET", "/api/v1/links/"+c.Code, "")
	var info shortener.LinkInfo
	r.json(t, &info)
	if r.status != http.StatusOK || info.Code != c.Code || info.Target != target || info.Alias || info.Expired ||
		info.ExpiresAt != nil || !info.CreatedAt.Equal(e.clock.Now()) || info.ShortURL != c.ShortURL {
		t.Fatalf("info: %d %+v; want 200 with target, created now, no expiry", r.status, info)
	}
	// Codes are scrambled: two consecutive links do not look consecutive,
	// and each decodes to a distinct token.
	d := e.create(map[string]any{"url": target})
	t1, err1 := e.codec.Decode(c.Code)
	t2, err2 := e.codec.Decode(d.Code)
	if err1 != nil || err2 != nil || t1 == t2 || c.Code == d.Code {
		t.Fatalf("codes %s (%d, %v) and %s (%d, %v): want two valid distinct codes", c.Code, t1, err1, d.Code, t2, err2)
	}
}

func testBadURLs(e *env) {
	t := e.t
	long := "https://example.com/" + strings.Repeat("a", shortener.MaxURLLength-len("https://example.com/"))
	if c := e.create(map[string]any{"url": long}); c.Target != long {
		t.Fatalf("a %d-byte URL was not kept whole", len(long))
	}
	cases := []struct{ name, url string }{
		{"empty", ""},
		{"too long", long + "a"},
		{"javascript", "javascript:alert(1)"},
		{"javascript upper case", "JavaScript:alert(document.cookie)"},
		{"data", "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg=="},
		{"file", "file:///etc/passwd"},
		{"ftp", "ftp://example.com/file"},
		{"relative", "/just/a/path"},
		{"no scheme", "example.com/page"},
		{"scheme-relative", "//example.com/page"},
		{"no host", "http:///path"},
		{"opaque", "http:example.com"},
		{"userinfo", "https://user:secret@example.com/"},
		{"userinfo disguise", "https://trusted.example@evil.example/"},
		{"own host", base + "/abcdefg"},
		{"own host case and dot", "HTTPS://SHO.RT./x"},
		{"own host other port", "http://sho.rt:8443/x"},
		{"space", "https://example.com/a b"},
		{"newline", "https://example.com/\r\nSet-Cookie: x=y"},
		{"non-ascii", "https://example.com/café"},
		{"bad port", "https://example.com:99999/"},
		{"bad escape", "https://example.com/%zz"},
	}
	before, calls := e.svc.Stats().Created, e.links.calls.Load()
	for _, c := range cases {
		r := e.do("POST", "/api/v1/links", body(map[string]any{"url": c.url}))
		var er struct{ Error, Field string }
		r.json(t, &er)
		if r.status != http.StatusBadRequest || er.Field != "url" {
			t.Errorf("%s %q: %d %s; want 400 on field url", c.name, c.url, r.status, r.body)
		}
	}
	if st := e.svc.Stats(); st.Created != before || e.links.calls.Load() != calls {
		t.Fatalf("bad URLs reached the store: created %d -> %d, store calls %d -> %d", before, st.Created, calls, e.links.calls.Load())
	}
}

func testBadBodies(e *env) {
	t := e.t
	for _, b := range []string{
		"not json",
		`{"url": 12}`,
		`{"url": "https://example.com/", "extra": 1}`,
		`{"url": "https://example.com/"} {"url": "https://example.com/"}`,
		`{"url": "https://example.com/", "expires_at": "tomorrow"}`,
		`{"url": "https://example.com/", "pad": "` + strings.Repeat("x", 20<<10) + `"}`,
	} {
		if r := e.do("POST", "/api/v1/links", b); r.status != http.StatusBadRequest {
			t.Errorf("body %.60q: %d %s; want 400", b, r.status, r.body)
		}
	}
	past := e.clock.Now().Add(-time.Second)
	r := e.do("POST", "/api/v1/links", body(map[string]any{"url": "https://example.com/", "expires_at": past}))
	if r.status != http.StatusBadRequest || !bytes.Contains(r.body, []byte("expires_at")) {
		t.Errorf("expiry in the past: %d %s; want 400 on expires_at", r.status, r.body)
	}
}

func testAliases(e *env) {
	t := e.t
	alias := uniqueAlias("spring-sale")
	c := e.create(map[string]any{"url": "https://example.com/sale", "alias": alias})
	if c.Code != alias || c.ShortURL != base+"/"+alias {
		t.Fatalf("created %+v; want code %q", c, alias)
	}
	if r := e.do("GET", "/"+alias, ""); r.status != http.StatusFound || r.header.Get("Location") != "https://example.com/sale" {
		t.Fatalf("GET /%s: %d; want 302", alias, r.status)
	}
	r := e.do("POST", "/api/v1/links", body(map[string]any{"url": "https://other.example/", "alias": alias}))
	if r.status != http.StatusConflict {
		t.Fatalf("duplicate alias: %d %s; want 409", r.status, r.body)
	}
	if r := e.do("GET", "/"+alias, ""); r.header.Get("Location") != "https://example.com/sale" {
		t.Fatalf("a refused claim changed the link: Location %q", r.header.Get("Location"))
	}
	// The collision rule: an alias may not have the shape of a generated
	// code (7 base62 characters), so no alias can equal a code issued
	// later; 7 characters with a '-' are fine.
	codeShaped := e.create(map[string]any{"url": "https://example.com/"}).Code
	bad := []string{"ab", "sale!", "has space", "admin", "healthz", "metrics", "Status", codeShaped, "abcdefg", "-start", strings.Repeat("a", 33)}
	for _, a := range bad {
		r := e.do("POST", "/api/v1/links", body(map[string]any{"url": "https://example.com/", "alias": a}))
		var er struct{ Error, Field string }
		r.json(t, &er)
		if r.status != http.StatusBadRequest || er.Field != "alias" {
			t.Errorf("alias %q: %d %s; want 400 on field alias", a, r.status, r.body)
		}
	}
	dash := fmt.Sprintf("a-%05d", time.Now().UnixNano()%100000)
	if c := e.create(map[string]any{"url": "https://example.com/", "alias": dash}); c.Code != dash {
		t.Fatalf("7-character alias with a dash: %+v", c)
	}
}

func testAliasRace(e *env) {
	t := e.t
	alias := uniqueAlias("race")
	const n = 50
	statuses := make([]int, n)
	var wg sync.WaitGroup
	gate := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-gate
			req, _ := http.NewRequest("POST", e.srv.URL+"/api/v1/links",
				strings.NewReader(body(map[string]any{"url": fmt.Sprintf("https://claimant%d.example/", i), "alias": alias})))
			res, err := e.client.Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			_, _ = io.Copy(io.Discard, res.Body)
			res.Body.Close()
			statuses[i] = res.StatusCode
		})
	}
	close(gate)
	wg.Wait()
	winner, conflicts := -1, 0
	for i, s := range statuses {
		switch s {
		case http.StatusCreated:
			if winner >= 0 {
				t.Fatalf("claimants %d and %d both got 201", winner, i)
			}
			winner = i
		case http.StatusConflict:
			conflicts++
		default:
			t.Errorf("claimant %d: status %d; want 201 or 409", i, s)
		}
	}
	if winner < 0 || conflicts != n-1 {
		t.Fatalf("one 201 and %d 409s wanted; got winner %d and %d conflicts", n-1, winner, conflicts)
	}
	r := e.do("GET", "/"+alias, "")
	if want := fmt.Sprintf("https://claimant%d.example/", winner); r.header.Get("Location") != want {
		t.Fatalf("alias redirects to %q; want the winner's %q", r.header.Get("Location"), want)
	}
}

func testCodes(e *env) {
	t := e.t
	never, _ := e.codec.Encode(e.codec.Space() - 1) // a valid code no one was given
	for _, path := range []string{"/" + never, "/no-such-alias", "/api/v1/links/" + never} {
		if r := e.do("GET", path, ""); r.status != http.StatusNotFound {
			t.Errorf("GET %s: %d %s; want 404", path, r.status, r.body)
		}
	}
	if r := e.do("DELETE", "/api/v1/links/"+never, ""); r.status != http.StatusNotFound {
		t.Errorf("DELETE unknown: %d; want 404", r.status)
	}
	calls := e.links.calls.Load()
	cache := e.svc.Stats().Cache
	for _, code := range []string{"ab", "abc", "sale!", "a%20b", "admin", "-abc", strings.Repeat("x", 40), "abc%24efg"} {
		for _, req := range [][2]string{{"GET", "/" + code}, {"GET", "/api/v1/links/" + code}, {"DELETE", "/api/v1/links/" + code}} {
			if r := e.do(req[0], req[1], ""); r.status != http.StatusBadRequest {
				t.Errorf("%s %s: %d %s; want 400", req[0], req[1], r.status, r.body)
			}
		}
	}
	if got := e.links.calls.Load(); got != calls {
		t.Fatalf("malformed codes made %d store calls; want 0", got-calls)
	}
	if got := e.svc.Stats().Cache; got != cache {
		t.Fatalf("malformed codes reached the cache: %+v -> %+v", cache, got)
	}
}

func testDelete(e *env) {
	t := e.t
	c := e.create(map[string]any{"url": "https://example.com/doomed"})
	if r := e.do("GET", "/"+c.Code, ""); r.status != http.StatusFound { // warms the cache, if any
		t.Fatalf("GET before delete: %d", r.status)
	}
	if r := e.do("DELETE", "/api/v1/links/"+c.Code, ""); r.status != http.StatusNoContent {
		t.Fatalf("DELETE: %d %s; want 204", r.status, r.body)
	}
	for _, req := range [][2]string{{"GET", "/" + c.Code}, {"GET", "/api/v1/links/" + c.Code}, {"DELETE", "/api/v1/links/" + c.Code}} {
		if r := e.do(req[0], req[1], ""); r.status != http.StatusNotFound {
			t.Errorf("%s %s after delete: %d; want 404", req[0], req[1], r.status)
		}
	}
	// A deleted alias can be claimed again, and the new target is served.
	alias := uniqueAlias("reuse")
	e.create(map[string]any{"url": "https://old.example/", "alias": alias})
	e.do("GET", "/"+alias, "")
	e.do("DELETE", "/api/v1/links/"+alias, "")
	e.create(map[string]any{"url": "https://new.example/", "alias": alias})
	if r := e.do("GET", "/"+alias, ""); r.header.Get("Location") != "https://new.example/" {
		t.Fatalf("reclaimed alias redirects to %q; want https://new.example/", r.header.Get("Location"))
	}
}

func testClicks(e *env) {
	t := e.t
	c := e.create(map[string]any{"url": "https://example.com/clicked"})
	other := e.create(map[string]any{"url": "https://example.com/other"})
	agents := []struct {
		ua    string
		human bool
	}{
		{"Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0", true},
		{"Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148 Safari/604.1", true},
		{"curl/8.5.0", true},
		{"Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", false},
		{"facebookexternalhit/1.1", false},
		{"Mozilla/5.0 (compatible; YandexSpider/3.0)", false},
		{"Mozilla/5.0 HeadlessChrome/120.0", false},
		{" ", false},
	}
	before := e.settle(0)
	events, humans := 0, 0
	for _, a := range agents {
		for range 2 {
			r := e.do("GET", "/"+c.Code, "", "User-Agent", a.ua, "Referer", "https://news.example/", "CF-IPCountry", "DE")
			if r.status != http.StatusFound {
				t.Fatalf("redirect: %d", r.status)
			}
			events++
			if a.human {
				humans++
			}
		}
	}
	e.do("GET", "/"+other.Code, "", "User-Agent", "Mozilla/5.0")
	e.do("HEAD", "/"+c.Code, "", "User-Agent", "Mozilla/5.0") // not a click
	events++
	after := e.settle(before.Batch.Published + uint64(events))
	if got := after.BotsSkipped - before.BotsSkipped; got != uint64(events-humans-1) {
		t.Errorf("bots skipped %d; want %d", got, events-humans-1)
	}
	if got := after.ClicksCounted - before.ClicksCounted; got != uint64(humans+1) {
		t.Errorf("clicks counted %d; want %d", got, humans+1)
	}
	var info shortener.LinkInfo
	e.do("GET", "/api/v1/links/"+c.Code, "").json(t, &info)
	today := e.clock.Now().UTC().Format(time.DateOnly)
	if info.Clicks != int64(humans) || len(info.ClicksByDay) != 1 || info.ClicksByDay[0].Day != today || info.ClicksByDay[0].Clicks != int64(humans) {
		t.Fatalf("clicks %d by day %+v; want %d on %s", info.Clicks, info.ClicksByDay, humans, today)
	}
	e.do("GET", "/api/v1/links/"+other.Code, "").json(t, &info)
	if info.Clicks != 1 {
		t.Fatalf("other link: %d clicks; want 1", info.Clicks)
	}
}

func testExpiry(e *env) {
	t := e.t
	exp := e.clock.Now().Add(time.Hour)
	c := e.create(map[string]any{"url": "https://example.com/flash", "expires_at": exp})
	if c.ExpiresAt == nil || !c.ExpiresAt.Equal(exp) {
		t.Fatalf("created %+v; want expires_at %v", c, exp)
	}
	if r := e.do("GET", "/"+c.Code, ""); r.status != http.StatusFound {
		t.Fatalf("before expiry: %d; want 302", r.status)
	}
	e.clock.Add(time.Hour - time.Millisecond)
	if r := e.do("GET", "/"+c.Code, ""); r.status != http.StatusFound {
		t.Fatalf("1ms before expiry: %d; want 302", r.status)
	}
	e.clock.Add(time.Millisecond)
	defer e.clock.Add(-time.Hour)
	if r := e.do("GET", "/"+c.Code, ""); r.status != http.StatusGone {
		t.Fatalf("at expiry: %d %s; want 410", r.status, r.body)
	}
	r := e.do("GET", "/api/v1/links/"+c.Code, "")
	var info shortener.LinkInfo
	r.json(t, &info)
	if r.status != http.StatusGone || !info.Expired || info.Target != "https://example.com/flash" {
		t.Fatalf("info at expiry: %d %+v; want 410 describing the expired link", r.status, info)
	}
	// An expired alias still holds its name.
	alias := uniqueAlias("flash")
	e.create(map[string]any{"url": "https://example.com/", "alias": alias, "expires_at": e.clock.Now().Add(time.Minute)})
	e.clock.Add(time.Minute)
	defer e.clock.Add(-time.Minute)
	if r := e.do("GET", "/"+alias, ""); r.status != http.StatusGone {
		t.Fatalf("expired alias: %d; want 410", r.status)
	}
	if r := e.do("POST", "/api/v1/links", body(map[string]any{"url": "https://x.example/", "alias": alias})); r.status != http.StatusConflict {
		t.Fatalf("claim of an expired alias: %d; want 409", r.status)
	}
}

func testOps(e *env) {
	t := e.t
	if r := e.do("GET", "/healthz", ""); r.status != http.StatusOK || !bytes.Contains(r.body, []byte(`"ok":true`)) {
		t.Fatalf("healthz: %d %s", r.status, r.body)
	}
	r := e.do("GET", "/metrics", "")
	for _, want := range []string{"urlshortener_created_total", "urlshortener_redirects_total", "urlshortener_clicks_batch_published_total",
		"urlshortener_leaser_served_total", `http_requests_total{code="302",route="GET /{code}"}`} {
		if !bytes.Contains(r.body, []byte(want)) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}

// settle waits until at least published click events were sent and the
// consumer has handled every event sent, and returns the stats then.
// Clicks are queued before their redirect is answered, so once a test has
// its responses, the events it caused are all counted in Published or
// still queued.
func (e *env) settle(published uint64) shortener.Stats {
	e.t.Helper()
	var st shortener.Stats
	waitFor(e.t, func() bool {
		st = e.svc.Stats()
		return st.Batch.Queued == 0 && st.Batch.Sending == 0 && st.Batch.Published >= published &&
			st.Consumer.Handled >= st.Batch.Published && st.ClicksPending == 0
	})
	return st
}

// waitFor polls cond until it holds, failing after a minute. It waits for
// asynchronous work (the click consumer), it does not time anything.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached within a minute")
		}
		time.Sleep(10 * time.Millisecond)
	}
}
