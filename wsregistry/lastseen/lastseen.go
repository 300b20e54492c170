package lastseen

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/sysblocks/sysblocks/events"
	"github.com/sysblocks/sysblocks/wsregistry"
)

// ErrDecode is matched by the errors of [Decode].
var ErrDecode = errors.New("lastseen: bad update")

// Encode returns the events.Message of "user was seen at at" (without a
// topic: the publisher's default topic applies). The time travels in the
// value only: the record's own timestamp is left to the publisher, since
// Kafka rejects records stamped too far from the broker's clock.
func Encode(user string, at time.Time) events.Message {
	return events.Message{Key: []byte(user), Value: strconv.AppendInt(nil, at.UnixMilli(), 10)}
}

// Decode parses an update. It rejects an empty or over-long user and a
// value that is not a positive decimal number of milliseconds, with an
// error matching [ErrDecode].
func Decode(m *events.Message) (user string, at time.Time, err error) {
	if len(m.Key) == 0 || len(m.Key) > wsregistry.MaxNameLen {
		return "", time.Time{}, fmt.Errorf("%w: user of %d bytes", ErrDecode, len(m.Key))
	}
	if len(m.Value) == 0 || len(m.Value) > 19 || m.Value[0] == '+' || m.Value[0] == '-' {
		return "", time.Time{}, fmt.Errorf("%w: time %q", ErrDecode, m.Value)
	}
	ms, err := strconv.ParseInt(string(m.Value), 10, 64)
	if err != nil || ms <= 0 {
		return "", time.Time{}, fmt.Errorf("%w: time %q", ErrDecode, m.Value)
	}
	return string(m.Key), time.UnixMilli(ms).UTC(), nil
}

// Hook returns a function for wsregistry.Options.OnSeen that publishes
// each update through p. It never blocks; updates p drops (queue full,
// broker down) are counted in p's stats.
func Hook(p *events.BatchPublisher) func(user string, at time.Time) {
	return func(user string, at time.Time) { _ = p.Publish(Encode(user, at)) }
}

// Consumer stores the updates it handles in a wsregistry.LastSeenStore.
// It is safe for concurrent use.
type Consumer struct {
	store   wsregistry.LastSeenStore
	stored  atomic.Uint64
	skipped atomic.Uint64
}

// NewConsumer returns a Consumer writing to store.
func NewConsumer(store wsregistry.LastSeenStore) *Consumer { return &Consumer{store: store} }

// Handle is an events.Handler: it stores the update, and skips (and
// counts) an update that cannot be decoded, since retrying it cannot
// succeed. A store error is returned, so the subscriber redelivers.
func (c *Consumer) Handle(ctx context.Context, m *events.Message) error {
	user, at, err := Decode(m)
	if err != nil {
		c.skipped.Add(1)
		return nil
	}
	if err := c.store.SetLastSeen(ctx, user, at); err != nil {
		return err
	}
	c.stored.Add(1)
	return nil
}

// Stored returns the number of updates written to the store.
func (c *Consumer) Stored() uint64 { return c.stored.Load() }

// Skipped returns the number of undecodable updates skipped.
func (c *Consumer) Skipped() uint64 { return c.skipped.Load() }
