package eventstest_test

import (
	"testing"

	"github.com/sysblocks/sysblocks/events"
	"github.com/sysblocks/sysblocks/events/eventstest"
	"github.com/sysblocks/sysblocks/events/membus"
)

// harness gives the suite topics, a sender and receivers on one membus.Bus.
type harness struct{ bus *membus.Bus }

func (h harness) Topic(t testing.TB, partitions int) string {
	if err := h.bus.CreateTopic(t.Name(), partitions); err != nil {
		t.Fatal(err)
	}
	return t.Name()
}

func (h harness) Sender(testing.TB) events.Sender { return h.bus }

func (h harness) Receiver(_ testing.TB, topic, group string) events.Receiver {
	return h.bus.Receiver(topic, group)
}

// An adapter's own test runs the suite with a fresh harness per subtest and
// the features its backend has.
func Example() {
	testConformance := func(t *testing.T) {
		eventstest.Run(t, func(*testing.T) eventstest.Harness { return harness{membus.New(nil)} },
			eventstest.Features{KafkaPartitioner: true})
	}
	_ = testConformance
}
