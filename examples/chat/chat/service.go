package chat

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sysblocks/sysblocks/events"
	"github.com/sysblocks/sysblocks/wsregistry"
	"github.com/sysblocks/sysblocks/wsregistry/gateway"
)

// DefaultGroupTopic is the Kafka topic of group messages.
const DefaultGroupTopic = "chat-group-messages"

// Config wires a Service: one gateway host of the chat.
type Config struct {
	// Host names this gateway in the registry; the host-to-host transport
	// must deliver what is addressed to Host to Service.Deliver.
	Host string
	// Registry and Router are the connection registry and message router
	// shared by every gateway (wsregistry).
	Registry *wsregistry.Registry
	Router   *wsregistry.Router
	// Directory is the user and group service, Media the asset service.
	Directory *Directory
	Media     *Media
	// Tokens signs the tokens issued at login; every gateway must share
	// its secret, so that a client can reconnect to any of them.
	Tokens *gateway.Tokens
	// Groups publishes group messages to GroupTopic (default
	// DefaultGroupTopic), where GroupFanout consumes them.
	Groups     events.Sender
	GroupTopic string
	// Gateway tunes the websocket gateway; nil means the defaults below.
	// MaxMessageBytes is always MaxFrame.
	Gateway *gateway.Options
	// Logger receives errors of background work. Nil discards them.
	Logger *slog.Logger
	// Now is the clock of group messages. Nil means time.Now.
	Now func() time.Time
	// FrameTimeout bounds the handling of one client frame (stores,
	// lookups, publishing). Zero means 10s.
	FrameTimeout time.Duration
}

// Stats counts what a Service did.
type Stats struct {
	Local      int64 // connections open on this host
	Sent       int64 // direct messages stored
	GroupSent  int64 // group messages published
	Receipts   int64 // receipts sent
	Resyncs    int64 // resync requests served
	BadFrames  int64 // frames refused with an error frame or a close
	Delivered  int64 // messages written to local sockets by Deliver
	NotHere    int64 // Deliver calls for a user with no socket here
	Heartbeats int64 // registry leases renewed
}

// Service is one chat gateway host: it runs the websocket protocol of the
// page for its connections (through a gateway.Gateway), registers them in
// the shared registry, routes direct messages through the Router and
// group messages through Kafka, and delivers what the transport brings
// for its host. It is safe for concurrent use.
type Service struct {
	cfg   Config
	gw    *gateway.Gateway
	log   *slog.Logger
	pub   *events.Publisher
	mu    sync.Mutex
	local map[string]map[*gateway.Conn]struct{} // user -> sockets on this host
	// originPatterns are the other gateways' hosts, for CORS.
	originPatterns []string
	counter        struct {
		sent, groupSent, receipts, resyncs, bad, delivered, notHere, heartbeats atomic.Int64
	}
}

// New returns a Service. It starts no goroutine: heartbeats run in Run.
func New(cfg Config) (*Service, error) {
	if cfg.Host == "" || cfg.Registry == nil || cfg.Router == nil || cfg.Directory == nil || cfg.Media == nil ||
		cfg.Tokens == nil || cfg.Groups == nil {
		return nil, fmt.Errorf("chat: new: Host, Registry, Router, Directory, Media, Tokens and Groups are required: %w", ErrInvalid)
	}
	if cfg.GroupTopic == "" {
		cfg.GroupTopic = DefaultGroupTopic
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.FrameTimeout <= 0 {
		cfg.FrameTimeout = 10 * time.Second
	}
	s := &Service{cfg: cfg, log: cfg.Logger, local: map[string]map[*gateway.Conn]struct{}{}}
	s.pub = events.NewPublisher(cfg.Groups, &events.PublisherOptions{Topic: cfg.GroupTopic})
	var gopts gateway.Options
	if cfg.Gateway != nil {
		gopts = *cfg.Gateway
	}
	gopts.MaxMessageBytes = MaxFrame
	s.originPatterns = gopts.OriginPatterns
	if gopts.Logger == nil {
		gopts.Logger = cfg.Logger
	}
	gw, err := gateway.New(cfg.Tokens, s, &gopts)
	if err != nil {
		return nil, err
	}
	s.gw = gw
	return s, nil
}

// Gateway returns the websocket gateway, an http.Handler for /ws.
func (s *Service) Gateway() *gateway.Gateway { return s.gw }

// Host returns the host name of this gateway.
func (s *Service) Host() string { return s.cfg.Host }

// Stats returns a snapshot of the counters.
func (s *Service) Stats() Stats {
	s.mu.Lock()
	var n int64
	for _, cs := range s.local {
		n += int64(len(cs))
	}
	s.mu.Unlock()
	c := &s.counter
	return Stats{Local: n, Sent: c.sent.Load(), GroupSent: c.groupSent.Load(), Receipts: c.receipts.Load(),
		Resyncs: c.resyncs.Load(), BadFrames: c.bad.Load(), Delivered: c.delivered.Load(), NotHere: c.notHere.Load(),
		Heartbeats: c.heartbeats.Load()}
}

func (s *Service) send(c *gateway.Conn, o Out) {
	b, _ := json.Marshal(o) // Out has no unencodable fields
	_ = c.Send(b)           // a full queue closes the socket; the inbox keeps the messages
}

// Open implements gateway.Handler: it registers the socket in the registry
// (before the client's resync, as wsregistry requires) and says hello.
func (s *Service) Open(ctx context.Context, c *gateway.Conn) error {
	id := c.Identity()
	if !ValidName(id.User) {
		return gateway.CloseWith(gateway.ClosePolicyViolation, "bad user")
	}
	s.mu.Lock()
	if s.local[id.User] == nil {
		s.local[id.User] = map[*gateway.Conn]struct{}{}
	}
	s.local[id.User][c] = struct{}{}
	s.mu.Unlock()
	if _, err := s.cfg.Registry.Register(ctx, id.User, id.Device, s.cfg.Host); err != nil {
		return fmt.Errorf("chat: register %s: %w", id.User, err)
	}
	s.send(c, Out{Type: "hello", User: id.User, Device: id.Device, Host: s.cfg.Host})
	return nil
}

// Close implements gateway.Handler: it forgets the socket and releases its
// lease unless another socket of the same device is open here.
func (s *Service) Close(c *gateway.Conn, _ error) {
	id := c.Identity()
	s.mu.Lock()
	delete(s.local[id.User], c)
	same := false
	for o := range s.local[id.User] {
		same = same || o.Identity().Device == id.Device
	}
	if len(s.local[id.User]) == 0 {
		delete(s.local, id.User)
	}
	s.mu.Unlock()
	if same {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.cfg.Registry.Unregister(ctx, id.User, id.Device, s.cfg.Host); err != nil {
		s.log.Warn("unregister", "user", id.User, "err", err)
	}
}

// Message implements gateway.Handler: one client frame. A frame that is not
// JSON closes the connection with 1007; a frame that is JSON but breaks the
// protocol gets an error frame and the connection stays.
func (s *Service) Message(ctx context.Context, c *gateway.Conn, data []byte) error {
	f, err := ParseFrame(data)
	if err != nil {
		s.counter.bad.Add(1)
		var fe *FrameError
		if !json.Valid(data) {
			return gateway.CloseWith(gateway.CloseInvalidPayload, "invalid json")
		}
		errors.As(err, &fe)
		s.send(c, Out{Type: "error", ID: f.ID, Code: fe.Code, Message: fe.Reason})
		return nil
	}
	user := c.Identity().User
	ctx, cancel := context.WithTimeout(ctx, s.cfg.FrameTimeout)
	defer cancel()
	switch f.Type {
	case TypeSend:
		err = s.handleSend(ctx, c, user, f)
	case TypeAck:
		err = s.handleAck(ctx, user, f)
	case TypeRead:
		err = s.receipt(ctx, user, f, KindRead)
	case TypeResync:
		err = s.handleResync(ctx, c, user, f.After)
	}
	if err != nil {
		s.counter.bad.Add(1)
		status, code := errorCode(err)
		msg := err.Error()
		if status >= 500 {
			s.log.Error("frame", "type", f.Type, "user", user, "err", err)
			msg = "internal error"
		}
		if errors.Is(err, errUnknownRecipient) {
			code = "unknown_recipient"
		}
		s.send(c, Out{Type: "error", ID: f.ID, Code: code, Message: msg})
	}
	return nil
}

var errUnknownRecipient = fmt.Errorf("unknown recipient: %w", ErrNotFound)

func (s *Service) mediaRef(ctx context.Context, hash string) (*MediaRef, error) {
	if hash == "" {
		return nil, nil
	}
	rc, a, err := s.cfg.Media.Open(ctx, hash)
	if err != nil {
		return nil, err
	}
	rc.Close()
	return &MediaRef{Hash: a.Hash, Type: a.ContentType, Size: a.Size, URL: a.URL()}, nil
}

func (s *Service) handleSend(ctx context.Context, c *gateway.Conn, user string, f Frame) error {
	media, err := s.mediaRef(ctx, f.Media)
	if err != nil {
		return err
	}
	kind := KindText
	if media != nil {
		kind = KindMedia
	}
	if f.Group != "" {
		ok, err := s.cfg.Directory.IsMember(ctx, f.Group, user)
		if errors.Is(err, ErrNotFound) {
			return fmt.Errorf("group %q: %w", f.Group, errUnknownRecipient)
		}
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("chat: group %q: not a member: %w", f.Group, ErrForbidden)
		}
		at := s.cfg.Now()
		ev, _ := json.Marshal(groupEvent{ID: f.ID, Group: f.Group, From: user, Kind: kind,
			Body: payload{Text: f.Text, Group: f.Group, Media: media}, At: at.UnixMilli()})
		if err := s.pub.Publish(ctx, events.Message{Key: []byte(f.Group), Value: ev}); err != nil {
			return fmt.Errorf("chat: publish group message: %w", err)
		}
		s.counter.groupSent.Add(1)
		s.send(c, Out{Type: "sent", ID: f.ID, Group: f.Group, At: at.UnixMilli()})
		return nil
	}
	if f.To == user {
		return fmt.Errorf("chat: send to yourself: %w", ErrInvalid)
	}
	ok, err := s.cfg.Directory.UserExists(ctx, f.To)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("user %q: %w", f.To, errUnknownRecipient)
	}
	body, _ := json.Marshal(payload{Text: f.Text, Media: media})
	m, err := s.cfg.Router.Send(ctx, wsregistry.Message{ID: f.ID, Conv: DirectConv(f.To, user), From: user, To: f.To, Kind: kind, Body: body})
	if err != nil {
		return routerErr(err)
	}
	s.counter.sent.Add(1)
	s.send(c, Out{Type: "sent", ID: m.ID, Conv: m.Conv, Seq: m.Seq, To: f.To, At: ms(m.At)})
	return nil
}

func routerErr(err error) error {
	switch {
	case errors.Is(err, wsregistry.ErrTooLarge):
		return fmt.Errorf("%w: %w", ErrTooLarge, err)
	case errors.Is(err, wsregistry.ErrInvalid), errors.Is(err, wsregistry.ErrUnknownConversation):
		return fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	return err
}

func (s *Service) handleAck(ctx context.Context, user string, f Frame) error {
	if err := s.cfg.Router.Ack(ctx, user, f.Conv, f.Seq); err != nil {
		return routerErr(err)
	}
	if f.ID == "" {
		return nil
	}
	return s.receipt(ctx, user, f, KindDelivered)
}

// receipt sends a delivered or read receipt for message f.ID, which user
// received in f.Conv from f.From, back to f.From. It checks that f.Conv is
// one of user's streams and that f.From may write to it.
func (s *Service) receipt(ctx context.Context, user string, f Frame, kind string) error {
	k, a, b, err := parseConv(f.Conv)
	if err != nil {
		return err
	}
	var m wsregistry.Message
	switch {
	case k == 'u' && a == user && b == f.From:
		m = wsregistry.Message{Conv: DirectConv(f.From, user)}
		m.Body, _ = json.Marshal(payload{Ref: f.ID})
	case k == 'g' && b == user:
		ok, err := s.cfg.Directory.IsMember(ctx, a, f.From)
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("chat: receipt: %q is not in %q: %w", f.From, a, ErrInvalid)
		}
		m = wsregistry.Message{Conv: GroupConv(a, f.From)}
		m.Body, _ = json.Marshal(payload{Ref: f.ID, Group: a})
	default:
		return fmt.Errorf("chat: receipt: conversation %q is not %s's stream from %s: %w", f.Conv, user, f.From, ErrInvalid)
	}
	if f.From == user {
		return nil
	}
	m.From, m.To, m.Kind = user, f.From, kind
	if _, err := s.cfg.Router.Send(ctx, m); err != nil {
		return routerErr(err)
	}
	s.counter.receipts.Add(1)
	return nil
}

// handleResync sends every message of the user's inbox after the client's
// positions, then a "synced" frame. Positions the server does not know (a
// conversation it never had, a sequence beyond its last) are dropped and the
// conversation is sent from its start: the client deduplicates by ID.
func (s *Service) handleResync(ctx context.Context, c *gateway.Conn, user string, after map[string]uint64) error {
	s.counter.resyncs.Add(1)
	const limit = 500
	for range 3 {
		msgs, err := s.cfg.Router.Resync(ctx, user, after, limit)
		var ce *wsregistry.ConversationError
		if errors.As(err, &ce) {
			delete(after, ce.Conv)
			continue
		}
		if err != nil {
			return err
		}
		for _, m := range msgs {
			s.send(c, outFrame(m))
		}
		s.send(c, Out{Type: "synced", Count: len(msgs), More: len(msgs) == limit})
		return nil
	}
	return fmt.Errorf("chat: resync: too many unknown positions: %w", ErrInvalid)
}

// outFrame is the "msg" frame of a stored message.
func outFrame(m wsregistry.Message) Out {
	var p payload
	_ = json.Unmarshal(m.Body, &p) // bodies are written by this package
	return Out{Type: "msg", ID: m.ID, Conv: m.Conv, Seq: m.Seq, From: m.From, To: m.To, Kind: m.Kind,
		Text: p.Text, Group: p.Group, Media: p.Media, Ref: p.Ref, At: ms(m.At)}
}

// Deliver is the wsregistry.Handler of this host: the transport calls it
// with each message addressed to a user whose socket the registry put
// here. It returns wsregistry.ErrNotConnected when the user has no socket
// here (the Router then refreshes its lookup).
func (s *Service) Deliver(_ context.Context, m wsregistry.Message) error {
	b, _ := json.Marshal(outFrame(m))
	s.mu.Lock()
	conns := make([]*gateway.Conn, 0, len(s.local[m.To]))
	for c := range s.local[m.To] {
		conns = append(conns, c)
	}
	s.mu.Unlock()
	sent := 0
	for _, c := range conns {
		if c.Send(b) == nil {
			sent++
		}
	}
	if sent == 0 {
		s.counter.notHere.Add(1)
		return wsregistry.ErrNotConnected
	}
	s.counter.delivered.Add(1)
	return nil
}

// Run renews the registry lease of every socket on this host every third
// of the lease until ctx ends. A socket whose lease another host took over
// (its device reconnected there) is closed.
func (s *Service) Run(ctx context.Context) error {
	t := time.NewTicker(s.cfg.Registry.Lease() / 3)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		s.mu.Lock()
		var conns []*gateway.Conn
		for _, cs := range s.local {
			for c := range cs {
				conns = append(conns, c)
			}
		}
		s.mu.Unlock()
		for _, c := range conns {
			id := c.Identity()
			_, err := s.cfg.Registry.Heartbeat(ctx, id.User, id.Device, s.cfg.Host)
			switch {
			case err == nil:
				s.counter.heartbeats.Add(1)
			case errors.Is(err, wsregistry.ErrNotFound):
				_ = c.Close(4001, "lease taken over")
			case ctx.Err() == nil:
				s.log.Warn("heartbeat", "user", id.User, "err", err)
			}
		}
	}
}

// Shutdown drains the gateway: sockets are closed with 1001 so that
// clients reconnect to another gateway.
func (s *Service) Shutdown(ctx context.Context) error { return s.gw.Shutdown(ctx) }
