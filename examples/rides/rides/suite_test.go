package rides_test

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

	"github.com/coder/websocket"

	"github.com/sysblocks/sysblocks/examples/rides/backends"
	"github.com/sysblocks/sysblocks/examples/rides/rides"
	"github.com/sysblocks/sysblocks/internal/ops"
)

// Pickup point of the tests: Bengaluru, MG Road.
const (
	pickLat, pickLng = 12.9716, 77.5946
	dropLat, dropLng = 12.9352, 77.6245
)

// waitLimit bounds every wait of the tests; nothing is timed against it.
const waitLimit = 60 * time.Second

// clock is time.Now shifted by an offset the test can advance.
type clock struct{ offset atomic.Int64 }

func (c *clock) Now() time.Time          { return time.Now().Add(time.Duration(c.offset.Load())) }
func (c *clock) Advance(d time.Duration) { c.offset.Add(int64(d)) }

type stackFunc func(t *testing.T, s backends.Settings) *backends.Stack

func memoryStack(t *testing.T, s backends.Settings) *backends.Stack {
	st, err := backends.Memory(s)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return st
}

// env is one running service behind an httptest server.
type env struct {
	t     *testing.T
	base  string // http://host:port of the service
	svc   *rides.Service
	stack *backends.Stack
	clock *clock
	stop  func() // stops Run and waits for it
}

func start(t *testing.T, newStack stackFunc, cfg rides.Config, mods ...func(*rides.Config)) *env {
	t.Helper()
	c := &clock{}
	st := newStack(t, backends.Settings{Now: c.Now})
	cfg.Now = c.Now
	if cfg.Ops == nil {
		cfg.Ops = ops.New("rides_test")
	}
	st.Apply(&cfg)
	for _, mod := range mods {
		mod(&cfg)
	}
	svc, err := rides.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(svc.Handler())
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- svc.Run(ctx) }()
	var once sync.Once
	e := &env{t: t, base: srv.URL, svc: svc, stack: st, clock: c}
	e.stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("Run: %v", err)
			}
		})
	}
	t.Cleanup(func() {
		e.stop()
		srv.Close()
	})
	// Ready when /healthz says so: Run has started.
	e.eventually("healthz ok", func() bool { return e.do("GET", "/healthz", "").status == http.StatusOK })
	return e
}

// eventually polls cond until it holds; it fails the test after waitLimit.
func (e *env) eventually(what string, cond func() bool) {
	e.t.Helper()
	deadline := time.Now().Add(waitLimit)
	for !cond() {
		if time.Now().After(deadline) {
			e.t.Fatalf("waited %v for %s", waitLimit, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

type resp struct {
	status int
	body   []byte
	header http.Header
}

func (r resp) json(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("decode %s: %v", r.body, err)
	}
}

func (r resp) code(t *testing.T) string {
	t.Helper()
	var e struct{ Code string }
	_ = json.Unmarshal(r.body, &e)
	return e.Code
}

func (e *env) do(method, path, body string) resp {
	e.t.Helper()
	req, err := http.NewRequest(method, e.base+path, strings.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return resp{status: res.StatusCode, body: b, header: res.Header}
}

// want fails unless r has the given status (and error code, if not empty).
func (e *env) want(r resp, status int, code, what string) {
	e.t.Helper()
	if r.status != status || (code != "" && r.code(e.t) != code) {
		e.t.Errorf("%s: got %d %s; want %d %s", what, r.status, bytes.TrimSpace(r.body), status, code)
	}
}

type tripJSON struct {
	ID         string   `json:"id"`
	Rider      string   `json:"rider"`
	Driver     string   `json:"driver"`
	State      string   `json:"state"`
	Premium    bool     `json:"premium"`
	Surge      float64  `json:"surge"`
	Fare       float64  `json:"fare"`
	PickupETAS *float64 `json:"pickup_eta_s"`
	Reason     string   `json:"reason"`
	EndedAt    *string  `json:"ended_at"`
}

func (e *env) book(rider string, premium bool) tripJSON {
	e.t.Helper()
	r := e.do("POST", "/v1/trips", fmt.Sprintf(`{"rider":%q,"lat":%v,"lng":%v,"dest_lat":%v,"dest_lng":%v,"premium":%v}`,
		rider, pickLat, pickLng, dropLat, dropLng, premium))
	if r.status != http.StatusAccepted {
		e.t.Fatalf("book %s: got %d %s; want 202", rider, r.status, r.body)
	}
	var t tripJSON
	r.json(e.t, &t)
	if t.ID == "" || t.Rider != rider || r.header.Get("Location") != "/v1/trips/"+t.ID {
		e.t.Fatalf("book %s: got %+v, Location %q", rider, t, r.header.Get("Location"))
	}
	return t
}

func (e *env) trip(id string) tripJSON {
	e.t.Helper()
	r := e.do("GET", "/v1/trips/"+id, "")
	if r.status != http.StatusOK {
		e.t.Fatalf("GET trip %s: got %d %s", id, r.status, r.body)
	}
	var t tripJSON
	r.json(e.t, &t)
	return t
}

// tripIn waits until the trip reaches state.
func (e *env) tripIn(id, state string) tripJSON {
	e.t.Helper()
	var t tripJSON
	e.eventually("trip "+id+" "+state, func() bool { t = e.trip(id); return t.State == state })
	return t
}

// frame is any frame from the server.
type frame struct {
	Type   string    `json:"type"`
	Re     string    `json:"re"`
	Trip   *tripJSON `json:"trip"`
	TripID string    `json:"trip_id"`
	Code   string    `json:"code"`
	Error  string    `json:"error"`
	Offer  *struct {
		Trip       string  `json:"trip"`
		Rider      string  `json:"rider"`
		ETASeconds float64 `json:"eta_s"`
		Round      int     `json:"round"`
	} `json:"offer"`
}

// driver is a driver app: a websocket and every frame received on it.
type driver struct {
	t    *testing.T
	id   string
	conn *websocket.Conn
	seq  atomic.Int64

	mu       sync.Mutex
	frames   []frame
	used     []bool
	changed  chan struct{}
	closeErr error // set when the read loop ends
	done     chan struct{}
}

func (e *env) wsURL(query string) string {
	return "ws" + strings.TrimPrefix(e.base, "http") + "/v1/drivers/ws?" + query
}

func (e *env) connect(id string) *driver {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	conn, _, err := websocket.Dial(ctx, e.wsURL("driver="+id), nil)
	if err != nil {
		e.t.Fatalf("dial driver %s: %v", id, err)
	}
	d := &driver{t: e.t, id: id, conn: conn, changed: make(chan struct{}), done: make(chan struct{})}
	go d.readLoop()
	e.t.Cleanup(d.close)
	return d
}

func (d *driver) readLoop() {
	defer close(d.done)
	for {
		_, b, err := d.conn.Read(context.Background())
		d.mu.Lock()
		if err != nil {
			d.closeErr = err
		} else {
			var f frame
			if jerr := json.Unmarshal(b, &f); jerr != nil {
				d.t.Errorf("driver %s: bad frame %s: %v", d.id, b, jerr)
			}
			d.frames = append(d.frames, f)
			d.used = append(d.used, false)
		}
		close(d.changed)
		d.changed = make(chan struct{})
		d.mu.Unlock()
		if err != nil {
			return
		}
	}
}

func (d *driver) close() {
	_ = d.conn.Close(websocket.StatusNormalClosure, "")
	<-d.done
}

// await returns the first frame not returned before that matches pred.
func (d *driver) await(what string, pred func(frame) bool) frame {
	d.t.Helper()
	deadline := time.NewTimer(waitLimit)
	defer deadline.Stop()
	for {
		d.mu.Lock()
		for i, f := range d.frames {
			if !d.used[i] && pred(f) {
				d.used[i] = true
				d.mu.Unlock()
				return f
			}
		}
		ch, closed := d.changed, d.closeErr
		d.mu.Unlock()
		if closed != nil {
			d.t.Fatalf("driver %s: waiting for %s: connection closed: %v", d.id, what, closed)
		}
		select {
		case <-ch:
		case <-deadline.C:
			d.t.Fatalf("driver %s: waited %v for %s", d.id, waitLimit, what)
		}
	}
}

// closed waits until the server closes the connection and returns its
// close status.
func (d *driver) closed() websocket.StatusCode {
	d.t.Helper()
	select {
	case <-d.done:
	case <-time.After(waitLimit):
		d.t.Fatalf("driver %s: connection still open after %v", d.id, waitLimit)
	}
	return websocket.CloseStatus(d.closeErr)
}

func (d *driver) send(v any) {
	d.t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		d.t.Fatal(err)
	}
	d.sendRaw(websocket.MessageText, b)
}

func (d *driver) sendRaw(typ websocket.MessageType, b []byte) {
	d.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	if err := d.conn.Write(ctx, typ, b); err != nil {
		d.t.Fatalf("driver %s: write: %v", d.id, err)
	}
}

// request sends a frame with a fresh id and returns the reply.
func (d *driver) request(f map[string]any) frame {
	d.t.Helper()
	id := fmt.Sprintf("%s-%d", d.id, d.seq.Add(1))
	f["id"] = id
	d.send(f)
	return d.await("reply "+id, func(r frame) bool { return r.Re == id })
}

func (d *driver) ping(lat, lng float64) {
	d.t.Helper()
	if r := d.request(map[string]any{"type": "location", "lat": lat, "lng": lng}); r.Type != "ack" {
		d.t.Fatalf("driver %s: ping: got %+v; want ack", d.id, r)
	}
}

func (d *driver) offer(trip string) frame {
	d.t.Helper()
	return d.await("offer of "+trip, func(f frame) bool { return f.Type == "offer" && f.Offer.Trip == trip })
}
