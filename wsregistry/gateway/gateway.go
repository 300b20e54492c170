package gateway

import (
	"bufio"
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
)

// Handler receives a gateway's connection events. Calls for one connection
// never overlap: Open, then Message for each data message in order, then
// Close exactly once. Calls for different connections run concurrently.
// Open and Message run on the connection's reader, which also reads the
// pongs that answer heartbeats: a call that outlasts Options.PongTimeout
// can get a live client dropped as dead. Hand long work to another goroutine.
type Handler interface {
	// Open is called after the upgrade, before any Message. The connection
	// may already Send. An error closes the connection (with the code of a
	// *CloseError, else CloseInternalError); Close is still called.
	Open(ctx context.Context, c *Conn) error
	// Message is called with each text message (binary too when
	// Options.AllowBinary is set). data is owned by the handler. An error
	// closes the connection: return CloseWith(CloseInvalidPayload, ...) for
	// content the handler cannot parse.
	Message(ctx context.Context, c *Conn, data []byte) error
	// Close is called once when the connection has ended, after Open and
	// every Message returned and after the queued messages were written or
	// dropped. err says why (never nil): a *CloseError from the peer or the
	// application, ErrQueueFull, ErrRateLimited, ErrPongTimeout,
	// ErrWriteTimeout, ErrShutdown or a network error.
	Close(c *Conn, err error)
}

// Options configures a [Gateway]. The zero value of every field selects its
// documented default; a nil *Options selects all defaults.
type Options struct {
	// QueueSize bounds the messages waiting to be written to one connection.
	// A Send that finds the queue full closes the connection with
	// CloseQueueFull. Default 64.
	QueueSize int
	// MaxMessageBytes is the largest message accepted from a client; a longer
	// one closes the connection with CloseMessageTooBig (1009). Default 32 KiB.
	MaxMessageBytes int64
	// PingInterval is the time between heartbeat pings to a connection;
	// negative disables heartbeats. Default 25s. The first ping of each
	// connection comes at a random point within the first interval, so that
	// pings of connections opened together do not all go out together.
	PingInterval time.Duration
	// PongTimeout is how long a ping waits for its pong before the peer is
	// considered dead and the connection is dropped. The ping waits behind a
	// message being written, so a client too slow to take a ping within
	// PongTimeout is dropped too. Default 10s.
	PongTimeout time.Duration
	// WriteTimeout bounds the write of one message or close frame. A write
	// that takes longer drops the connection. Default 10s.
	WriteTimeout time.Duration
	// Rate is the sustained number of messages per second one connection may
	// send, with bursts of up to Burst; a client over the limit is closed with
	// CloseRateLimited. Default 20 per second; negative means no limit.
	Rate float64
	// Burst is the token bucket size of the per-connection rate limit. Default
	// 2*Rate, at least 1.
	Burst int
	// ReadBufferSize and WriteBufferSize size each connection's read and write
	// buffers; they are most of an idle connection's memory. A message larger
	// than a buffer still goes through, in more system calls. Default 1 KiB
	// each, smaller than net/http's 4 KiB.
	ReadBufferSize  int
	WriteBufferSize int
	// AllowBinary accepts binary messages. By default only text messages are
	// accepted and a binary message closes the connection with
	// CloseUnsupportedData (1003).
	AllowBinary bool
	// OriginPatterns lists the hosts (path.Match patterns) whose pages may
	// open connections besides the request's own host. Default none: only
	// same-origin browsers and non-browser clients.
	OriginPatterns []string
	// Logger receives debug records of connection ends. Default discard.
	Logger *slog.Logger
	// Now is the clock of the rate limiter. Default time.Now.
	Now func() time.Time
}

// Stats is a snapshot of a gateway's counters.
type Stats struct {
	Open         int64 // connections open now (decremented before Handler.Close)
	Accepted     int64 // upgrades completed since New
	Rejected     int64 // requests refused: bad token, failed upgrade, or draining
	Dropped      int64 // connections closed because their send queue overflowed
	RateLimited  int64 // connections closed for sending too fast
	PongTimeout  int64 // connections dropped because a ping went unanswered
	WriteTimeout int64 // connections dropped because a write outlasted Options.WriteTimeout
	MessagesIn   int64 // messages handed to Handler.Message
	MessagesOut  int64 // messages written to clients
}

// Gateway accepts websocket connections for authenticated clients and runs
// each one: reads (with a size and rate limit) to a [Handler], a bounded
// send queue, heartbeats, and a graceful drain on [Gateway.Shutdown].
// A Gateway is an [http.Handler] and is safe for concurrent use.
type Gateway struct {
	auth Authenticator
	h    Handler
	o    Options
	acc  websocket.AcceptOptions

	mu       sync.Mutex
	draining bool
	conns    map[*Conn]struct{}
	wg       sync.WaitGroup

	seq                                                atomic.Uint64
	open, accepted, rejected, dropped, limited         atomic.Int64
	pongTimeout, writeTimeout, messagesIn, messagesOut atomic.Int64
}

// New returns a Gateway that authenticates requests with auth and hands
// connections to h. It starts no goroutine; each accepted connection runs
// on one of its own until it ends.
func New(auth Authenticator, h Handler, opts *Options) (*Gateway, error) {
	if auth == nil || h == nil {
		return nil, errors.New("gateway: new: nil Authenticator or Handler")
	}
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.QueueSize < 0 || o.MaxMessageBytes < 0 || o.ReadBufferSize < 0 || o.WriteBufferSize < 0 || o.Burst < 0 || o.PongTimeout < 0 || o.WriteTimeout < 0 {
		return nil, errors.New("gateway: new: negative QueueSize, MaxMessageBytes, Burst or timeout")
	}
	if o.QueueSize == 0 {
		o.QueueSize = 64
	}
	if o.ReadBufferSize == 0 {
		o.ReadBufferSize = 1 << 10
	}
	if o.WriteBufferSize == 0 {
		o.WriteBufferSize = 1 << 10
	}
	if o.MaxMessageBytes == 0 {
		o.MaxMessageBytes = 32 << 10
	}
	if o.PingInterval == 0 {
		o.PingInterval = 25 * time.Second
	}
	if o.PongTimeout == 0 {
		o.PongTimeout = 10 * time.Second
	}
	if o.WriteTimeout == 0 {
		o.WriteTimeout = 10 * time.Second
	}
	if o.Rate == 0 {
		o.Rate = 20
	}
	if o.Burst == 0 {
		o.Burst = max(1, int(2*o.Rate))
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	g := &Gateway{
		auth:  auth,
		h:     h,
		o:     o,
		conns: make(map[*Conn]struct{}),
	}
	g.acc = websocket.AcceptOptions{
		OriginPatterns:  o.OriginPatterns,
		CompressionMode: websocket.CompressionDisabled,
	}
	return g, nil
}

// Stats returns a snapshot of the gateway's counters.
func (g *Gateway) Stats() Stats {
	return Stats{
		Open:         g.open.Load(),
		Accepted:     g.accepted.Load(),
		Rejected:     g.rejected.Load(),
		Dropped:      g.dropped.Load(),
		RateLimited:  g.limited.Load(),
		PongTimeout:  g.pongTimeout.Load(),
		WriteTimeout: g.writeTimeout.Load(),
		MessagesIn:   g.messagesIn.Load(),
		MessagesOut:  g.messagesOut.Load(),
	}
}

// ServeHTTP authenticates the request (401 Unauthorized on failure, before
// any upgrade) and upgrades it to a websocket. It returns once the upgrade is
// done; the connection then runs on a goroutine of its own, so that the
// buffers and stack net/http used for the handshake are freed. While the
// gateway is draining ServeHTTP answers 503 Service Unavailable.
func (g *Gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	g.mu.Lock()
	if g.draining {
		g.mu.Unlock()
		g.rejected.Add(1)
		http.Error(w, "gateway: shutting down", http.StatusServiceUnavailable)
		return
	}
	g.wg.Add(1)
	g.mu.Unlock()
	c := g.accept(w, r)
	if c == nil {
		g.wg.Done()
		return
	}
	ctx := context.WithoutCancel(r.Context())
	go func() {
		defer g.wg.Done()
		c.run(ctx)
		g.mu.Lock()
		delete(g.conns, c)
		g.mu.Unlock()
	}()
}

// accept authenticates and upgrades the request and registers the
// connection; it returns nil if the request was refused.
func (g *Gateway) accept(w http.ResponseWriter, r *http.Request) *Conn {
	id, err := g.auth.Authenticate(r)
	if err != nil {
		g.rejected.Add(1)
		http.Error(w, "unauthorized", http.StatusUnauthorized)
		return nil
	}
	ws, err := websocket.Accept(&sizedWriter{w, g.o.ReadBufferSize, g.o.WriteBufferSize}, r, &g.acc)
	if err != nil {
		g.rejected.Add(1) // Accept has written the response
		return nil
	}
	ws.SetReadLimit(g.o.MaxMessageBytes)
	c := &Conn{
		g:      g,
		ws:     ws,
		id:     strconv.FormatUint(g.seq.Add(1), 36),
		ident:  id,
		tokens: float64(g.o.Burst),
		last:   g.o.Now(),
	}
	g.accepted.Add(1)
	g.open.Add(1)
	g.mu.Lock()
	draining := g.draining
	if !draining {
		g.conns[c] = struct{}{}
	}
	g.mu.Unlock()
	if draining {
		c.end(ErrShutdown, CloseGoingAway, "going away", false)
	}
	return c
}

// Shutdown drains the gateway: it refuses new connections (503), then
// closes every open connection with CloseGoingAway (1001) after writing the
// messages already queued for it, and waits until every connection's
// [Handler.Close] has returned. If ctx ends first, the remaining connections
// are dropped without a close handshake and Shutdown returns ctx's error
// without waiting further for their handlers.
// Shutdown does not close listeners: call it before or after
// [http.Server.Shutdown], which does not track websocket connections.
func (g *Gateway) Shutdown(ctx context.Context) error {
	g.mu.Lock()
	g.draining = true
	conns := make([]*Conn, 0, len(g.conns))
	for c := range g.conns {
		conns = append(conns, c)
	}
	g.mu.Unlock()
	for _, c := range conns {
		c.end(ErrShutdown, CloseGoingAway, "going away", true)
	}
	done := make(chan struct{})
	go func() {
		g.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
	}
	g.mu.Lock()
	conns = conns[:0]
	for c := range g.conns {
		conns = append(conns, c)
	}
	g.mu.Unlock()
	for _, c := range conns {
		c.ws.CloseNow()
	}
	return ctx.Err()
}

// sizedWriter hands the websocket library buffers of the configured sizes
// instead of the 4 KiB ones net/http gives a hijacked connection.
type sizedWriter struct {
	http.ResponseWriter
	rsize, wsize int
}

// Hijack implements http.Hijacker.
func (w *sizedWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	conn, brw, err := http.NewResponseController(w.ResponseWriter).Hijack()
	if err != nil {
		return nil, nil, err
	}
	r := brw.Reader
	if r.Buffered() == 0 { // the client waits for the 101: usually nothing is buffered
		r = bufio.NewReaderSize(conn, w.rsize)
	}
	return conn, bufio.NewReadWriter(r, bufio.NewWriterSize(conn, w.wsize)), nil
}
