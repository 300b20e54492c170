package events_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/sysblocks/sysblocks/events"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// recSender records what it is sent. When gate is not nil, each Send waits
// for a value on it (or for ctx) and returns that value.
type recSender struct {
	mu      sync.Mutex
	batches [][]events.Message
	entered chan int // receives len(msgs) when a Send starts, if not nil
	gate    chan error
}

func (s *recSender) Send(ctx context.Context, msgs []events.Message) error {
	if s.entered != nil {
		s.entered <- len(msgs)
	}
	if s.gate != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		select {
		case err := <-s.gate:
			if err != nil {
				return err
			}
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	s.mu.Lock()
	s.batches = append(s.batches, slices.Clone(msgs))
	s.mu.Unlock()
	return nil
}

func (s *recSender) all() []events.Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []events.Message
	for _, b := range s.batches {
		out = append(out, b...)
	}
	return out
}

func TestPublisherDefaults(t *testing.T) {
	at := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	s := &recSender{}
	p := events.NewPublisher(s, &events.PublisherOptions{Topic: "clicks", Now: func() time.Time { return at }})
	own := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	in := []events.Message{{Value: []byte("a")}, {Topic: "other", Value: []byte("b"), Time: own}}
	if err := p.Publish(context.Background(), in...); err != nil {
		t.Fatal(err)
	}
	got := s.all()
	if len(got) != 2 || got[0].Topic != "clicks" || !got[0].Time.Equal(at) || got[1].Topic != "other" || !got[1].Time.Equal(own) {
		t.Errorf("sent %+v; want default topic and time filled only where empty", got)
	}
	if in[0].Topic != "" || !in[0].Time.IsZero() {
		t.Errorf("Publish changed the caller's message: %+v", in[0])
	}
}

func TestPublisherNoTopic(t *testing.T) {
	s := &recSender{}
	p := events.NewPublisher(s, nil)
	err := p.Publish(context.Background(), events.Message{Topic: "a"}, events.Message{Value: []byte("x")})
	if !errors.Is(err, events.ErrNoTopic) {
		t.Fatalf("Publish = %v; want ErrNoTopic", err)
	}
	if n := len(s.all()); n != 0 {
		t.Errorf("%d messages sent; want none when one is invalid", n)
	}
}

func TestPublisherCanceled(t *testing.T) {
	s := &recSender{}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := events.NewPublisher(s, nil).Publish(ctx, events.Message{Topic: "a"}); !errors.Is(err, context.Canceled) {
		t.Errorf("Publish = %v; want context.Canceled", err)
	}
}

func TestMessageHeader(t *testing.T) {
	m := events.Message{Headers: []events.Header{{"a", []byte("1")}, {"b", []byte("2")}, {"a", []byte("3")}}}
	if v, ok := m.Header("a"); !ok || string(v) != "3" {
		t.Errorf(`Header("a") = %q, %v; want "3", true`, v, ok)
	}
	if v, ok := m.Header("c"); ok || v != nil {
		t.Errorf(`Header("c") = %q, %v; want nil, false`, v, ok)
	}
}

// Without Options.Now, messages that need nothing are passed through as
// they are, with no copy, and a zero Time is left to the adapter.
func TestPublisherNoCopy(t *testing.T) {
	var got []events.Message
	s := senderFunc(func(_ context.Context, ms []events.Message) error {
		got = ms
		return nil
	})
	in := []events.Message{{Topic: "a", Value: []byte("x")}}
	if err := events.NewPublisher(s, nil).Publish(context.Background(), in...); err != nil {
		t.Fatal(err)
	}
	if &got[0] != &in[0] || !got[0].Time.IsZero() {
		t.Errorf("Publish copied or stamped the messages: %+v", got)
	}
}

type senderFunc func(context.Context, []events.Message) error

func (f senderFunc) Send(ctx context.Context, ms []events.Message) error { return f(ctx, ms) }
