package rides

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/coder/websocket"

	"github.com/sysblocks/sysblocks/geogrid"
)

// The driver protocol: JSON text frames over GET /v1/drivers/ws?driver=ID.
//
// Driver to server (id is optional; a reply carries it back as "re"):
//
//	{"type":"location","id":"7","lat":12.97,"lng":77.59}   -> {"type":"ack","re":"7"} when id is set
//	{"type":"accept","id":"8","trip":"t_..."}              -> {"type":"accepted","re":"8","trip":{...}}
//	{"type":"start","trip":"t_..."}                        -> {"type":"started","trip":{...}}
//	{"type":"complete","trip":"t_..."}                     -> {"type":"completed","trip":{...}}
//
// Server to driver, unprompted:
//
//	{"type":"offer","offer":{"trip":...,"pickup":{...},"eta_s":...,"expires":...}}
//	{"type":"assigned","trip":{...}}    premium trip given directly to this driver
//	{"type":"cancelled","trip":{...}}   the rider cancelled this driver's trip
//
// A request that fails gets {"type":"error","re":...,"trip_id":...,"code":...,"error":...}
// with code invalid_input, unknown_type, not_found, no_offer, claimed, bad_state,
// forbidden or internal; the connection stays open. A frame that is not a
// JSON object closes the connection with 1007 (invalid frame payload data), a
// binary frame with 1003 (unsupported data), a frame over 4 KiB with 1009
// (message too big); a newer connection of the same driver closes the older
// one with 1008 (policy violation), and shutdown closes every connection
// with 1001 (going away).

// MaxFrame is the largest frame a driver may send, in bytes.
const MaxFrame = 4096

// frameIn is a frame from a driver.
type frameIn struct {
	Type string   `json:"type"`
	ID   string   `json:"id,omitempty"`
	Lat  *float64 `json:"lat,omitempty"`
	Lng  *float64 `json:"lng,omitempty"`
	Trip string   `json:"trip,omitempty"`
}

// parseFrame decodes one frame: a single JSON object with string type, id
// and trip and numeric lat and lng. Unknown fields are ignored.
func parseFrame(data []byte) (frameIn, error) {
	var f frameIn
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&f); err != nil {
		return frameIn{}, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return frameIn{}, errors.New("data after the JSON object")
	}
	if len(f.ID) > 64 {
		return frameIn{}, errors.New("id longer than 64 bytes")
	}
	return f, nil
}

// frameOut is a frame to a driver.
type frameOut struct {
	Type   string     `json:"type"`
	Re     string     `json:"re,omitempty"`
	Trip   *tripView  `json:"trip,omitempty"`
	Offer  *offerView `json:"offer,omitempty"`
	TripID string     `json:"trip_id,omitempty"`
	Code   string     `json:"code,omitempty"`
	Error  string     `json:"error,omitempty"`
}

type offerView struct {
	Trip       string    `json:"trip"`
	Rider      string    `json:"rider"`
	Pickup     point     `json:"pickup"`
	ETASeconds float64   `json:"eta_s"`
	Meters     float64   `json:"meters"`
	Round      int       `json:"round"`
	Expires    time.Time `json:"expires"`
}

type closeReq struct {
	code   websocket.StatusCode
	reason string
}

// session is one driver's websocket. Only its writer goroutine writes to
// the connection or closes it.
type session struct {
	driver string
	conn   *websocket.Conn
	out    chan []byte
	kills  chan closeReq
	done   chan struct{} // closed when the writer returns
}

func (ss *session) kill(code websocket.StatusCode, reason string) {
	select {
	case ss.kills <- closeReq{code, reason}:
	default: // a close is already asked for
	}
}

// enqueue queues b without blocking. A driver whose queue is full is too
// slow to be useful: its connection is closed.
func (ss *session) enqueue(b []byte) error {
	select {
	case <-ss.done:
		return errors.New("rides: driver connection closed")
	case ss.out <- b:
		return nil
	default:
		ss.kill(websocket.StatusPolicyViolation, "send queue full")
		return errors.New("rides: driver send queue full")
	}
}

func (ss *session) writeLoop() {
	defer close(ss.done)
	for {
		select {
		case k := <-ss.kills:
			_ = ss.conn.Close(k.code, k.reason)
			return
		case b := <-ss.out:
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			err := ss.conn.Write(ctx, websocket.MessageText, b)
			cancel()
			if err != nil {
				_ = ss.conn.CloseNow()
				return
			}
		}
	}
}

// hub maps each connected driver to its session.
type hub struct {
	mu       sync.Mutex
	closed   bool
	sessions map[string]*session
}

func newHub() *hub { return &hub{closed: true, sessions: map[string]*session{}} }

func (h *hub) open() {
	h.mu.Lock()
	h.closed = false
	h.mu.Unlock()
}

// put makes ss the driver's session and returns the one it replaces.
func (h *hub) put(ss *session) (old *session, ok bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return nil, false
	}
	old = h.sessions[ss.driver]
	h.sessions[ss.driver] = ss
	return old, true
}

// remove drops ss if it is still its driver's session.
func (h *hub) remove(ss *session) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.sessions[ss.driver] != ss {
		return false
	}
	delete(h.sessions, ss.driver)
	return true
}

func (h *hub) get(driver string) *session {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.sessions[driver]
}

func (h *hub) online(driver string) bool { return h.get(driver) != nil }

func (h *hub) len() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.sessions)
}

// closeAll refuses new sessions and closes every open one.
func (h *hub) closeAll(code websocket.StatusCode, reason string) {
	h.mu.Lock()
	h.closed = true
	for _, ss := range h.sessions {
		ss.kill(code, reason)
	}
	h.mu.Unlock()
}

// send pushes f to the driver's websocket if the driver is connected here.
func (s *Service) send(driver string, f frameOut) error {
	ss := s.hub.get(driver)
	if ss == nil {
		return fmt.Errorf("rides: driver %s is not connected", driver)
	}
	b, err := json.Marshal(f)
	if err != nil {
		return err
	}
	return ss.enqueue(b)
}

func (s *Service) serveDriver(w http.ResponseWriter, r *http.Request) {
	driver := r.URL.Query().Get("driver")
	if !validID(driver) {
		writeError(w, inputErr("driver %q: want ?driver= with 1 to 64 letters, digits, '.', '_' or '-'", driver))
		return
	}
	if !s.enter() {
		writeError(w, ErrNotRunning)
		return
	}
	defer s.wg.Done()
	conn, err := websocket.Accept(w, r, nil) // answers non-websocket requests itself
	if err != nil {
		return
	}
	conn.SetReadLimit(MaxFrame)
	ss := &session{driver: driver, conn: conn, out: make(chan []byte, 64), kills: make(chan closeReq, 1), done: make(chan struct{})}
	old, ok := s.hub.put(ss)
	if !ok {
		_ = conn.Close(websocket.StatusGoingAway, "server shutting down")
		return
	}
	s.c.sessions.Add(1)
	if old != nil {
		s.c.replaced.Add(1)
		old.kill(websocket.StatusPolicyViolation, "replaced by a newer connection")
	}
	var wg sync.WaitGroup
	wg.Go(ss.writeLoop)
	s.log.Debug("driver connected", "driver", driver)
	s.readLoop(r.Context(), ss)
	ss.kill(websocket.StatusNormalClosure, "")
	wg.Wait()
	if s.hub.remove(ss) {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), 5*time.Second)
		if err := s.grid.Remove(ctx, driver); err != nil && !errors.Is(err, geogrid.ErrNotFound) {
			s.log.Error("remove driver from the grid", "driver", driver, "err", err)
		}
		cancel()
	}
	s.log.Debug("driver disconnected", "driver", driver)
}

func (s *Service) readLoop(ctx context.Context, ss *session) {
	for {
		typ, data, err := ss.conn.Read(ctx)
		if err != nil {
			return
		}
		if typ != websocket.MessageText {
			s.c.framesMalformed.Add(1)
			ss.kill(websocket.StatusUnsupportedData, "text frames only")
			return
		}
		f, err := parseFrame(data)
		if err != nil {
			s.c.framesMalformed.Add(1)
			reason := "malformed frame: " + err.Error()
			if len(reason) > 120 {
				reason = reason[:120]
			}
			ss.kill(websocket.StatusInvalidFramePayloadData, reason)
			return
		}
		s.handleFrame(ctx, ss, f)
	}
}

func (s *Service) handleFrame(ctx context.Context, ss *session, f frameIn) {
	reply := func(out frameOut, err error) {
		out.Re = f.ID
		if err != nil {
			code, _ := errCode(err)
			out = frameOut{Type: "error", Re: f.ID, TripID: f.Trip, Code: code, Error: err.Error()}
		}
		_ = ss.enqueue(mustJSON(out))
	}
	tripOp := func(typ string, op func(context.Context, string, string) (Trip, error)) {
		if f.Trip == "" {
			reply(frameOut{}, inputErr("%s: trip is required", f.Type))
			return
		}
		t, err := op(ctx, ss.driver, f.Trip)
		reply(frameOut{Type: typ, Trip: s.view(t)}, err)
	}
	switch f.Type {
	case "location":
		if f.Lat == nil || f.Lng == nil {
			reply(frameOut{}, inputErr("location: lat and lng are required"))
			return
		}
		err := s.Ping(ctx, ss.driver, *f.Lat, *f.Lng)
		if err != nil || f.ID != "" {
			reply(frameOut{Type: "ack"}, err)
		}
	case "accept":
		tripOp("accepted", s.Accept)
	case "start":
		tripOp("started", s.Start)
	case "complete":
		tripOp("completed", s.Complete)
	default:
		reply(frameOut{Type: "error", Code: "unknown_type",
			Error: fmt.Sprintf("unknown frame type %q: want location, accept, start or complete", f.Type)}, nil)
	}
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}
