package gateway

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	if url := os.Getenv("GATEWAY_TEST_DIAL"); url != "" {
		dialAndWait(url)
	}
	goleak.VerifyTestMain(m)
}

// recorder is a Handler that records connections and closes, and runs an
// optional function per message (echo when nil).
type recorder struct {
	onOpen    func(ctx context.Context, c *Conn) error
	onMessage func(ctx context.Context, c *Conn, data []byte) error
	onClose   func(c *Conn, err error)
	opened    chan *Conn
	closed    chan closed
	messages  atomic.Int64
}

type closed struct {
	c   *Conn
	err error
}

func newRecorder() *recorder {
	return &recorder{opened: make(chan *Conn, 1000), closed: make(chan closed, 1000)}
}

func (r *recorder) Open(ctx context.Context, c *Conn) error {
	r.opened <- c
	if r.onOpen != nil {
		return r.onOpen(ctx, c)
	}
	return nil
}

func (r *recorder) Message(ctx context.Context, c *Conn, data []byte) error {
	r.messages.Add(1)
	if r.onMessage != nil {
		return r.onMessage(ctx, c, data)
	}
	return c.Send(data)
}

func (r *recorder) Close(c *Conn, err error) {
	if r.onClose != nil {
		r.onClose(c, err)
	}
	r.closed <- closed{c, err}
}

type fixture struct {
	t      testing.TB
	tokens *Tokens
	gw     *Gateway
	h      *recorder
	srv    *httptest.Server
	url    string
}

func newFixture(t *testing.T, h *recorder, opts *Options) *fixture {
	t.Helper()
	tk := mustTokens(t, time.Hour)
	gw, err := New(tk, h, opts)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(gw)
	f := &fixture{t: t, tokens: tk, gw: gw, h: h, srv: srv, url: "ws" + strings.TrimPrefix(srv.URL, "http")}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := gw.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
		srv.Close()
	})
	return f
}

func (f *fixture) dial(user string, opts *websocket.DialOptions) *websocket.Conn {
	return dialFixture(f.t, f, user, opts)
}

func dialFixture(t testing.TB, f *fixture, user string, opts *websocket.DialOptions) *websocket.Conn {
	t.Helper()
	c, _, err := websocket.Dial(context.Background(), f.url+"?token="+f.tokens.Issue(user, "d1"), opts)
	if err != nil {
		t.Fatalf("dial %s: %v", user, err)
	}
	c.SetReadLimit(-1)
	t.Cleanup(func() { c.CloseNow() })
	return c
}

// benchFixture serves gw for a benchmark.
type benchFixture struct{ *fixture }

func benchServer(b *testing.B, gw *Gateway, tk *Tokens) benchFixture {
	srv := httptest.NewServer(gw)
	b.Cleanup(srv.Close)
	return benchFixture{&fixture{t: b, tokens: tk, gw: gw, srv: srv, url: "ws" + strings.TrimPrefix(srv.URL, "http")}}
}

func (f benchFixture) dial(b *testing.B, user string) *websocket.Conn {
	return dialFixture(b, f.fixture, user, nil)
}

func readText(t *testing.T, c *websocket.Conn) string {
	t.Helper()
	_, b, err := c.Read(context.Background())
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	return string(b)
}

// readUntilClose reads and discards messages until the connection closes
// and returns the close code.
func readUntilClose(c *websocket.Conn) (websocket.StatusCode, int) {
	n := 0
	for {
		_, _, err := c.Read(context.Background())
		if err != nil {
			return websocket.CloseStatus(err), n
		}
		n++
	}
}

func TestAuthOK(t *testing.T) {
	h := newRecorder()
	f := newFixture(t, h, nil)
	c := f.dial("alice", nil)
	gc := <-h.opened
	if got, want := gc.Identity(), (Identity{"alice", "d1"}); got != want {
		t.Errorf("Identity() = %+v; want %+v", got, want)
	}
	if err := c.Write(context.Background(), websocket.MessageText, []byte("hi")); err != nil {
		t.Fatal(err)
	}
	if got := readText(t, c); got != "hi" {
		t.Errorf("echo: got %q; want hi", got)
	}

	// Authorization: Bearer works as well as the query parameter.
	hdr := http.Header{"Authorization": {"Bearer " + f.tokens.Issue("bob", "d2")}}
	c2, _, err := websocket.Dial(context.Background(), f.url, &websocket.DialOptions{HTTPHeader: hdr})
	if err != nil {
		t.Fatalf("dial with bearer header: %v", err)
	}
	defer c2.CloseNow()
	if got := (<-h.opened).Identity(); got != (Identity{"bob", "d2"}) {
		t.Errorf("bearer identity = %+v", got)
	}
	c2.Close(websocket.StatusNormalClosure, "bye")
	if ev := <-h.closed; !isClose(ev.err, CloseNormal) {
		t.Errorf("Close cause = %v; want CloseError 1000", ev.err)
	}
	if s := f.gw.Stats(); s.Accepted != 2 || s.Rejected != 0 {
		t.Errorf("Stats = %+v; want Accepted 2, Rejected 0", s)
	}
}

func (g *Gateway) isDraining() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.draining
}

func isClose(err error, code int) bool {
	var ce *CloseError
	return errors.As(err, &ce) && ce.Code == code
}

func TestAuthRejectedBeforeUpgrade(t *testing.T) {
	h := newRecorder()
	f := newFixture(t, h, nil)
	other, _ := NewTokens([]byte("not the gateway's secret........"), time.Hour)
	expired := f.tokens.IssueAt("alice", "d1", time.Now().Add(-2*time.Hour))
	good := f.tokens.Issue("alice", "d1")
	body, sig, _ := strings.Cut(good, ".")
	forgedSig := body + "." + strings.Repeat("A", len(sig))
	for name, tok := range map[string]string{
		"forged by other secret": other.Issue("alice", "d1"),
		"forged signature":       forgedSig,
		"expired":                expired,
		"garbage":                "not-a-token",
		"missing":                "",
	} {
		_, resp, err := websocket.Dial(context.Background(), f.url+"?token="+tok, nil)
		if err == nil {
			t.Fatalf("%s: dial succeeded; want 401", name)
		}
		if resp == nil || resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("%s: response %v; want 401", name, resp)
		}
	}
	if s := f.gw.Stats(); s.Rejected != 5 || s.Accepted != 0 {
		t.Errorf("Stats = %+v; want Rejected 5, Accepted 0", s)
	}
	if len(h.opened) != 0 {
		t.Errorf("Handler.Open called %d times for rejected requests", len(h.opened))
	}
}

// A client that stops reading fills its queue and is closed with
// CloseQueueFull, while 50 other clients keep receiving every message.
func TestSlowClientDropped(t *testing.T) {
	h := newRecorder()
	f := newFixture(t, h, &Options{QueueSize: 8, PingInterval: -1})
	const fast = 50
	slow := f.dial("slow", nil)
	slowConn := <-h.opened
	fastConns := make([]*Conn, fast)
	clients := make([]*websocket.Conn, fast)
	for i := range fast {
		clients[i] = f.dial(fmt.Sprint("fast", i), nil)
		fastConns[i] = <-h.opened
	}

	// Each fast client reads rounds in order and reports each one.
	var got sync.WaitGroup
	errs := make(chan error, fast)
	var rounds atomic.Int64
	rounds.Store(-1)
	roundDone := make([]chan struct{}, fast)
	for i := range fast {
		roundDone[i] = make(chan struct{}, 1)
		got.Add(1)
		go func() {
			defer got.Done()
			for r := 0; ; r++ {
				_, b, err := clients[i].Read(context.Background())
				if err != nil {
					if websocket.CloseStatus(err) != websocket.StatusGoingAway {
						errs <- fmt.Errorf("fast%d: %v", i, err)
					}
					return
				}
				if want := fmt.Sprint("round ", r); string(b) != want {
					errs <- fmt.Errorf("fast%d: got %q; want %q", i, b, want)
					return
				}
				roundDone[i] <- struct{}{}
			}
		}()
	}

	big := bytes.Repeat([]byte("x"), 64<<10)
	sent, extra := 0, 0
	for r := 0; extra < 20; r++ {
		msg := []byte(fmt.Sprint("round ", r))
		for _, c := range fastConns {
			if err := c.Send(msg); err != nil {
				t.Fatalf("round %d: Send to fast client: %v", r, err)
			}
		}
		if extra == 0 {
			for range 10 {
				err := slowConn.Send(big)
				if errors.Is(err, ErrQueueFull) {
					extra = 1
					break
				}
				if err != nil {
					t.Fatalf("Send to slow client: %v", err)
				}
				sent++
			}
		} else {
			extra++
			if err := slowConn.Send(big); !errors.Is(err, ErrClosed) {
				t.Fatalf("Send after overflow: got %v; want ErrClosed", err)
			}
		}
		for i := range fast {
			select {
			case <-roundDone[i]:
			case err := <-errs:
				t.Fatal(err)
			}
		}
		rounds.Store(int64(r))
	}
	// The slow client now reads: it finds the messages written before the
	// overflow, then the close frame with the queue-full code.
	code, n := readUntilClose(slow)
	if code != CloseQueueFull {
		t.Errorf("slow client close code = %d; want %d", code, CloseQueueFull)
	}
	if n > sent {
		t.Errorf("slow client read %d messages; only %d were queued", n, sent)
	}
	ev := <-h.closed
	if ev.c != slowConn || !errors.Is(ev.err, ErrQueueFull) {
		t.Errorf("Handler.Close(%s, %v); want (slow, ErrQueueFull)", ev.c.Identity().User, ev.err)
	}
	if s := f.gw.Stats(); s.Dropped != 1 || s.Open != fast {
		t.Errorf("Stats = %+v; want Dropped 1, Open %d", s, fast)
	}
	f.gw.Shutdown(context.Background())
	got.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	t.Logf("slow client overflowed after %d messages of 64 KiB; %d rounds to the fast clients", sent, rounds.Load()+1)
}

// A peer that stops answering pings is dropped; a live one stays.
func TestHeartbeatDetectsDeadPeer(t *testing.T) {
	h := newRecorder()
	f := newFixture(t, h, &Options{PingInterval: 20 * time.Millisecond, PongTimeout: time.Second})
	pings := make(chan struct{}, 100)
	live := f.dial("live", &websocket.DialOptions{OnPingReceived: func(context.Context, []byte) bool {
		select {
		case pings <- struct{}{}:
		default:
		}
		return true
	}})
	live.CloseRead(context.Background()) // answers pings
	<-h.opened
	f.dial("dead", nil) // never reads, so never answers a ping
	dead := <-h.opened
	ev := <-h.closed
	if ev.c != dead || !errors.Is(ev.err, ErrPongTimeout) {
		t.Fatalf("Handler.Close(%s, %v); want (dead, ErrPongTimeout)", ev.c.Identity().User, ev.err)
	}
	for range 3 {
		<-pings
	}
	if s := f.gw.Stats(); s.Open != 1 || s.PongTimeout != 1 {
		t.Errorf("Stats = %+v; want Open 1, PongTimeout 1", s)
	}
}

func TestOversizedMessage(t *testing.T) {
	h := newRecorder()
	f := newFixture(t, h, &Options{MaxMessageBytes: 1024})
	c := f.dial("alice", nil)
	<-h.opened
	if err := c.Write(context.Background(), websocket.MessageText, bytes.Repeat([]byte("a"), 1024)); err != nil {
		t.Fatal(err)
	}
	if got := readText(t, c); len(got) != 1024 {
		t.Fatalf("echo of the largest allowed message: %d bytes", len(got))
	}
	c.Write(context.Background(), websocket.MessageText, bytes.Repeat([]byte("a"), 1025))
	if code, _ := readUntilClose(c); code != CloseMessageTooBig {
		t.Errorf("close code = %d; want 1009", code)
	}
	if ev := <-h.closed; !isClose(ev.err, CloseMessageTooBig) {
		t.Errorf("Handler.Close cause = %v; want CloseError 1009", ev.err)
	}
	if n := h.messages.Load(); n != 1 {
		t.Errorf("Handler.Message called %d times; want 1", n)
	}
}

// A client over its token bucket is closed with CloseRateLimited. The clock
// stands still, so exactly Burst messages get through.
func TestFloodRateLimited(t *testing.T) {
	h := newRecorder()
	h.onMessage = func(context.Context, *Conn, []byte) error { return nil }
	now := time.Unix(1_800_000_000, 0)
	f := newFixture(t, h, &Options{Rate: 1, Burst: 5, Now: func() time.Time { return now }})
	c := f.dial("flooder", nil)
	<-h.opened
	for i := range 50 {
		if err := c.Write(context.Background(), websocket.MessageText, []byte("spam")); err != nil {
			t.Logf("write %d: %v", i, err) // the server may close before the flood ends
			break
		}
	}
	if code, _ := readUntilClose(c); code != CloseRateLimited {
		t.Errorf("close code = %d; want %d", code, CloseRateLimited)
	}
	if ev := <-h.closed; !errors.Is(ev.err, ErrRateLimited) {
		t.Errorf("Handler.Close cause = %v; want ErrRateLimited", ev.err)
	}
	if n := h.messages.Load(); n != 5 {
		t.Errorf("Handler.Message called %d times; want Burst = 5", n)
	}
	if s := f.gw.Stats(); s.RateLimited != 1 {
		t.Errorf("Stats.RateLimited = %d; want 1", s.RateLimited)
	}
}

func TestRateRefills(t *testing.T) {
	h := newRecorder()
	var mu sync.Mutex
	now := time.Unix(1_800_000_000, 0)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	f := newFixture(t, h, &Options{Rate: 1, Burst: 1, Now: clock})
	c := f.dial("alice", nil)
	<-h.opened
	for i := range 3 {
		if err := c.Write(context.Background(), websocket.MessageText, []byte("m")); err != nil {
			t.Fatal(err)
		}
		if got := readText(t, c); got != "m" {
			t.Fatalf("message %d: echo %q", i, got)
		}
		mu.Lock()
		now = now.Add(time.Second)
		mu.Unlock()
	}
}

func TestMalformedInputCloses(t *testing.T) {
	h := newRecorder()
	h.onMessage = func(_ context.Context, c *Conn, data []byte) error {
		if !bytes.HasPrefix(data, []byte("{")) {
			return CloseWith(CloseInvalidPayload, "invalid json")
		}
		return c.Send(data)
	}
	f := newFixture(t, h, nil)

	bin := f.dial("binary", nil)
	<-h.opened
	bin.Write(context.Background(), websocket.MessageBinary, []byte{0, 1, 2})
	if code, _ := readUntilClose(bin); code != CloseUnsupportedData {
		t.Errorf("binary: close code %d; want 1003", code)
	}
	if ev := <-h.closed; !isClose(ev.err, CloseUnsupportedData) {
		t.Errorf("binary: cause %v", ev.err)
	}

	js := f.dial("json", nil)
	<-h.opened
	js.Write(context.Background(), websocket.MessageText, []byte(`{"ok":1}`))
	if got := readText(t, js); got != `{"ok":1}` {
		t.Errorf("valid message echo: %q", got)
	}
	js.Write(context.Background(), websocket.MessageText, []byte(`nope`))
	if code, _ := readUntilClose(js); code != CloseInvalidPayload {
		t.Errorf("invalid json: close code %d; want 1007", code)
	}
	if ev := <-h.closed; !isClose(ev.err, CloseInvalidPayload) {
		t.Errorf("invalid json: cause %v", ev.err)
	}

	// A plain error from the handler closes with 1011 and reaches Close as is.
	boom := errors.New("boom")
	h.onMessage = func(context.Context, *Conn, []byte) error { return boom }
	c := f.dial("boom", nil)
	<-h.opened
	c.Write(context.Background(), websocket.MessageText, []byte(`{}`))
	if code, _ := readUntilClose(c); code != CloseInternalError {
		t.Errorf("handler error: close code %d; want 1011", code)
	}
	if ev := <-h.closed; !errors.Is(ev.err, boom) {
		t.Errorf("handler error: cause %v; want boom", ev.err)
	}
}

func TestConnClose(t *testing.T) {
	h := newRecorder()
	f := newFixture(t, h, nil)
	c := f.dial("alice", nil)
	gc := <-h.opened
	if err := gc.Close(1005, ""); !errors.Is(err, ErrInvalidCloseCode) {
		t.Errorf("Close(1005) = %v; want ErrInvalidCloseCode", err)
	}
	gc.Send([]byte("last words"))
	if err := gc.Close(4000, "kicked"); err != nil {
		t.Fatal(err)
	}
	if err := gc.Close(4000, "kicked"); !errors.Is(err, ErrClosed) {
		t.Errorf("second Close = %v; want ErrClosed", err)
	}
	if err := gc.Send([]byte("x")); !errors.Is(err, ErrClosed) {
		t.Errorf("Send after Close = %v; want ErrClosed", err)
	}
	if got := readText(t, c); got != "last words" {
		t.Errorf("got %q; want the message queued before Close", got)
	}
	if code, _ := readUntilClose(c); code != 4000 {
		t.Errorf("close code %d; want 4000", code)
	}
	if ev := <-h.closed; !isClose(ev.err, 4000) {
		t.Errorf("cause %v; want CloseError 4000", ev.err)
	}
}

// Shutdown writes what is queued, closes with 1001, refuses new
// connections and returns only when every Handler.Close has returned.
func TestShutdownDrains(t *testing.T) {
	h := newRecorder()
	const queued = 40
	big := bytes.Repeat([]byte("y"), 256<<10) // 10 MiB in all: more than the socket buffers hold
	opened := make(chan struct{})
	h.onOpen = func(_ context.Context, c *Conn) error {
		defer close(opened)
		for i := range queued {
			msg := append([]byte(fmt.Sprintf("%03d", i)), big...)
			if err := c.Send(msg); err != nil {
				return err
			}
		}
		return nil
	}
	release := make(chan struct{})
	var releaseOnce sync.Once
	defer releaseOnce.Do(func() { close(release) })
	entered := make(chan struct{})
	h.onClose = func(*Conn, error) {
		close(entered)
		<-release
	}
	f := newFixture(t, h, &Options{QueueSize: queued, PingInterval: -1})
	c := f.dial("alice", nil)
	<-opened

	shutdown := make(chan error, 1)
	go func() { shutdown <- f.gw.Shutdown(context.Background()) }()
	for !f.gw.isDraining() {
		runtime.Gosched()
	}
	_, resp, err := websocket.Dial(context.Background(), f.url+"?token="+f.tokens.Issue("late", "d"), nil)
	if err == nil || resp == nil || resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("dial during drain: %v, %v; want 503", resp, err)
	}
	for i := range queued {
		_, b, err := c.Read(context.Background())
		if err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
		if want := fmt.Sprintf("%03d", i); string(b[:3]) != want || len(b) != 3+len(big) {
			t.Fatalf("message %d: got %q (%d bytes)", i, b[:3], len(b))
		}
	}
	if code, _ := readUntilClose(c); code != CloseGoingAway {
		t.Errorf("close code %d; want 1001", code)
	}
	<-entered
	select {
	case err := <-shutdown:
		t.Fatalf("Shutdown returned %v while Handler.Close was still running", err)
	default:
	}
	releaseOnce.Do(func() { close(release) })
	if err := <-shutdown; err != nil {
		t.Errorf("Shutdown = %v", err)
	}
	if ev := <-h.closed; !errors.Is(ev.err, ErrShutdown) {
		t.Errorf("cause %v; want ErrShutdown", ev.err)
	}
}

// When ctx ends first, Shutdown drops the connections and returns ctx's error.
func TestShutdownHonoursContext(t *testing.T) {
	h := newRecorder()
	big := bytes.Repeat([]byte("z"), 1<<20)
	h.onOpen = func(_ context.Context, c *Conn) error {
		for range 32 {
			c.Send(big)
		}
		return nil
	}
	f := newFixture(t, h, &Options{QueueSize: 32, PingInterval: -1})
	f.dial("stuck", nil) // never reads: the queue cannot drain
	<-h.opened
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := f.gw.Shutdown(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Shutdown = %v; want context.Canceled", err)
	}
	<-h.closed
}

// Many goroutines send to one connection and close it concurrently.
func TestConcurrentSend(t *testing.T) {
	h := newRecorder()
	const senders, each = 50, 100
	f := newFixture(t, h, &Options{QueueSize: senders * each})
	c := f.dial("alice", nil)
	gc := <-h.opened
	var wg sync.WaitGroup
	for s := range senders {
		wg.Go(func() {
			for i := range each {
				if err := gc.Send(fmt.Appendf(nil, "%d/%d", s, i)); err != nil {
					t.Errorf("Send: %v", err)
					return
				}
			}
		})
	}
	last := make([]int, senders)
	for i := range last {
		last[i] = -1
	}
	for range senders * each {
		var s, i int
		fmt.Sscanf(readText(t, c), "%d/%d", &s, &i)
		if i != last[s]+1 {
			t.Fatalf("sender %d: message %d after %d", s, i, last[s])
		}
		last[s] = i
	}
	wg.Wait()

	// Send racing with Close: every Send either queues or reports ErrClosed.
	for range senders {
		wg.Go(func() {
			for range each {
				if err := gc.Send([]byte("late")); err != nil && !errors.Is(err, ErrClosed) {
					t.Errorf("Send: %v", err)
				}
			}
		})
	}
	gc.Close(CloseNormal, "")
	wg.Wait()
	if code, _ := readUntilClose(c); code != CloseNormal {
		t.Errorf("close code %d; want 1000", code)
	}
	<-h.closed
}

// Browsers send an Origin header: a page from another host is refused unless
// Options.OriginPatterns lists it.
func TestOriginPatterns(t *testing.T) {
	h := newRecorder()
	f := newFixture(t, h, &Options{OriginPatterns: []string{"chat.example"}})
	dial := func(origin string) (*http.Response, error) {
		c, resp, err := websocket.Dial(context.Background(), f.url+"?token="+f.tokens.Issue("alice", "d"),
			&websocket.DialOptions{HTTPHeader: http.Header{"Origin": {origin}}})
		if err == nil {
			c.CloseNow()
		}
		return resp, err
	}
	if resp, err := dial("https://evil.example"); err == nil || resp == nil || resp.StatusCode != http.StatusForbidden {
		t.Errorf("foreign origin: %v, %v; want 403", resp, err)
	}
	if _, err := dial("https://chat.example"); err != nil {
		t.Errorf("listed origin: %v", err)
	} else {
		<-h.opened
	}
	if s := f.gw.Stats(); s.Rejected != 1 || s.Accepted != 1 {
		t.Errorf("Stats = %+v; want Rejected 1, Accepted 1", s)
	}
}

// A write that outlasts Options.WriteTimeout drops the connection even when
// the queue is not full.
func TestWriteTimeoutDrops(t *testing.T) {
	h := newRecorder()
	f := newFixture(t, h, &Options{QueueSize: 1000, WriteTimeout: 50 * time.Millisecond, PingInterval: -1})
	f.dial("stalled", nil) // never reads
	gc := <-h.opened
	big := bytes.Repeat([]byte("w"), 1<<20)
	for range 100 { // 100 MiB: far more than the socket buffers hold
		if err := gc.Send(big); err != nil {
			break // the connection may already be dropped
		}
	}
	ev := <-h.closed
	if !errors.Is(ev.err, ErrWriteTimeout) {
		t.Errorf("Handler.Close cause = %v; want ErrWriteTimeout", ev.err)
	}
	if s := f.gw.Stats(); s.Open != 0 || s.Dropped != 0 || s.WriteTimeout != 1 {
		t.Errorf("Stats = %+v; want Open 0, WriteTimeout 1 and no queue overflow", s)
	}
}

// The queue array stays bounded by QueueSize while the writer never
// catches up completely.
func TestQueueDoesNotGrow(t *testing.T) {
	g := &Gateway{o: Options{QueueSize: 8}}
	c := &Conn{g: g, writing: true} // a writer is running: nothing drains but the test
	for i := range 10000 {
		if err := c.Send([]byte("m")); err != nil {
			t.Fatalf("send %d: %v", i, err)
		}
		if i%2 == 1 { // the writer takes one message for every two sent, then catches up
			c.mu.Lock()
			c.head++
			c.mu.Unlock()
		}
		if len(c.queue)-c.head >= 6 {
			c.mu.Lock()
			c.head = len(c.queue) - 1
			c.mu.Unlock()
		}
		if cap(c.queue) > 2*g.o.QueueSize {
			t.Fatalf("after %d sends the queue array holds %d slots for a queue of %d", i+1, cap(c.queue), g.o.QueueSize)
		}
	}
}
