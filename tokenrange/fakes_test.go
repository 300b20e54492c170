package tokenrange_test

import (
	"context"
	"errors"
	"sync"

	"github.com/sysblocks/sysblocks/tokenrange"
	"github.com/sysblocks/sysblocks/tokenrange/memstore"
)

// gateStore is a memstore whose Reserve can be held: while closed, a call
// reports itself on entered and waits for a value on release.
type gateStore struct {
	*memstore.Store
	mu      sync.Mutex
	closed  bool
	entered chan struct{}
	release chan struct{}
	done    chan tokenrange.Range // every successful Reserve, in order
}

func newGateStore() *gateStore {
	return &gateStore{
		Store:   memstore.New(),
		entered: make(chan struct{}, 100),
		release: make(chan struct{}),
		done:    make(chan tokenrange.Range, 1000),
	}
}

func (g *gateStore) setClosed(c bool) {
	g.mu.Lock()
	g.closed = c
	g.mu.Unlock()
}

func (g *gateStore) Reserve(ctx context.Context, ns string, n, limit uint64) (tokenrange.Range, error) {
	g.mu.Lock()
	closed := g.closed
	g.mu.Unlock()
	if closed {
		g.entered <- struct{}{}
		select {
		case <-g.release:
		case <-ctx.Done():
			return tokenrange.Range{}, ctx.Err()
		}
	}
	r, err := g.Store.Reserve(ctx, ns, n, limit)
	if err == nil {
		g.done <- r
	}
	return r, err
}

// flakyStore fails the first fails calls with err, then defers to a
// memstore. Calls that fail issue nothing.
type flakyStore struct {
	*memstore.Store
	mu    sync.Mutex
	fails int
	err   error
	calls int
	ok    chan struct{} // one value per successful call
}

func newFlakyStore(fails int, err error) *flakyStore {
	return &flakyStore{Store: memstore.New(), fails: fails, err: err, ok: make(chan struct{}, 1000)}
}

func (f *flakyStore) Reserve(ctx context.Context, ns string, n, limit uint64) (tokenrange.Range, error) {
	f.mu.Lock()
	f.calls++
	fail := f.calls <= f.fails
	f.mu.Unlock()
	if fail {
		return tokenrange.Range{}, f.err
	}
	r, err := f.Store.Reserve(ctx, ns, n, limit)
	if err == nil {
		f.ok <- struct{}{}
	}
	return r, err
}

func (f *flakyStore) callCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls
}

// badStore returns a fixed range whatever is asked.
type badStore struct{ r tokenrange.Range }

func (b badStore) Reserve(context.Context, string, uint64, uint64) (tokenrange.Range, error) {
	return b.r, nil
}

func (b badStore) Counter(context.Context, string) (uint64, error) { return 0, errors.New("unused") }
