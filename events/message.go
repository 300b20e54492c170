package events

import (
	"context"
	"time"
)

// Header is one message header. As in Kafka, a message may carry several
// headers with the same key, and their order is kept.
type Header struct {
	Key   string
	Value []byte
}

// Message is one event.
//
// Publishers fill Topic, Key, Value, Headers and, optionally, Time.
// Subscribers also receive Partition and Offset, which together with Topic
// identify the message within its topic; duplicate deliveries of one
// message carry the same three values.
//
// Messages with the same Topic and Key go to the same partition and are
// delivered in the order they were published. A nil Key spreads messages
// over partitions with no order between them.
//
// Kafka keeps timestamps in milliseconds, so Time comes back truncated to
// the millisecond.
type Message struct {
	Topic   string
	Key     []byte
	Value   []byte
	Headers []Header
	Time    time.Time

	// Partition and Offset are set on delivery and ignored on publish.
	Partition int
	Offset    int64
}

// Header returns the value of the last header named key, as Kafka's
// lastHeader does, and whether there was one.
func (m *Message) Header(key string) ([]byte, bool) {
	for i := len(m.Headers) - 1; i >= 0; i-- {
		if m.Headers[i].Key == key {
			return m.Headers[i].Value, true
		}
	}
	return nil, false
}

// Handler processes one delivered message. Returning nil commits the
// message (and every earlier message of its partition) for the consumer
// group; returning an error delivers it again. ctx ends when the
// [Subscriber] stops; a handler that returns ctx's error on cancellation
// leaves its message uncommitted, to be delivered again.
//
// A handler may keep m after it returns; nothing else refers to it.
type Handler func(ctx context.Context, m *Message) error
