package redisbus

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sysblocks/sysblocks/wsregistry"
)

// Options configures a [Bus]. The zero value is valid.
type Options struct {
	// Prefix starts every channel name. Empty means "wsr:host:".
	Prefix string

	// Logger receives a record per message that could not be decoded.
	// Nil discards them.
	Logger *slog.Logger
}

// Bus is a wsregistry.Transport over Redis pub/sub. It is safe for
// concurrent use.
type Bus struct {
	c      redis.UniversalClient
	prefix string
	log    *slog.Logger
}

var _ wsregistry.Transport = (*Bus)(nil)

// New returns a Bus on the caller's client.
func New(c redis.UniversalClient, opts *Options) (*Bus, error) {
	if c == nil {
		return nil, fmt.Errorf("redisbus: nil client: %w", wsregistry.ErrInvalid)
	}
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.Prefix == "" {
		o.Prefix = "wsr:host:"
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return &Bus{c: c, prefix: o.Prefix, log: o.Logger}, nil
}

// Channel returns the channel of host.
func (b *Bus) Channel(host string) string { return b.prefix + host }

// Deliver publishes m on host's channel. It returns an error matching
// wsregistry.ErrHostGone when no subscriber received it.
func (b *Bus) Deliver(ctx context.Context, host string, m wsregistry.Message) error {
	payload, err := Encode(m)
	if err != nil {
		return err
	}
	n, err := b.c.Publish(ctx, b.Channel(host), payload).Result()
	if err != nil {
		return fmt.Errorf("redisbus: deliver to %s: %w", host, err)
	}
	if n == 0 {
		return fmt.Errorf("redisbus: deliver to %s: no subscriber: %w", host, wsregistry.ErrHostGone)
	}
	return nil
}

// Listener is one host's subscription. Run it once.
type Listener struct {
	ps      *redis.PubSub
	h       wsregistry.Handler
	log     *slog.Logger
	bad     atomic.Uint64
	handled atomic.Uint64
}

// Listen subscribes to host's channel and returns once Redis has
// confirmed the subscription: from then on deliveries to host count it.
// Call Run to handle messages, or Close.
func (b *Bus) Listen(ctx context.Context, host string, h wsregistry.Handler) (*Listener, error) {
	if h == nil {
		return nil, fmt.Errorf("redisbus: listen %s: nil handler: %w", host, wsregistry.ErrInvalid)
	}
	ps := b.c.Subscribe(ctx, b.Channel(host))
	if _, err := ps.Receive(ctx); err != nil { // the subscription confirmation
		_ = ps.Close()
		return nil, fmt.Errorf("redisbus: listen %s: %w", host, err)
	}
	return &Listener{ps: ps, h: h, log: b.log}, nil
}

// Run passes each message to the handler, one at a time, until ctx ends,
// then unsubscribes and returns nil. Messages that cannot be decoded are
// counted and skipped; handler errors are ignored (pub/sub carries no
// reply; the message stays in the recipient's inbox).
func (l *Listener) Run(ctx context.Context) error {
	// A blocked read does not watch ctx: closing the subscription ends it.
	stop := make(chan struct{})
	watched := make(chan struct{})
	go func() {
		defer close(watched)
		select {
		case <-ctx.Done():
		case <-stop:
		}
		_ = l.ps.Close()
	}()
	defer func() { close(stop); <-watched }()
	for {
		msg, err := l.ps.ReceiveMessage(ctx)
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			if errors.Is(err, redis.ErrClosed) {
				return fmt.Errorf("redisbus: %w", wsregistry.ErrClosed)
			}
			// go-redis reconnects and resubscribes on the next call.
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(100 * time.Millisecond):
			}
			continue
		}
		m, err := Decode([]byte(msg.Payload))
		if err != nil {
			l.bad.Add(1)
			l.log.Warn("redisbus: undecodable message", "channel", msg.Channel, "err", err)
			continue
		}
		l.handled.Add(1)
		_ = l.h(ctx, m)
	}
}

// Close unsubscribes; a Run in progress then returns an error matching
// wsregistry.ErrClosed.
func (l *Listener) Close() error { return l.ps.Close() }

// Handled returns the number of messages passed to the handler.
func (l *Listener) Handled() uint64 { return l.handled.Load() }

// Undecodable returns the number of messages skipped because they could
// not be decoded.
func (l *Listener) Undecodable() uint64 { return l.bad.Load() }

type wire struct {
	V    int       `json:"v"`
	ID   string    `json:"id"`
	Conv string    `json:"conv"`
	From string    `json:"from"`
	To   string    `json:"to"`
	Seq  uint64    `json:"seq"`
	Kind string    `json:"kind"`
	Body []byte    `json:"body"`
	At   time.Time `json:"at"`
}

// Encode returns the wire form of m.
func Encode(m wsregistry.Message) ([]byte, error) {
	b, err := json.Marshal(wire{V: 1, ID: m.ID, Conv: m.Conv, From: m.From, To: m.To, Seq: m.Seq, Kind: m.Kind, Body: m.Body, At: m.At})
	if err != nil {
		return nil, fmt.Errorf("redisbus: encode: %w", err)
	}
	return b, nil
}

// ErrDecode is matched by the errors of [Decode].
var ErrDecode = errors.New("redisbus: bad message")

// Decode parses the wire form of a message. It rejects anything that is
// not version 1 or lacks an ID, a conversation, a sender, a recipient or
// a sequence, with an error matching [ErrDecode].
func Decode(b []byte) (wsregistry.Message, error) {
	var w wire
	if err := json.Unmarshal(b, &w); err != nil {
		return wsregistry.Message{}, fmt.Errorf("%w: %v", ErrDecode, err)
	}
	switch {
	case w.V != 1:
		return wsregistry.Message{}, fmt.Errorf("%w: version %d", ErrDecode, w.V)
	case w.ID == "" || w.Conv == "" || w.From == "" || w.To == "" || w.Seq == 0:
		return wsregistry.Message{}, fmt.Errorf("%w: missing id, conv, from, to or seq", ErrDecode)
	}
	return wsregistry.Message{ID: w.ID, Conv: w.Conv, From: w.From, To: w.To, Seq: w.Seq, Kind: w.Kind, Body: w.Body, At: w.At}, nil
}
