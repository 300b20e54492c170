package events_test

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sysblocks/sysblocks/events"
	"github.com/sysblocks/sysblocks/events/membus"
)

// fakeReceiver hands out one fakeMember.
type fakeReceiver struct {
	joinErr error
	m       *fakeMember
}

func (r *fakeReceiver) Join(context.Context) (events.Member, error) {
	if r.joinErr != nil {
		return nil, r.joinErr
	}
	return r.m, nil
}

// fakeMember serves msgs, then fetchErr (or blocks when fetchErr is nil).
type fakeMember struct {
	mu        sync.Mutex
	msgs      []events.Message
	fetchErr  error
	commitErr error
	commits   []int64
	closed    atomic.Int32
}

func (m *fakeMember) Fetch(ctx context.Context) (events.Message, error) {
	m.mu.Lock()
	if len(m.msgs) > 0 {
		msg := m.msgs[0]
		m.msgs = m.msgs[1:]
		m.mu.Unlock()
		return msg, nil
	}
	m.mu.Unlock()
	if m.fetchErr != nil {
		return events.Message{}, m.fetchErr
	}
	<-ctx.Done()
	return events.Message{}, ctx.Err()
}

func (m *fakeMember) Commit(_ context.Context, msg events.Message) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.commitErr != nil {
		return m.commitErr
	}
	m.commits = append(m.commits, msg.Offset)
	return nil
}

func (m *fakeMember) Close() error {
	m.closed.Add(1)
	return nil
}

func TestSubscriberJoinError(t *testing.T) {
	boom := errors.New("no broker")
	s := events.NewSubscriber(&fakeReceiver{joinErr: boom}, func(context.Context, *events.Message) error { return nil }, nil)
	if err := s.Run(context.Background()); !errors.Is(err, boom) {
		t.Errorf("Run = %v; want the Join error", err)
	}
}

func TestSubscriberFetchError(t *testing.T) {
	boom := errors.New("connection lost")
	m := &fakeMember{msgs: []events.Message{{Offset: 0}, {Offset: 1}}, fetchErr: boom}
	var handled atomic.Int32
	for _, c := range []int{1, 3} {
		m.msgs = []events.Message{{Offset: 0}, {Offset: 1}}
		m.closed.Store(0)
		s := events.NewSubscriber(&fakeReceiver{m: m}, func(context.Context, *events.Message) error {
			handled.Add(1)
			return nil
		}, &events.SubscriberOptions{Concurrency: c})
		if err := s.Run(context.Background()); !errors.Is(err, boom) {
			t.Errorf("concurrency %d: Run = %v; want the Fetch error", c, err)
		}
		if m.closed.Load() != 1 {
			t.Errorf("concurrency %d: member closed %d times; want 1", c, m.closed.Load())
		}
	}
	if handled.Load() != 4 {
		t.Errorf("handled %d; want 4", handled.Load())
	}
}

func TestSubscriberCommitErrorIsCounted(t *testing.T) {
	m := &fakeMember{msgs: []events.Message{{Offset: 0}, {Offset: 1}}, commitErr: errors.New("rebalancing")}
	done := make(chan struct{})
	var n atomic.Int32
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s := events.NewSubscriber(&fakeReceiver{m: m}, func(context.Context, *events.Message) error {
		if n.Add(1) == 2 {
			close(done)
		}
		return nil
	}, nil)
	go func() { <-done; cancel() }()
	if err := s.Run(ctx); err != nil {
		t.Fatalf("Run = %v; want nil (commit errors are not fatal)", err)
	}
	if st := s.Stats(); st.Handled != 2 || st.CommitErrors != 2 || st.Committed != 0 {
		t.Errorf("stats %+v; want 2 handled, 2 commit errors", st)
	}
}

// The handler may change its message; the commit uses the delivered one.
func TestSubscriberHandlerCopy(t *testing.T) {
	m := &fakeMember{msgs: []events.Message{{Offset: 7}}}
	ctx, cancel := context.WithCancel(context.Background())
	s := events.NewSubscriber(&fakeReceiver{m: m}, func(_ context.Context, msg *events.Message) error {
		msg.Offset = 1000
		cancel()
		return nil
	}, nil)
	if err := s.Run(ctx); err != nil {
		t.Fatal(err)
	}
	if len(m.commits) != 1 || m.commits[0] != 7 {
		t.Errorf("commits %v; want [7]", m.commits)
	}
}

func TestSubscriberRunTwice(t *testing.T) {
	bus := membus.New(nil)
	if err := bus.Send(context.Background(), []events.Message{{Topic: "t", Value: []byte("x")}}); err != nil {
		t.Fatal(err)
	}
	inside := make(chan struct{}, 1)
	s := events.NewSubscriber(bus.Receiver("t", "g"), func(ctx context.Context, _ *events.Message) error {
		inside <- struct{}{}
		<-ctx.Done()
		return ctx.Err()
	}, nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	<-inside // the first Run is in the handler
	if err := s.Run(context.Background()); !errors.Is(err, events.ErrRunning) {
		t.Errorf("Run during Run = %v; want ErrRunning", err)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	// Run again: the message was not committed, so it comes back.
	ctx, cancel = context.WithCancel(context.Background())
	go func() { <-inside; cancel() }()
	if err := s.Run(ctx); err != nil {
		t.Errorf("second Run = %v; want nil", err)
	}
}

// With several handler goroutines, one partition's poison message stops
// the whole Run with a HandlerError, and every goroutine ends (goleak in
// TestMain checks it).
func TestSubscriberConcurrentGiveUp(t *testing.T) {
	bus := membus.New(&membus.Options{Partitions: 4})
	var ms []events.Message
	for i := range 200 {
		ms = append(ms, events.Message{Topic: "t", Key: []byte("k" + strconv.Itoa(i%20)), Value: []byte(strconv.Itoa(i))})
	}
	if err := events.NewPublisher(bus, nil).Publish(context.Background(), ms...); err != nil {
		t.Fatal(err)
	}
	s := events.NewSubscriber(bus.Receiver("t", "g"), func(_ context.Context, m *events.Message) error {
		if string(m.Value) == "150" {
			return errors.New("poison")
		}
		return nil
	}, &events.SubscriberOptions{Concurrency: 4, MaxAttempts: 2, Backoff: time.Millisecond})
	err := s.Run(context.Background())
	var he *events.HandlerError
	if !errors.As(err, &he) || he.Attempts != 2 {
		t.Fatalf("Run = %v; want a HandlerError after 2 attempts", err)
	}
}

// Handlers run in parallel across partitions but one at a time within one.
func TestSubscriberConcurrencyPerPartition(t *testing.T) {
	const parts = 4
	bus := membus.New(&membus.Options{Partitions: parts})
	var ms []events.Message
	for i := range 400 {
		ms = append(ms, events.Message{Topic: "t", Key: []byte("k" + strconv.Itoa(i%40)), Value: []byte(strconv.Itoa(i))})
	}
	if err := events.NewPublisher(bus, nil).Publish(context.Background(), ms...); err != nil {
		t.Fatal(err)
	}
	var inPart [parts]atomic.Int32
	var inAll, peak, n atomic.Int32
	ctx, cancel := context.WithCancel(context.Background())
	s := events.NewSubscriber(bus.Receiver("t", "g"), func(_ context.Context, m *events.Message) error {
		if inPart[m.Partition].Add(1) != 1 {
			t.Errorf("two handlers at once in partition %d", m.Partition)
		}
		cur := inAll.Add(1)
		for p := peak.Load(); cur > p && !peak.CompareAndSwap(p, cur); p = peak.Load() {
		}
		time.Sleep(50 * time.Microsecond)
		inAll.Add(-1)
		inPart[m.Partition].Add(-1)
		if n.Add(1) == 400 {
			cancel()
		}
		return nil
	}, &events.SubscriberOptions{Concurrency: parts})
	if err := s.Run(ctx); err != nil {
		t.Fatal(err)
	}
	if st := s.Stats(); st.Handled != 400 || st.Committed != 400 {
		t.Errorf("stats %+v; want 400 handled and committed", st)
	}
	t.Logf("peak parallel handlers: %d", peak.Load())
}

// With a CommitInterval, commits are fewer than messages, and stopping
// commits the last message handled.
func TestSubscriberCommitInterval(t *testing.T) {
	var ms []events.Message
	for i := range 100 {
		ms = append(ms, events.Message{Topic: "t", Offset: int64(i)})
	}
	m := &fakeMember{msgs: ms}
	ctx, cancel := context.WithCancel(context.Background())
	var n atomic.Int32
	s := events.NewSubscriber(&fakeReceiver{m: m}, func(context.Context, *events.Message) error {
		if n.Add(1) == 100 {
			cancel()
		}
		return nil
	}, &events.SubscriberOptions{CommitInterval: time.Hour})
	if err := s.Run(ctx); err != nil {
		t.Fatal(err)
	}
	if len(m.commits) == 0 || len(m.commits) > 2 || m.commits[len(m.commits)-1] != 99 {
		t.Errorf("commits %v; want one or two, the last at offset 99", m.commits)
	}
	if st := s.Stats(); st.Handled != 100 || st.Committed != uint64(len(m.commits)) {
		t.Errorf("stats %+v; want 100 handled and %d committed", st, len(m.commits))
	}
}

// alwaysMember has a message ready at every Fetch and ignores ctx, like an
// adapter with a backlog: Run must still stop when its context ends.
type alwaysMember struct{ fakeMember }

func (a *alwaysMember) Fetch(context.Context) (events.Message, error) {
	return events.Message{Topic: "t"}, nil
}

func TestSubscriberStopsWithBacklog(t *testing.T) {
	for _, c := range []int{1, 3} {
		m := &alwaysMember{}
		ctx, cancel := context.WithCancel(context.Background())
		var n atomic.Int32
		s := events.NewSubscriber(memberReceiver{m}, func(context.Context, *events.Message) error {
			if n.Add(1) == 10 {
				cancel()
			}
			return nil
		}, &events.SubscriberOptions{Concurrency: c})
		if err := s.Run(ctx); err != nil {
			t.Fatalf("concurrency %d: Run = %v", c, err)
		}
	}
}

type memberReceiver struct{ m events.Member }

func (r memberReceiver) Join(context.Context) (events.Member, error) { return r.m, nil }
