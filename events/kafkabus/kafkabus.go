package kafkabus

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/sysblocks/sysblocks/events"
)

// Errors of [NewSender] and [NewReceiver].
var (
	// ErrAsync is returned for an asynchronous Writer: it cannot report
	// whether a message was stored, so publishing could not be reliable.
	ErrAsync = errors.New("kafkabus: writer is asynchronous")

	// ErrBalancer is returned for a Writer whose Balancer does not place
	// messages by key (nil, RoundRobin, LeastBytes), which would break
	// per-key order.
	ErrBalancer = errors.New("kafkabus: writer balancer does not partition by key")

	// ErrWriterTopic is returned by [Sender.Send] for a message whose topic
	// differs from the Writer's fixed Topic.
	ErrWriterTopic = errors.New("kafkabus: message topic differs from the writer's topic")
)

// NewWriter returns a Writer for the given brokers, set up for [Sender]:
// Balancer kafka.Murmur2Balancer{} (Java-compatible key hashing, the same
// placement as membus), RequiredAcks kafka.RequireAll, and a BatchTimeout
// of 5ms so that a lone message does not wait kafka-go's default second.
// It has no Topic, so each message names its own, and it does not ask the
// broker to create missing topics (set AllowAutoTopicCreation for that).
// Change any field before first use; close it when done.
func NewWriter(brokers ...string) *kafka.Writer {
	return &kafka.Writer{
		Addr:         kafka.TCP(brokers...),
		Balancer:     kafka.Murmur2Balancer{},
		RequiredAcks: kafka.RequireAll,
		BatchTimeout: 5 * time.Millisecond,
	}
}

// Sender is the [events.Sender] of a kafka-go Writer. It is safe for
// concurrent use, as the Writer is.
type Sender struct {
	w    *kafka.Writer
	pool sync.Pool // *[]kafka.Message
}

// NewSender returns a Sender that writes with w, which stays the caller's
// to configure and close. w must be synchronous and partition by key
// ([ErrAsync], [ErrBalancer]); any other Balancer than nil, RoundRobin
// and LeastBytes is taken to do so. Durability is w.RequiredAcks.
func NewSender(w *kafka.Writer) (*Sender, error) {
	if w == nil {
		return nil, errors.New("kafkabus: nil writer")
	}
	if w.Async {
		return nil, ErrAsync
	}
	switch w.Balancer.(type) {
	case nil, *kafka.RoundRobin, *kafka.LeastBytes:
		return nil, fmt.Errorf("%w: %T (use kafka.Murmur2Balancer{})", ErrBalancer, w.Balancer)
	}
	return &Sender{w: w}, nil
}

// Send writes msgs with one WriteMessages call and returns its error
// (kafka.WriteErrors says which messages failed). Messages with a zero
// Time get the time kafka-go encodes them.
//
// If ctx ends first, Send returns ctx's error but kafka-go may still send
// the messages later, reading their Key, Value and Header slices: do not
// modify those after a Send that failed on ctx.
func (s *Sender) Send(ctx context.Context, msgs []events.Message) error {
	if len(msgs) == 0 {
		return ctx.Err()
	}
	for i := range msgs {
		switch t := msgs[i].Topic; {
		case s.w.Topic != "" && t != "" && t != s.w.Topic:
			return fmt.Errorf("%w: %q, writer has %q", ErrWriterTopic, t, s.w.Topic)
		case s.w.Topic == "" && t == "":
			return events.ErrNoTopic
		}
	}
	bp, _ := s.pool.Get().(*[]kafka.Message)
	if bp == nil {
		bp = new([]kafka.Message)
	}
	km := (*bp)[:0]
	for i := range msgs {
		m := &msgs[i]
		topic := m.Topic
		if s.w.Topic != "" {
			topic = "" // kafka-go wants the topic in one place only
		}
		var hs []kafka.Header
		if len(m.Headers) > 0 {
			hs = make([]kafka.Header, len(m.Headers))
			for j, h := range m.Headers {
				hs[j] = kafka.Header{Key: h.Key, Value: h.Value}
			}
		}
		km = append(km, kafka.Message{Topic: topic, Key: m.Key, Value: m.Value, Headers: hs, Time: m.Time})
	}
	err := s.w.WriteMessages(ctx, km...)
	clear(km) // the Writer copied the structs; drop our references
	*bp = km[:0]
	s.pool.Put(bp)
	return err
}

// NewReaderConfig returns a ReaderConfig for topic and group with
// synchronous commits (CommitInterval 0; events.SubscriberOptions decides
// when to commit), reading a new group from the earliest offset,
// heartbeats every second so that group changes are noticed quickly, and
// fetches that wait at most a second for data. SessionTimeout (kafka-go's default is 30s) decides how
// long the partitions of a crashed member wait before moving.
func NewReaderConfig(brokers []string, topic, group string) kafka.ReaderConfig {
	return kafka.ReaderConfig{
		Brokers:           brokers,
		Topic:             topic,
		GroupID:           group,
		StartOffset:       kafka.FirstOffset,
		CommitInterval:    0,
		HeartbeatInterval: time.Second,
		MaxWait:           time.Second,
	}
}

// Receiver is the [events.Receiver] of a kafka-go ReaderConfig. Each Join
// makes a new Reader from it, and the member's Close closes that Reader.
// It is safe for concurrent use.
type Receiver struct {
	cfg kafka.ReaderConfig
}

// NewReceiver checks cfg and returns a Receiver. cfg must have a GroupID
// ([events.ErrNoGroup]) and one Topic: a Subscriber commits per message
// of one topic. A CommitInterval other than 0 makes commits asynchronous:
// still at-least-once, but a crash redelivers everything since the last
// flushed commit.
func NewReceiver(cfg kafka.ReaderConfig) (*Receiver, error) {
	if cfg.GroupID == "" {
		return nil, fmt.Errorf("kafkabus: %w", events.ErrNoGroup)
	}
	if cfg.Topic == "" || len(cfg.GroupTopics) > 0 {
		return nil, fmt.Errorf("kafkabus: reader config needs exactly one Topic and no GroupTopics: %w", events.ErrNoTopic)
	}
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("kafkabus: %w", err)
	}
	return &Receiver{cfg: cfg}, nil
}

// Join returns a new member backed by a new kafka-go Reader. The Reader
// joins the group on the first Fetch.
func (r *Receiver) Join(ctx context.Context) (events.Member, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	closed, markClosed := context.WithCancel(context.Background())
	return &member{r: kafka.NewReader(r.cfg), closed: closed, markClosed: markClosed}, nil
}

type member struct {
	r *kafka.Reader
	// closed ends when Close is called. kafka-go's CommitMessages may
	// queue a commit on a closed Reader and then wait for an answer that
	// never comes, so every call also gives up when the member closes.
	closed     context.Context
	markClosed context.CancelFunc
}

// bound returns ctx, cancelled also when the member closes.
func (m *member) bound(ctx context.Context) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(ctx)
	stop := context.AfterFunc(m.closed, cancel)
	return ctx, func() { stop(); cancel() }
}

func (m *member) Fetch(ctx context.Context) (events.Message, error) {
	if m.closed.Err() != nil {
		return events.Message{}, fmt.Errorf("kafkabus: fetch: %w", events.ErrClosed)
	}
	km, err := m.r.FetchMessage(ctx)
	if err != nil {
		if errors.Is(err, io.EOF) {
			return events.Message{}, fmt.Errorf("kafkabus: fetch: %w", events.ErrClosed)
		}
		if ctx.Err() != nil {
			return events.Message{}, ctx.Err()
		}
		return events.Message{}, fmt.Errorf("kafkabus: fetch: %w", err)
	}
	msg := events.Message{
		Topic: km.Topic, Key: km.Key, Value: km.Value, Time: km.Time,
		Partition: km.Partition, Offset: km.Offset,
	}
	if len(km.Headers) > 0 {
		msg.Headers = make([]events.Header, len(km.Headers))
		for i, h := range km.Headers {
			msg.Headers[i] = events.Header{Key: h.Key, Value: h.Value}
		}
	}
	return msg, nil
}

func (m *member) Commit(ctx context.Context, msg events.Message) error {
	if m.closed.Err() != nil {
		return fmt.Errorf("kafkabus: commit: %w", events.ErrClosed)
	}
	bctx, done := m.bound(ctx)
	defer done()
	err := m.r.CommitMessages(bctx, kafka.Message{Topic: msg.Topic, Partition: msg.Partition, Offset: msg.Offset})
	switch {
	case err == nil:
		return nil
	case errors.Is(err, io.ErrClosedPipe), err != nil && ctx.Err() == nil && m.closed.Err() != nil:
		return fmt.Errorf("kafkabus: commit: %w", events.ErrClosed)
	default:
		return fmt.Errorf("kafkabus: commit %s/%d@%d: %w", msg.Topic, msg.Partition, msg.Offset, err)
	}
}

// Close closes the Reader, which leaves the group.
func (m *member) Close() error {
	m.markClosed()
	return m.r.Close()
}
