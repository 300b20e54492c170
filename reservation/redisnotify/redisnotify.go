package redisnotify

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// DefaultPrefix is the key prefix when Options.Prefix is empty.
const DefaultPrefix = "reservation:hold:"

// ErrNotificationsOff is returned by [Notifier.Check] when the server does
// not publish expired events.
var ErrNotificationsOff = errors.New("redisnotify: notify-keyspace-events does not publish expired events")

// Options configures a [Notifier]. The zero value is valid.
type Options struct {
	// Prefix starts every key the Notifier writes, and only expiries of
	// keys with this prefix wake the sweeper. Empty means DefaultPrefix.
	Prefix string
}

// Stats counts what a Notifier did.
type Stats struct {
	Armed   uint64 // keys set by Arm
	Expired uint64 // expired events received for keys with the prefix
}

// Notifier is a [reservation.Alarm] on Redis. It is safe for concurrent
// use. It takes the caller's client and never closes it.
type Notifier struct {
	c       redis.UniversalClient
	prefix  string
	armed   atomic.Uint64
	expired atomic.Uint64
}

// New returns a Notifier on c. opts may be nil.
func New(c redis.UniversalClient, opts *Options) *Notifier {
	n := &Notifier{c: c, prefix: DefaultPrefix}
	if opts != nil && opts.Prefix != "" {
		n.prefix = opts.Prefix
	}
	return n
}

// Key returns the key that Arm sets for booking id.
func (n *Notifier) Key(id string) string { return n.prefix + id }

// Arm sets the key of booking id to expire at deadline (PXAT, rounded up
// to the millisecond). It implements [reservation.Alarm].
func (n *Notifier) Arm(ctx context.Context, id string, deadline time.Time) error {
	ms := deadline.UnixMilli()
	if deadline.After(time.UnixMilli(ms)) {
		ms++
	}
	if err := n.c.Do(ctx, "set", n.Key(id), "", "pxat", ms).Err(); err != nil {
		return fmt.Errorf("redisnotify: arm %s: %w", id, err)
	}
	n.armed.Add(1)
	return nil
}

// Run subscribes to the expired events of every database and calls wake
// for each expired key with the prefix, until ctx ends; then it returns
// nil. It returns an error if the subscription cannot be made. While the
// connection is down, go-redis reconnects and subscribes again; events
// published meanwhile are lost (the sweeper's period covers them).
func (n *Notifier) Run(ctx context.Context, wake func()) error {
	sub := n.c.PSubscribe(ctx, "__keyevent@*__:expired")
	defer sub.Close()
	if _, err := sub.Receive(ctx); err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return fmt.Errorf("redisnotify: subscribe: %w", err)
	}
	ch := sub.Channel()
	for {
		select {
		case <-ctx.Done():
			return nil
		case m, ok := <-ch:
			if !ok {
				return nil
			}
			if strings.HasPrefix(m.Payload, n.prefix) {
				n.expired.Add(1)
				wake()
			}
		}
	}
}

// Check returns nil if the server's notify-keyspace-events publishes
// expired events, [ErrNotificationsOff] if not, or the error of CONFIG GET
// (which some managed services refuse).
func (n *Notifier) Check(ctx context.Context) error {
	flags, err := n.flags(ctx)
	if err != nil {
		return err
	}
	if !publishesExpired(flags) {
		return fmt.Errorf("%w (flags %q; want E and x)", ErrNotificationsOff, flags)
	}
	return nil
}

// Enable adds E and x to the server's notify-keyspace-events, keeping the
// flags already set. It changes the configuration of the whole server.
func (n *Notifier) Enable(ctx context.Context) error {
	flags, err := n.flags(ctx)
	if err != nil {
		return err
	}
	if publishesExpired(flags) {
		return nil
	}
	for _, f := range "Ex" {
		if !strings.ContainsRune(flags, f) {
			flags += string(f)
		}
	}
	if err := n.c.ConfigSet(ctx, "notify-keyspace-events", flags).Err(); err != nil {
		return fmt.Errorf("redisnotify: enable notifications: %w", err)
	}
	return nil
}

func (n *Notifier) flags(ctx context.Context) (string, error) {
	m, err := n.c.ConfigGet(ctx, "notify-keyspace-events").Result()
	if err != nil {
		return "", fmt.Errorf("redisnotify: config get: %w", err)
	}
	return m["notify-keyspace-events"], nil
}

func publishesExpired(flags string) bool {
	return strings.ContainsRune(flags, 'E') && (strings.ContainsRune(flags, 'x') || strings.ContainsRune(flags, 'A'))
}

// Stats returns the counters.
func (n *Notifier) Stats() Stats {
	return Stats{Armed: n.armed.Load(), Expired: n.expired.Load()}
}
