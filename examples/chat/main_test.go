package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/sysblocks/sysblocks/internal/testenv"
)

// serve runs the program with args until the test ends and returns its
// base URL.
func serve(t *testing.T, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, append([]string{"-addr=127.0.0.1:0", "-media-dir=" + t.TempDir(), "-log-level=error"}, args...), ready)
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("run: %v", err)
		}
	})
	select {
	case addr := <-ready:
		return "http://" + addr
	case err := <-done:
		t.Fatalf("run: %v", err)
	case <-time.After(2 * time.Minute):
		t.Fatal("not listening after 2 minutes")
	}
	return ""
}

// exchange logs two users in, sends a message from one to the other over
// the websocket and checks that it arrives, then checks /healthz and the
// page.
func exchange(t *testing.T, base string) {
	t.Helper()
	tokens := map[string]string{}
	for _, u := range []string{"ann", "ben"} {
		res, err := http.Post(base+"/login", "application/json", strings.NewReader(`{"user":"`+u+`","password":"pw"}`))
		if err != nil {
			t.Fatal(err)
		}
		var out struct{ Token string }
		_ = json.NewDecoder(res.Body).Decode(&out)
		res.Body.Close()
		if out.Token == "" {
			t.Fatalf("login %s: %d", u, res.StatusCode)
		}
		tokens[u] = out.Token
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	ws := map[string]*websocket.Conn{}
	for u, tok := range tokens {
		c, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(base, "http")+"/ws?token="+tok, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer c.CloseNow()
		if _, b, err := c.Read(ctx); err != nil || !strings.Contains(string(b), `"hello"`) {
			t.Fatalf("%s: first frame %s, %v", u, b, err)
		}
		ws[u] = c
	}
	_ = ws["ann"].Write(ctx, websocket.MessageText, []byte(`{"type":"send","id":"x1","to":"ben","text":"hi ben"}`))
	for {
		_, b, err := ws["ben"].Read(ctx)
		if err != nil {
			t.Fatalf("ben: %v", err)
		}
		if strings.Contains(string(b), `"hi ben"`) {
			break
		}
	}
	for path, want := range map[string]string{"/healthz": "", "/": "sysblocks chat", "/chat.js": "resync"} {
		res, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != 200 || !strings.Contains(string(b), want) {
			t.Fatalf("GET %s: %d %.200s", path, res.StatusCode, b)
		}
	}
}

func TestMemoryMode(t *testing.T) { exchange(t, serve(t, "-backend=mem")) }

func TestRealMode(t *testing.T) {
	r := testenv.Redis(t)
	k := testenv.Kafka(t)
	c := testenv.Cassandra(t)
	m := testenv.MySQL(t)
	exchange(t, serve(t, "-backend=real", "-redis-addr="+r.Addr, "-redis-prefix="+r.Key("chat")+":",
		"-mysql-dsn="+m.DSN, "-cassandra-keyspace="+c.Keyspace, "-group-topic="+k.Topic(3),
		"-fanout-group="+testenv.Name(t, "fan"),
		"-seen-topic="+k.Topic(3), "-seen-group="+testenv.Name(t, "seen"), "-host=main-test"))
}
