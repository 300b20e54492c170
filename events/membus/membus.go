package membus

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/sysblocks/sysblocks/events"
)

// Options configures a [Bus]. A nil *Options is the same as a zero one.
type Options struct {
	// Partitions is the partition count of topics created on first use, by
	// Send or Join. Zero means 1, Kafka's default num.partitions.
	Partitions int

	// Retention bounds the messages each partition keeps: when it holds
	// twice Retention, the oldest are deleted down to Retention. A group
	// whose committed offset falls before the oldest kept message resumes
	// there, as a Kafka consumer does after log retention. Zero means keep
	// everything.
	Retention int

	// SessionTimeout is how long a member may go without calling Fetch or
	// Commit, while not waiting in Fetch, before the group counts it dead,
	// as Kafka does with a consumer that stops heartbeating or polling: its
	// partitions go to the other members from the committed offsets, its
	// next Commit fails with [ErrEvicted], and its next Fetch joins the
	// group again. A handler that runs longer than SessionTimeout therefore
	// loses its partitions. Zero means members leave only by Close.
	SessionTimeout time.Duration

	// Now stamps sent messages whose Time is zero, and measures
	// SessionTimeout. Nil means time.Now.
	Now func() time.Time
}

// ErrEvicted is returned by Commit from a member that the group removed
// after SessionTimeout.
var ErrEvicted = errors.New("membus: member evicted after its session timeout")

// Bus is an in-memory set of topics. It implements [events.Sender], and
// [Bus.Receiver] gives the [events.Receiver] of a topic and group. A Bus is
// safe for concurrent use; its zero value is not usable, call [New].
type Bus struct {
	o      Options
	mu     sync.Mutex
	topics map[string]*topic
}

// New returns an empty Bus.
func New(opts *Options) *Bus {
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.Partitions <= 0 {
		o.Partitions = 1
	}
	if o.Retention < 0 {
		o.Retention = 0
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Bus{o: o, topics: make(map[string]*topic)}
}

type topic struct {
	name    string
	now     func() time.Time
	keep    int
	session time.Duration

	mu     sync.Mutex
	parts  []partition
	groups map[string]*group
	rr     int           // next partition for a nil key
	wake   chan struct{} // closed and replaced on every change
}

type partition struct {
	base int64            // offset of msgs[0]
	msgs []events.Message // Partition and Offset already set
}

func (p *partition) end() int64 { return p.base + int64(len(p.msgs)) }

type group struct {
	committed []int64   // next offset to deliver, per partition
	members   []*member // in join order
}

// CreateTopic creates a topic with the given number of partitions. It
// fails with [events.ErrTopicExists] if the topic exists (possibly created
// on first use) and with [events.ErrBadPartition] if partitions < 1.
func (b *Bus) CreateTopic(name string, partitions int) error {
	if name == "" {
		return events.ErrNoTopic
	}
	if partitions < 1 {
		return fmt.Errorf("membus: create topic %s: %d partitions: %w", name, partitions, events.ErrBadPartition)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, ok := b.topics[name]; ok {
		return fmt.Errorf("membus: create topic %s: %w", name, events.ErrTopicExists)
	}
	b.topics[name] = b.newTopic(name, partitions)
	return nil
}

func (b *Bus) newTopic(name string, partitions int) *topic {
	return &topic{
		name: name, now: b.o.Now, keep: b.o.Retention, session: b.o.SessionTimeout,
		parts:  make([]partition, partitions),
		groups: make(map[string]*group),
		wake:   make(chan struct{}),
	}
}

// topic returns the named topic, creating it if needed.
func (b *Bus) topic(name string) *topic {
	b.mu.Lock()
	defer b.mu.Unlock()
	t, ok := b.topics[name]
	if !ok {
		t = b.newTopic(name, b.o.Partitions)
		b.topics[name] = t
	}
	return t
}

// Send appends msgs to their topics, creating missing topics with
// Options.Partitions partitions. Messages with a key go to
// events.Partition(key, partitions); messages without one go round-robin.
// Send copies what it keeps and returns once every message is appended.
func (b *Bus) Send(ctx context.Context, msgs []events.Message) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	for i := range msgs {
		if msgs[i].Topic == "" {
			return events.ErrNoTopic
		}
	}
	for i := 0; i < len(msgs); {
		// Append each run of messages for one topic under one lock.
		j := i + 1
		for j < len(msgs) && msgs[j].Topic == msgs[i].Topic {
			j++
		}
		b.topic(msgs[i].Topic).append(msgs[i:j])
		i = j
	}
	return nil
}

func (t *topic) append(msgs []events.Message) {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	for _, m := range msgs {
		var p int
		if m.Key == nil {
			p = t.rr % len(t.parts)
			t.rr++
		} else {
			p = events.Partition(m.Key, len(t.parts))
		}
		part := &t.parts[p]
		m = clone(m)
		if m.Time.IsZero() {
			m.Time = now
		}
		m.Partition, m.Offset = p, part.end()
		part.msgs = append(part.msgs, m)
		if t.keep > 0 && len(part.msgs) >= 2*t.keep {
			drop := len(part.msgs) - t.keep
			part.msgs = append(part.msgs[:0:0], part.msgs[drop:]...)
			part.base += int64(drop)
		}
	}
	t.notify()
}

// notify wakes every waiting Fetch. The caller holds t.mu.
func (t *topic) notify() {
	close(t.wake)
	t.wake = make(chan struct{})
}

func clone(m events.Message) events.Message {
	m.Key = bytes.Clone(m.Key)
	m.Value = bytes.Clone(m.Value)
	if m.Headers != nil {
		h := make([]events.Header, len(m.Headers))
		for i, x := range m.Headers {
			h[i] = events.Header{Key: x.Key, Value: bytes.Clone(x.Value)}
		}
		m.Headers = h
	}
	return m
}

// Receiver returns the receiver for topic in consumer group group.
func (b *Bus) Receiver(topic, group string) *Receiver {
	return &Receiver{b: b, topic: topic, group: group}
}

// Receiver is the [events.Receiver] of one topic and consumer group. It is
// safe for concurrent use.
type Receiver struct {
	b            *Bus
	topic, group string
}

// Join adds a member to the group, creating the topic if needed, and
// reassigns the topic's partitions over all members.
func (r *Receiver) Join(ctx context.Context) (events.Member, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if r.topic == "" {
		return nil, events.ErrNoTopic
	}
	if r.group == "" {
		return nil, events.ErrNoGroup
	}
	t := r.b.topic(r.topic)
	t.mu.Lock()
	defer t.mu.Unlock()
	g, ok := t.groups[r.group]
	if !ok {
		g = &group{committed: make([]int64, len(t.parts))}
		t.groups[r.group] = g
	}
	t.expire(g)
	m := &member{t: t, g: g, seen: t.now()}
	g.members = append(g.members, m)
	t.rebalance(g)
	return m, nil
}

// expire removes the members of g whose session timed out. The caller
// holds t.mu.
func (t *topic) expire(g *group) {
	if t.session <= 0 {
		return
	}
	now := t.now()
	live := g.members[:0]
	for _, m := range g.members {
		if !m.waiting && now.Sub(m.seen) > t.session {
			m.evicted = true
			continue
		}
		live = append(live, m)
	}
	if len(live) == len(g.members) {
		return
	}
	clear(g.members[len(live):])
	g.members = live
	if len(live) > 0 {
		t.rebalance(g)
	}
}

// rebalance gives each member of g a contiguous range of partitions, as
// Kafka's range assignor does, each starting from the committed offset.
// The caller holds t.mu.
func (t *topic) rebalance(g *group) {
	n, k := len(t.parts), len(g.members)
	p := 0
	for i, m := range g.members {
		cnt := n / k
		if i < n%k {
			cnt++
		}
		m.parts = m.parts[:0]
		m.pos = m.pos[:0]
		for range cnt {
			m.parts = append(m.parts, p)
			m.pos = append(m.pos, g.committed[p])
			p++
		}
		m.next = 0
	}
	t.notify()
}

type member struct {
	t *topic
	g *group

	// guarded by t.mu
	parts   []int     // assigned partitions
	pos     []int64   // next offset to fetch, per assigned partition
	next    int       // index in parts to look at first, for fairness
	seen    time.Time // last call to Fetch or Commit
	waiting bool      // blocked in Fetch: alive
	evicted bool      // removed by expire; Fetch rejoins
	closed  bool
}

// Fetch returns the next message of the member's partitions, taking the
// partitions in turn. An evicted member joins the group again first.
func (m *member) Fetch(ctx context.Context) (events.Message, error) {
	t := m.t
	for {
		t.mu.Lock()
		if m.closed {
			t.mu.Unlock()
			return events.Message{}, fmt.Errorf("membus: fetch: %w", events.ErrClosed)
		}
		m.seen = t.now()
		if m.evicted {
			m.evicted = false
			m.g.members = append(m.g.members, m)
			t.rebalance(m.g)
		}
		t.expire(m.g)
		for i := range m.parts {
			j := (m.next + i) % len(m.parts)
			part := &t.parts[m.parts[j]]
			pos := max(m.pos[j], part.base)
			if pos < part.end() {
				msg := clone(part.msgs[pos-part.base])
				m.pos[j] = pos + 1
				m.next = j + 1
				t.mu.Unlock()
				return msg, nil
			}
		}
		wake := t.wake
		m.waiting = true
		t.mu.Unlock()
		var timer *time.Timer
		var expiry <-chan time.Time
		if t.session > 0 {
			// Wake up now and then to notice members that died.
			timer = time.NewTimer(t.session)
			expiry = timer.C
		}
		var err error
		select {
		case <-wake:
		case <-expiry:
		case <-ctx.Done():
			err = ctx.Err()
		}
		if timer != nil {
			timer.Stop()
		}
		t.mu.Lock()
		m.waiting = false
		m.seen = t.now()
		t.mu.Unlock()
		if err != nil {
			return events.Message{}, err
		}
	}
}

// Commit moves the group's offset of msg's partition past msg, unless it
// is already further.
func (m *member) Commit(ctx context.Context, msg events.Message) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	t := m.t
	if msg.Topic != t.name {
		return fmt.Errorf("membus: commit: message of topic %q to a member of %q", msg.Topic, t.name)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if m.closed {
		return fmt.Errorf("membus: commit: %w", events.ErrClosed)
	}
	if m.evicted {
		return fmt.Errorf("membus: commit %s/%d@%d: %w", msg.Topic, msg.Partition, msg.Offset, ErrEvicted)
	}
	m.seen = t.now()
	t.expire(m.g)
	if msg.Partition < 0 || msg.Partition >= len(t.parts) {
		return fmt.Errorf("membus: commit: partition %d of %d: %w", msg.Partition, len(t.parts), events.ErrBadPartition)
	}
	if next := msg.Offset + 1; next > m.g.committed[msg.Partition] {
		m.g.committed[msg.Partition] = next
	}
	return nil
}

// Close leaves the group and reassigns its partitions to the others.
func (m *member) Close() error {
	t := m.t
	t.mu.Lock()
	defer t.mu.Unlock()
	if m.closed {
		return nil
	}
	m.closed = true
	if m.evicted {
		return nil // already out of the group
	}
	for i, x := range m.g.members {
		if x == m {
			m.g.members = append(m.g.members[:i], m.g.members[i+1:]...)
			break
		}
	}
	if len(m.g.members) > 0 {
		t.rebalance(m.g)
	} else {
		t.notify()
	}
	return nil
}
