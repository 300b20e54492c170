package chat_test

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/sysblocks/sysblocks/examples/chat/backends"
	"github.com/sysblocks/sysblocks/examples/chat/chat"
	"github.com/sysblocks/sysblocks/wsregistry"
	"github.com/sysblocks/sysblocks/wsregistry/gateway"
)

const testSecret = "a test secret of 32 bytes length"

// env is a deployment of gateways on one stack, each behind an httptest
// server.
type env struct {
	t     *testing.T
	stack *backends.Stack
	nodes []*backends.Node
	urls  []string
	stops []func(crash bool) // stops []i: gateway i stops (crash: without closing its sockets cleanly)
}

type envOptions struct {
	gateway *gateway.Options
}

func memoryStack(t *testing.T) *backends.Stack {
	st, err := backends.Memory(backends.Settings{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return st
}

// start builds n gateways on st and runs them until the test ends.
func start(t *testing.T, st *backends.Stack, n int, o *envOptions) *env {
	t.Helper()
	if o == nil {
		o = &envOptions{}
	}
	e := &env{t: t, stack: st}
	for i := range n {
		gw := o.gateway
		if gw == nil {
			gw = &gateway.Options{Rate: -1}
		}
		node, err := st.Node(context.Background(), "gw"+string(rune('1'+i))+"-"+strings.ReplaceAll(t.Name(), "/", "_"),
			backends.NodeOptions{Secret: []byte(testSecret), Gateway: gw, Lease: 3 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewServer(node.Service.Handler())
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- node.Run(ctx) }()
		var once sync.Once
		stop := func(crash bool) {
			once.Do(func() {
				sctx, scancel := context.WithTimeout(context.Background(), 5*time.Second)
				if crash { // drop every socket without a close handshake
					scancel()
				}
				defer scancel()
				_ = node.Service.Shutdown(sctx)
				srv.Close()
				cancel()
				if err := <-done; err != nil {
					t.Errorf("node run: %v", err)
				}
			})
		}
		t.Cleanup(func() { stop(false) })
		e.stops = append(e.stops, stop)
		e.nodes = append(e.nodes, node)
		e.urls = append(e.urls, srv.URL)
	}
	return e
}

var httpClient = &http.Client{Timeout: time.Minute}

type response struct {
	status int
	body   []byte
}

func (r response) json(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("decode %s: %v", r.body, err)
	}
}

func do(t *testing.T, method, url, token string, body io.Reader) response {
	t.Helper()
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := httpClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return response{res.StatusCode, b}
}

func login(t *testing.T, base, user string) string {
	t.Helper()
	r := do(t, "POST", base+"/login", "", strings.NewReader(`{"user":"`+user+`","password":"pw-`+user+`"}`))
	if r.status != 200 {
		t.Fatalf("login %s: %d %s", user, r.status, r.body)
	}
	var out struct{ Token string }
	r.json(t, &out)
	return out.Token
}

// client models the page: it logs in, keeps the frames it receives,
// acknowledges every message (content with a delivered receipt),
// deduplicates by ID and resyncs from its positions after a reconnect.
type client struct {
	t       *testing.T
	user    string
	token   string
	ws      *websocket.Conn
	frames  chan chat.Out
	closed  chan error
	backlog []chat.Out // frames received but not yet matched by c

	mu       sync.Mutex
	dedup    *wsregistry.Client
	got      []chat.Out // content messages, deduplicated, in arrival order
	dupCount int        // content messages dropped as duplicates
	noAck    bool
}

func (e *env) client(gw int, user string) *client {
	c := &client{t: e.t, user: user, token: login(e.t, e.urls[gw], user), dedup: wsregistry.NewClient(0)}
	c.connect(e.urls[gw])
	return c
}

func newDedup() *wsregistry.Client { return wsregistry.NewClient(0) }

func wsURL(base, token string) string {
	return "ws" + strings.TrimPrefix(base, "http") + "/ws?token=" + token
}

// connect dials base, waits for hello and resyncs.
func (c *client) connect(base string) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ws, _, err := websocket.Dial(ctx, wsURL(base, c.token), nil)
	if err != nil {
		c.t.Fatalf("%s: dial %s: %v", c.user, base, err)
	}
	ws.SetReadLimit(1 << 20)
	c.ws = ws
	c.frames = make(chan chat.Out, 10000)
	c.closed = make(chan error, 1)
	c.backlog = nil
	go c.read(ws, c.frames, c.closed)
	c.c(func(f chat.Out) bool { return f.Type == "hello" })
	c.mu.Lock()
	after := c.dedup.After()
	c.mu.Unlock()
	c.send(map[string]any{"type": "resync", "after": after})
	c.c(func(f chat.Out) bool { return f.Type == "synced" })
	c.t.Cleanup(func() { ws.CloseNow() })
}

func (c *client) read(ws *websocket.Conn, frames chan chat.Out, closed chan error) {
	for {
		_, b, err := ws.Read(context.Background())
		if err != nil {
			closed <- err
			close(frames)
			return
		}
		var f chat.Out
		if err := json.Unmarshal(b, &f); err != nil {
			closed <- err
			close(frames)
			return
		}
		if f.Type == "msg" {
			c.mu.Lock()
			fresh := c.dedup.Accept(wsregistry.Message{ID: f.ID, Conv: f.Conv, Seq: f.Seq})
			content := f.Kind == chat.KindText || f.Kind == chat.KindMedia
			if fresh && content {
				c.got = append(c.got, f)
			} else if content {
				c.dupCount++
			}
			noAck := c.noAck
			c.mu.Unlock()
			if !noAck {
				ack := map[string]any{"type": "ack", "conv": f.Conv, "seq": f.Seq}
				if content {
					ack["id"], ack["from"] = f.ID, f.From
				}
				b, _ := json.Marshal(ack)
				_ = ws.Write(context.Background(), websocket.MessageText, b)
			}
		}
		frames <- f
	}
}

func (c *client) send(v any) {
	c.t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		c.t.Fatal(err)
	}
	c.raw(b)
}

func (c *client) raw(b []byte) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.ws.Write(ctx, websocket.MessageText, b); err != nil {
		c.t.Fatalf("%s: write: %v", c.user, err)
	}
}

// c returns the first frame matching ok, in arrival order. Frames that
// do not match are kept for later calls: a receipt may arrive before the
// "sent" confirmation of its own message.
func (c *client) c(ok func(chat.Out) bool) chat.Out {
	c.t.Helper()
	for i, f := range c.backlog {
		if ok(f) {
			c.backlog = append(c.backlog[:i:i], c.backlog[i+1:]...)
			return f
		}
	}
	timeout := time.After(20 * time.Second)
	for {
		select {
		case f, open := <-c.frames:
			if !open {
				c.t.Fatalf("%s: connection closed while waiting: %v", c.user, <-c.closed)
			}
			if ok(f) {
				return f
			}
			c.backlog = append(c.backlog, f)
		case <-timeout:
			c.t.Fatalf("%s: no matching frame within 20s", c.user)
		}
	}
}

// closeCode waits for the connection to end and returns its close status.
func (c *client) closeCode() websocket.StatusCode {
	c.t.Helper()
	for {
		select {
		case _, open := <-c.frames:
			if !open {
				return websocket.CloseStatus(<-c.closed)
			}
		case <-time.After(20 * time.Second):
			c.t.Fatalf("%s: connection still open after 20s", c.user)
		}
	}
}

func (c *client) text(to, id, text string) {
	c.t.Helper()
	c.send(map[string]any{"type": "send", "id": id, "to": to, "text": text})
}

func (c *client) contents() []chat.Out {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]chat.Out(nil), c.got...)
}

func isMsg(kind, ref string) func(chat.Out) bool {
	return func(f chat.Out) bool {
		return f.Type == "msg" && f.Kind == kind && (ref == "" || f.Ref == ref || f.ID == ref)
	}
}

var pngBytes = func() []byte {
	// A 1x1 PNG: signature, IHDR, IDAT, IEND.
	b, _ := hex.DecodeString("89504e470d0a1a0a0000000d4948445200000001000000010806000000" +
		"1f15c4890000000d49444154789c63000100000500010d0a2db40000000049454e44ae426082")
	return b
}()
