package wsregistry_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/sysblocks/sysblocks/wsregistry"
	"github.com/sysblocks/sysblocks/wsregistry/memstore"
)

// clock is a manual clock safe for concurrent use.
type clock struct{ ns atomic.Int64 }

func newClock() *clock {
	c := &clock{}
	c.ns.Store(time.Date(2031, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano())
	return c
}

func (c *clock) Now() time.Time          { return time.Unix(0, c.ns.Load()).UTC() }
func (c *clock) Advance(d time.Duration) { c.ns.Add(int64(d)) }

// world is one deployment in memory: shared stores and a transport, and
// a Registry and Router per gateway host.
type world struct {
	t     *testing.T
	clk   *clock
	store *memstore.Store
	inbox *memstore.Inbox
	seq   *memstore.Sequencer
	tr    *memstore.Transport
}

func newWorld(t *testing.T) *world {
	return &world{t: t, clk: newClock(), store: memstore.New(), inbox: memstore.NewInbox(),
		seq: memstore.NewSequencer(), tr: memstore.NewTransport()}
}

// host returns a Registry and a Router as one gateway host has them,
// with the given registry store and inbox (wrappers in the race tests).
func (w *world) host(store wsregistry.Store, inbox wsregistry.Inbox, tr wsregistry.Transport) (*wsregistry.Registry, *wsregistry.Router) {
	w.t.Helper()
	reg, err := wsregistry.New(store, &wsregistry.Options{Now: w.clk.Now})
	if err != nil {
		w.t.Fatal(err)
	}
	r, err := wsregistry.NewRouter(reg, inbox, w.seq, tr, &wsregistry.RouterOptions{Now: w.clk.Now})
	if err != nil {
		w.t.Fatal(err)
	}
	return reg, r
}

func (w *world) defaultHost() (*wsregistry.Registry, *wsregistry.Router) {
	return w.host(w.store, w.inbox, w.tr)
}

// mailbox collects the messages a host's handler receives.
type mailbox struct {
	mu   sync.Mutex
	msgs []wsregistry.Message
}

func (b *mailbox) handler(_ context.Context, m wsregistry.Message) error {
	b.mu.Lock()
	b.msgs = append(b.msgs, m)
	b.mu.Unlock()
	return nil
}

func (b *mailbox) take() []wsregistry.Message {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := b.msgs
	b.msgs = nil
	return out
}

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
