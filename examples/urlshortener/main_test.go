package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"go.uber.org/goleak"

	"github.com/sysblocks/sysblocks/internal/proctest"
	"github.com/sysblocks/sysblocks/internal/testenv"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var noFollow = &http.Client{
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	Timeout:       30 * time.Second,
}

// exercise checks /healthz, creates a link, follows it once as a browser
// and waits until the click is counted.
func exercise(t *testing.T, p *proctest.Process) {
	t.Helper()
	base := "http://" + p.Addr
	defer noFollow.CloseIdleConnections()
	res, err := noFollow.Get(base + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	hb, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("healthz: %d %s", res.StatusCode, hb)
	}
	res, err = noFollow.Post(base+"/api/v1/links", "application/json", strings.NewReader(`{"url":"https://example.com/from-the-binary"}`))
	if err != nil {
		t.Fatal(err)
	}
	var c struct {
		Code     string `json:"code"`
		ShortURL string `json:"short_url"`
	}
	_ = json.NewDecoder(res.Body).Decode(&c)
	res.Body.Close()
	if res.StatusCode != http.StatusCreated || c.Code == "" {
		t.Fatalf("create: %d %+v", res.StatusCode, c)
	}
	if !strings.HasSuffix(c.ShortURL, "/"+c.Code) || !strings.HasPrefix(c.ShortURL, "http://localhost:") {
		t.Fatalf("short_url %q; want http://localhost:<port>/%s", c.ShortURL, c.Code)
	}
	req, _ := http.NewRequest("GET", base+"/"+c.Code, nil)
	req.Header.Set("User-Agent", "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0")
	res, err = noFollow.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusFound || res.Header.Get("Location") != "https://example.com/from-the-binary" {
		t.Fatalf("redirect: %d %q", res.StatusCode, res.Header.Get("Location"))
	}
	deadline := time.Now().Add(2 * time.Minute)
	for {
		res, err := noFollow.Get(base + "/api/v1/links/" + c.Code)
		if err != nil {
			t.Fatal(err)
		}
		var info struct{ Clicks int }
		_ = json.NewDecoder(res.Body).Decode(&info)
		res.Body.Close()
		if info.Clicks == 1 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("click not counted after 2 minutes (clicks %d)\n%s", info.Clicks, p.Log())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestBinaryMemory builds the command, runs it with no servers, uses it
// over HTTP and stops it with SIGTERM.
func TestBinaryMemory(t *testing.T) {
	p := proctest.Start(t, proctest.Build(t, "urlshortener"))
	exercise(t, p)
	p.Stop(t)
}

// TestBinaryReal runs the command with -backend=real on the test servers;
// it creates its tables, reuses the test's keyspace and topic (creation is
// idempotent) and stops cleanly on SIGTERM.
func TestBinaryReal(t *testing.T) {
	t.Cleanup(func() {
		if tr, ok := kafka.DefaultTransport.(*kafka.Transport); ok {
			tr.CloseIdleConnections()
		}
	})
	my := testenv.MySQL(t)
	rd := testenv.Redis(t)
	cs := testenv.Cassandra(t)
	kf := testenv.Kafka(t)
	topic := kf.Topic(3)
	p := proctest.Start(t, proctest.Build(t, "urlshortener"), "-backend", "real",
		"-mysql-dsn", my.DSN,
		"-redis-addr", rd.Addr, "-redis-prefix", rd.Key("link")+":",
		"-cassandra-hosts", strings.Join(cs.Hosts, ","), "-cassandra-keyspace", cs.Keyspace,
		"-kafka-brokers", strings.Join(kf.Brokers, ","), "-kafka-topic", topic, "-kafka-group", topic+"-counter",
		"-code-key", fmt.Sprintf("test-%d", time.Now().UnixNano()))
	exercise(t, p)
	p.Stop(t)
}
