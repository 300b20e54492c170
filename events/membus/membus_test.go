package membus_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/sysblocks/sysblocks/events"
	"github.com/sysblocks/sysblocks/events/eventstest"
	"github.com/sysblocks/sysblocks/events/membus"
)

type harness struct{ bus *membus.Bus }

func (h harness) Topic(t testing.TB, partitions int) string {
	name := t.Name()
	if err := h.bus.CreateTopic(name, partitions); err != nil {
		t.Fatal(err)
	}
	return name
}

func (h harness) Sender(testing.TB) events.Sender { return h.bus }

func (h harness) Receiver(_ testing.TB, topic, group string) events.Receiver {
	return h.bus.Receiver(topic, group)
}

func TestConformance(t *testing.T) {
	defer goleak.VerifyNone(t)
	eventstest.Run(t, func(*testing.T) eventstest.Harness { return harness{membus.New(nil)} },
		eventstest.Features{KafkaPartitioner: true})
}

// The same with sessions that expire, which must not disturb live members.
func TestConformanceWithSessions(t *testing.T) {
	defer goleak.VerifyNone(t)
	eventstest.Run(t, func(*testing.T) eventstest.Harness {
		return harness{membus.New(&membus.Options{SessionTimeout: 200 * time.Millisecond})}
	}, eventstest.Features{KafkaPartitioner: true})
}

func TestCreateTopicErrors(t *testing.T) {
	b := membus.New(nil)
	if err := b.CreateTopic("t", 0); !errors.Is(err, events.ErrBadPartition) {
		t.Errorf("CreateTopic(t, 0) = %v; want ErrBadPartition", err)
	}
	if err := b.CreateTopic("t", 2); err != nil {
		t.Fatal(err)
	}
	if err := b.CreateTopic("t", 2); !errors.Is(err, events.ErrTopicExists) {
		t.Errorf("second CreateTopic = %v; want ErrTopicExists", err)
	}
	if err := b.CreateTopic("", 2); !errors.Is(err, events.ErrNoTopic) {
		t.Errorf("CreateTopic(\"\") = %v; want ErrNoTopic", err)
	}
}

func TestJoinErrors(t *testing.T) {
	b := membus.New(nil)
	ctx := context.Background()
	if _, err := b.Receiver("t", "").Join(ctx); !errors.Is(err, events.ErrNoGroup) {
		t.Errorf("Join with no group = %v; want ErrNoGroup", err)
	}
	if _, err := b.Receiver("", "g").Join(ctx); !errors.Is(err, events.ErrNoTopic) {
		t.Errorf("Join with no topic = %v; want ErrNoTopic", err)
	}
}

func TestClosedMember(t *testing.T) {
	b := membus.New(nil)
	ctx := context.Background()
	m, err := b.Receiver("t", "g").Join(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	if err := m.Close(); err != nil {
		t.Errorf("second Close = %v; want nil", err)
	}
	if _, err := m.Fetch(ctx); !errors.Is(err, events.ErrClosed) {
		t.Errorf("Fetch after Close = %v; want ErrClosed", err)
	}
	if err := m.Commit(ctx, events.Message{Topic: "t"}); !errors.Is(err, events.ErrClosed) {
		t.Errorf("Commit after Close = %v; want ErrClosed", err)
	}
}

func TestRetention(t *testing.T) {
	b := membus.New(&membus.Options{Retention: 3})
	ctx := context.Background()
	for i := range 10 {
		if err := b.Send(ctx, []events.Message{{Topic: "t", Value: []byte{byte(i)}}}); err != nil {
			t.Fatal(err)
		}
	}
	m, err := b.Receiver("t", "g").Join(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	var got []int64
	for {
		fctx, cancel := context.WithTimeout(ctx, 10*time.Millisecond)
		msg, err := m.Fetch(fctx)
		cancel()
		if err != nil {
			break
		}
		if int64(msg.Value[0]) != msg.Offset {
			t.Fatalf("offset %d holds value %d", msg.Offset, msg.Value[0])
		}
		got = append(got, msg.Offset)
	}
	if len(got) < 3 || len(got) > 5 || got[len(got)-1] != 9 {
		t.Errorf("a new group got offsets %v; want the 3 to 5 newest, ending at 9", got)
	}
}

// Publishers and members that keep joining and leaving, all at once: every
// message is handled at least once, and no key ever skips ahead: message
// n of a key is handled only after message n-1 was (rebalances may repeat
// messages, never jump over one).
func TestChurn(t *testing.T) {
	defer goleak.VerifyNone(t)
	b := membus.New(nil)
	if err := b.CreateTopic("t", 8); err != nil {
		t.Fatal(err)
	}
	const publishers, perPublisher = 8, 400
	var mu sync.Mutex
	seen := map[string]int{} // "key/seq" -> deliveries
	next := map[string]int{} // key -> highest seq handled + 1
	handler := func(_ context.Context, m *events.Message) error {
		var seq int
		key, s, _ := strings.Cut(string(m.Value), "/")
		fmt.Sscan(s, &seq)
		mu.Lock()
		defer mu.Unlock()
		seen[string(m.Value)]++
		if seq > next[key] {
			t.Errorf("key %s: message %d handled before message %d", key, seq, next[key])
		}
		next[key] = max(next[key], seq+1)
		return nil
	}
	stopPublishers := make(chan struct{})
	var pubs sync.WaitGroup
	for p := range publishers {
		pubs.Go(func() {
			pub := events.NewPublisher(b, nil)
			for i := range perPublisher {
				key := fmt.Sprintf("p%d-k%d", p, i%7)
				seq := i / 7 // per key: 0, 1, 2, ...
				err := pub.Publish(context.Background(), events.Message{Topic: "t", Key: []byte(key), Value: []byte(fmt.Sprintf("%s/%d", key, seq))})
				if err != nil {
					t.Error(err)
					return
				}
				if i%50 == 0 {
					runtime.Gosched()
				}
			}
		})
	}
	// Three members, each restarted every few milliseconds until the
	// publishers are done.
	var members sync.WaitGroup
	for range 3 {
		members.Go(func() {
			for {
				ctx, cancel := context.WithTimeout(context.Background(), 3*time.Millisecond)
				err := events.NewSubscriber(b.Receiver("t", "g"), handler, &events.SubscriberOptions{Concurrency: 2}).Run(ctx)
				cancel()
				if err != nil {
					t.Error(err)
					return
				}
				select {
				case <-stopPublishers:
					return
				default:
				}
			}
		})
	}
	pubs.Wait()
	close(stopPublishers)
	members.Wait()
	// A last member drains what is left.
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- events.NewSubscriber(b.Receiver("t", "g"), handler, nil).Run(ctx) }()
	deadline := time.Now().Add(time.Minute)
	for {
		mu.Lock()
		n := len(seen)
		mu.Unlock()
		if n == publishers*perPublisher {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d messages handled", n, publishers*perPublisher)
		}
		time.Sleep(time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	total := 0
	for _, c := range seen {
		total += c
	}
	t.Logf("%d messages, %d deliveries", len(seen), total)
}

// A member that stops calling (its goroutine died without Close) is
// removed after SessionTimeout, and the rest of the group gets its
// partitions from the committed offsets, the message it was holding
// included.
func TestSessionTimeout(t *testing.T) {
	b := membus.New(&membus.Options{SessionTimeout: 20 * time.Millisecond})
	if err := b.CreateTopic("t", 2); err != nil {
		t.Fatal(err)
	}
	var sent []events.Message
	for i := range 20 {
		sent = append(sent, events.Message{Topic: "t", Key: []byte(fmt.Sprint("k", i%5)), Value: []byte(fmt.Sprint(i))})
	}
	ctx := context.Background()
	if err := b.Send(ctx, sent); err != nil {
		t.Fatal(err)
	}
	dead, err := b.Receiver("t", "g").Join(ctx)
	if err != nil {
		t.Fatal(err)
	}
	held, err := dead.Fetch(ctx) // then it never calls again
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	got := map[string]bool{}
	sctx, cancel := context.WithCancel(ctx)
	done := make(chan error)
	go func() {
		done <- events.NewSubscriber(b.Receiver("t", "g"), func(_ context.Context, m *events.Message) error {
			mu.Lock()
			got[string(m.Value)] = true
			if len(got) == len(sent) {
				cancel()
			}
			mu.Unlock()
			return nil
		}, nil).Run(sctx)
	}()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if !got[string(held.Value)] {
		t.Errorf("message %s, held by the dead member, was not delivered again", held.Value)
	}
	if err := dead.Commit(ctx, held); !errors.Is(err, membus.ErrEvicted) {
		t.Errorf("Commit from the evicted member = %v; want ErrEvicted", err)
	}
	// Its next Fetch joins again; everything is committed, so it waits.
	fctx, fcancel := context.WithTimeout(ctx, 5*time.Millisecond)
	defer fcancel()
	if m, err := dead.Fetch(fctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Fetch after rejoining = %s, %v; want nothing left", m.Value, err)
	}
	if err := dead.Close(); err != nil {
		t.Error(err)
	}
}
