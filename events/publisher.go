package events

import (
	"context"
	"time"
)

// PublisherOptions configures a [Publisher]. A nil *PublisherOptions is
// the same as a zero one.
type PublisherOptions struct {
	// Topic is used for messages whose Topic is empty. Empty means no
	// default: such messages fail with [ErrNoTopic].
	Topic string

	// Now, if set, stamps messages whose Time is zero. Nil leaves a zero
	// Time to the adapter, which stamps the send time (kafka-go and membus
	// both do), and saves a copy of the messages.
	Now func() time.Time
}

// Publisher publishes messages and returns once the adapter has stored
// them (for Kafka: acknowledged as the Writer's RequiredAcks says). It is
// the reliable path; see [BatchPublisher] for the lossy, never-blocking one.
//
// A Publisher is safe for concurrent use. It holds no resources and needs
// no Close.
type Publisher struct {
	s     Sender
	topic string
	now   func() time.Time
}

// NewPublisher returns a Publisher that writes through s.
func NewPublisher(s Sender, opts *PublisherOptions) *Publisher {
	var o PublisherOptions
	if opts != nil {
		o = *opts
	}
	return &Publisher{s: s, topic: o.Topic, now: o.Now}
}

// Publish writes msgs, in order, and returns nil once all of them are
// stored. Messages with the same topic and key keep their order. On error
// any subset may have been stored, so publishing again may duplicate
// messages (consumers are at-least-once anyway). Publish does not modify
// msgs; it does not keep them after it returns, so the caller may reuse
// their buffers.
//
// A message without a topic, when no default is set, fails the whole call
// with [ErrNoTopic] before anything is sent.
func (p *Publisher) Publish(ctx context.Context, msgs ...Message) error {
	if len(msgs) == 0 {
		return ctx.Err()
	}
	out := msgs
	copied := false
	var now time.Time
	for i := range msgs {
		m := &msgs[i]
		if m.Topic != "" && (p.now == nil || !m.Time.IsZero()) {
			continue
		}
		if m.Topic == "" && p.topic == "" {
			return ErrNoTopic
		}
		if !copied {
			out = make([]Message, len(msgs))
			copy(out, msgs)
			copied = true
			if p.now != nil {
				now = p.now()
			}
		}
		if out[i].Topic == "" {
			out[i].Topic = p.topic
		}
		if out[i].Time.IsZero() {
			out[i].Time = now // zero when there is no Now
		}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	return p.s.Send(ctx, out)
}
