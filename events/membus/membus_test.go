package membus_test

import (
	"context"
	"errors"
	"testing"

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
