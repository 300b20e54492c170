package eventstest

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unicode"

	"github.com/sysblocks/sysblocks/events"
)

// Timeout bounds each check: a check that has not seen every message it
// waits for by then fails and lists what is missing.
var Timeout = 2 * time.Minute

// Harness gives the suite fresh topics, and the adapter's sender and
// receivers on them. The suite calls the constructor once per subtest.
type Harness interface {
	// Topic creates an empty topic with the given number of partitions,
	// unique to t, and returns its name.
	Topic(t testing.TB, partitions int) string
	// Sender returns the adapter's sender. The suite may call it more
	// than once.
	Sender(t testing.TB) events.Sender
	// Receiver returns a receiver for topic in consumer group group.
	Receiver(t testing.TB, topic, group string) events.Receiver
}

// Remote is a [Harness] whose bus another process can reach, for the
// SIGKILL test of [Features].Process.
type Remote interface {
	Harness
	// Config returns what a child process needs to build receivers; the
	// child passes it to the function given to [Child].
	Config(t testing.TB) string
}

// Features says what an adapter can do beyond the common contract.
type Features struct {
	// KafkaPartitioner: messages with a key land on partition
	// events.Partition(key, partitions), as with Kafka's default
	// partitioner (kafka-go's Murmur2Balancer).
	KafkaPartitioner bool

	// Process: group members may live in other processes. The suite then
	// runs a member in a child process (a re-exec of the test binary),
	// kills it with SIGKILL in the middle of a handler, and checks that a
	// new member receives everything the child had not committed. The
	// harness must implement [Remote] and the test binary's TestMain must
	// call [Child].
	Process bool
}

// Run runs the conformance suite. newHarness is called once per subtest.
func Run(t *testing.T, newHarness func(t *testing.T) Harness, f Features) {
	t.Run("RoundTrip", func(t *testing.T) { testRoundTrip(t, newHarness(t)) })
	t.Run("PartitionByKey", func(t *testing.T) { testPartitionByKey(t, newHarness(t), f) })
	t.Run("OrderPerKey", func(t *testing.T) { testOrderPerKey(t, newHarness(t), events.SubscriberOptions{}) })
	t.Run("OrderPerKeyConcurrent", func(t *testing.T) {
		testOrderPerKey(t, newHarness(t), events.SubscriberOptions{Concurrency: 4})
	})
	t.Run("GroupShare", func(t *testing.T) { testGroupShare(t, newHarness(t)) })
	t.Run("GroupsIndependent", func(t *testing.T) { testGroupsIndependent(t, newHarness(t)) })
	t.Run("RedeliverAfterError", func(t *testing.T) { testRedeliverAfterError(t, newHarness(t)) })
	t.Run("GiveUp", func(t *testing.T) { testGiveUp(t, newHarness(t)) })
	t.Run("StopMidHandler", func(t *testing.T) { testStopMidHandler(t, newHarness(t), events.SubscriberOptions{}) })
	t.Run("RestartNoLoss", func(t *testing.T) { testRestartNoLoss(t, newHarness(t), events.SubscriberOptions{}) })
	t.Run("StopWhileIdle", func(t *testing.T) { testStopWhileIdle(t, newHarness(t)) })
	// Capabilities an adapter lacks are not run at all, rather than
	// skipped: a skip would read as a missing service in `make test`.
	if f.Process {
		t.Run("KillProcess", func(t *testing.T) { killProcess(t, newHarness, false) })
	}
	// The same with commits in the background.
	async := events.SubscriberOptions{CommitInterval: 20 * time.Millisecond}
	t.Run("CommitInterval/OrderPerKey", func(t *testing.T) { testOrderPerKey(t, newHarness(t), async) })
	t.Run("CommitInterval/OrderPerKeyConcurrent", func(t *testing.T) {
		testOrderPerKey(t, newHarness(t), events.SubscriberOptions{CommitInterval: 20 * time.Millisecond, Concurrency: 4})
	})
	t.Run("CommitInterval/StopMidHandler", func(t *testing.T) { testStopMidHandler(t, newHarness(t), async) })
	t.Run("CommitInterval/RestartNoLoss", func(t *testing.T) { testRestartNoLoss(t, newHarness(t), async) })
	if f.Process {
		t.Run("CommitInterval/KillProcess", func(t *testing.T) { killProcess(t, newHarness, true) })
	}
}

func killProcess(t *testing.T, newHarness func(t *testing.T) Harness, async bool) {
	h := newHarness(t)
	r, ok := h.(Remote)
	if !ok {
		t.Fatal("Features.Process is set but the harness does not implement eventstest.Remote")
	}
	testKillProcess(t, r, async)
}

// ---- messages and deliveries ----

// msgs returns n messages per key, interleaved by sequence number, with
// value "key/seq".
func msgs(topic string, keys []string, n int) []events.Message {
	out := make([]events.Message, 0, n*len(keys))
	for seq := range n {
		for _, k := range keys {
			out = append(out, events.Message{Topic: topic, Key: []byte(k), Value: []byte(k + "/" + strconv.Itoa(seq))})
		}
	}
	return out
}

func keys(n int) []string {
	ks := make([]string, n)
	for i := range ks {
		ks[i] = "key-" + strconv.Itoa(i)
	}
	return ks
}

type id struct {
	key string
	seq int
}

func (i id) String() string { return i.key + "/" + strconv.Itoa(i.seq) }

func parse(v []byte) (id, error) {
	k, s, ok := strings.Cut(string(v), "/")
	n, err := strconv.Atoi(s)
	if !ok || err != nil {
		return id{}, fmt.Errorf("eventstest: unexpected value %q", v)
	}
	return id{k, n}, nil
}

type delivery struct {
	member    int
	id        id
	partition int
	offset    int64
}

// recorder collects deliveries from handlers and lets the test wait for a
// condition on them.
type recorder struct {
	mu      sync.Mutex
	ds      []delivery
	bad     error
	changed chan struct{}
}

func newRecorder() *recorder { return &recorder{changed: make(chan struct{})} }

func (r *recorder) add(member int, m *events.Message) {
	i, err := parse(m.Value)
	r.mu.Lock()
	defer r.mu.Unlock()
	if err != nil {
		if r.bad == nil {
			r.bad = err
		}
	} else {
		r.ds = append(r.ds, delivery{member, i, m.Partition, m.Offset})
	}
	close(r.changed)
	r.changed = make(chan struct{})
}

// handler records every message and succeeds.
func (r *recorder) handler(member int) events.Handler {
	return func(_ context.Context, m *events.Message) error {
		r.add(member, m)
		return nil
	}
}

func (r *recorder) snapshot() []delivery {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.ds)
}

// wait blocks until cond holds for the deliveries so far; it fails t when
// ctx ends first, describing what was awaited.
func (r *recorder) wait(t testing.TB, ctx context.Context, what string, cond func([]delivery) bool) []delivery {
	t.Helper()
	for {
		r.mu.Lock()
		ds, bad, ch := slices.Clone(r.ds), r.bad, r.changed
		r.mu.Unlock()
		if bad != nil {
			t.Fatal(bad)
		}
		if cond(ds) {
			return ds
		}
		select {
		case <-ch:
		case <-ctx.Done():
			t.Fatalf("%s: not reached after %d deliveries: %v", what, len(ds), ctx.Err())
		}
	}
}

// covers returns a condition true once every id of want was delivered.
func covers(want []events.Message) func([]delivery) bool {
	return func(ds []delivery) bool { return len(missing(want, ds)) == 0 }
}

func missing(want []events.Message, ds []delivery) []id {
	got := make(map[id]bool, len(ds))
	for _, d := range ds {
		got[d.id] = true
	}
	var miss []id
	for _, m := range want {
		i, _ := parse(m.Value)
		if !got[i] {
			miss = append(miss, i)
		}
	}
	return miss
}

// ---- running things ----

func name(t testing.TB, prefix string) string {
	var b strings.Builder
	b.WriteString(prefix)
	for _, r := range strings.ToLower(t.Name()) {
		if b.Len() >= 32 {
			break
		}
		if r < unicode.MaxASCII && (unicode.IsLetter(r) || unicode.IsDigit(r)) {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	var x [4]byte
	_, _ = rand.Read(x[:])
	return b.String() + "_" + hex.EncodeToString(x[:])
}

func deadline(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), Timeout)
	t.Cleanup(cancel)
	return ctx
}

func publish(t testing.TB, ctx context.Context, h Harness, ms []events.Message) {
	t.Helper()
	if err := events.NewPublisher(h.Sender(t), nil).Publish(ctx, ms...); err != nil {
		t.Fatalf("publish %d messages: %v", len(ms), err)
	}
}

// running is a Subscriber running in a goroutine.
type running struct {
	cancel context.CancelFunc
	done   chan error
	sub    *events.Subscriber
	once   sync.Once
	err    error
}

// start runs a subscriber until stop is called or the test ends.
func start(t testing.TB, r events.Receiver, h events.Handler, opts *events.SubscriberOptions) *running {
	t.Helper()
	var o events.SubscriberOptions
	if opts != nil {
		o = *opts
	}
	if o.Backoff == 0 {
		o.Backoff = time.Millisecond
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &running{cancel: cancel, done: make(chan error, 1), sub: events.NewSubscriber(r, h, &o)}
	go func() { s.done <- s.sub.Run(ctx) }()
	t.Cleanup(func() { _ = s.stop() })
	return s
}

// wait waits for Run to return by itself and returns its error; done is
// false when ctx ends first.
func (s *running) wait(ctx context.Context) (done bool, err error) {
	select {
	case err := <-s.done:
		s.once.Do(func() {
			s.cancel()
			s.err = err
		})
		return true, err
	case <-ctx.Done():
		return false, nil
	}
}

// stop cancels the subscriber and returns what Run returned.
func (s *running) stop() error {
	s.once.Do(func() {
		s.cancel()
		s.err = <-s.done
	})
	return s.err
}

// ---- the checks ----

func testRoundTrip(t *testing.T, h Harness) {
	ctx := deadline(t)
	topic := h.Topic(t, 3)
	before := time.Now().Truncate(time.Millisecond)
	at := time.UnixMilli(before.UnixMilli() - 3_600_000).UTC()
	sent := []events.Message{
		{Topic: topic, Key: []byte("user-1"), Value: []byte("user-1/0"), Time: at,
			Headers: []events.Header{{Key: "trace", Value: []byte("abc")}, {Key: "empty", Value: []byte{}}, {Key: "trace", Value: []byte("def")}}},
		{Topic: topic, Value: []byte("nil-key/0"), Time: at.Add(time.Millisecond)},
		{Topic: topic, Key: []byte("user-2"), Value: []byte("user-2/0"), Time: at.Add(2 * time.Millisecond)},
		{Topic: topic, Key: []byte("no-time"), Value: []byte("no-time/0")}, // the adapter stamps it
	}
	publish(t, ctx, h, sent)
	after := time.Now()
	var mu sync.Mutex
	got := map[string]events.Message{}
	rec := newRecorder()
	start(t, h.Receiver(t, topic, name(t, "g")), func(ctx context.Context, m *events.Message) error {
		mu.Lock()
		got[string(m.Value)] = *m
		mu.Unlock()
		rec.add(0, m)
		return nil
	}, nil)
	rec.wait(t, ctx, "all 4 messages delivered", covers(sent))
	mu.Lock()
	defer mu.Unlock()
	seen := map[[2]int64]bool{}
	for _, want := range sent {
		m := got[string(want.Value)]
		if m.Topic != topic {
			t.Errorf("%s: Topic = %q; want %q", want.Value, m.Topic, topic)
		}
		if !bytes.Equal(m.Key, want.Key) {
			t.Errorf("%s: Key = %q; want %q", want.Value, m.Key, want.Key)
		}
		switch {
		case want.Time.IsZero():
			if m.Time.Before(before) || m.Time.After(after) {
				t.Errorf("%s: sent with no Time, received %v; want the send time, between %v and %v", want.Value, m.Time, before, after)
			}
		case !m.Time.Equal(want.Time):
			t.Errorf("%s: Time = %v; want %v", want.Value, m.Time, want.Time)
		}
		if len(m.Headers) != len(want.Headers) {
			t.Errorf("%s: %d headers; want %d", want.Value, len(m.Headers), len(want.Headers))
		} else {
			for i := range want.Headers {
				if m.Headers[i].Key != want.Headers[i].Key || !bytes.Equal(m.Headers[i].Value, want.Headers[i].Value) {
					t.Errorf("%s: header %d = %q:%q; want %q:%q", want.Value, i,
						m.Headers[i].Key, m.Headers[i].Value, want.Headers[i].Key, want.Headers[i].Value)
				}
			}
		}
		if m.Partition < 0 || m.Partition >= 3 || m.Offset < 0 {
			t.Errorf("%s: partition %d offset %d; want partition in [0,3) and offset >= 0", want.Value, m.Partition, m.Offset)
		}
		pos := [2]int64{int64(m.Partition), m.Offset}
		if seen[pos] {
			t.Errorf("%s: partition %d offset %d given to two messages", want.Value, m.Partition, m.Offset)
		}
		seen[pos] = true
	}
	first := got["user-1/0"]
	if v, ok := first.Header("trace"); !ok || string(v) != "def" {
		t.Errorf(`Header("trace") = %q, %v; want "def", true (the last one)`, v, ok)
	}
}

func testPartitionByKey(t *testing.T, h Harness, f Features) {
	ctx := deadline(t)
	const parts = 4
	topic := h.Topic(t, parts)
	ks := keys(40)
	sent := msgs(topic, ks, 3)
	publish(t, ctx, h, sent)
	rec := newRecorder()
	start(t, h.Receiver(t, topic, name(t, "g")), rec.handler(0), nil)
	ds := rec.wait(t, ctx, "all messages delivered", covers(sent))
	part := map[string]int{}
	used := map[int]bool{}
	for _, d := range ds {
		if p, ok := part[d.id.key]; ok && p != d.partition {
			t.Errorf("key %s in partitions %d and %d; want one partition per key", d.id.key, p, d.partition)
		}
		part[d.id.key] = d.partition
		used[d.partition] = true
		if want := events.Partition([]byte(d.id.key), parts); f.KafkaPartitioner && d.partition != want {
			t.Errorf("key %s in partition %d; want %d (Kafka's murmur2 partitioner)", d.id.key, d.partition, want)
		}
	}
	if len(used) < 2 {
		t.Errorf("40 keys all in partitions %v; want them spread over the %d partitions", used, parts)
	}
}

func testOrderPerKey(t *testing.T, h Harness, o events.SubscriberOptions) {
	ctx := deadline(t)
	topic := h.Topic(t, 3)
	const perKey = 60
	ks := keys(24)
	// Four publishers, each owning a quarter of the keys, send batches of
	// ten messages concurrently.
	var wg sync.WaitGroup
	var all []events.Message
	for g := range 4 {
		var mine []string
		for i, k := range ks {
			if i%4 == g {
				mine = append(mine, k)
			}
		}
		batch := msgs(topic, mine, perKey)
		all = append(all, batch...)
		wg.Go(func() {
			p := events.NewPublisher(h.Sender(t), nil)
			for len(batch) > 0 {
				n := min(10, len(batch))
				if err := p.Publish(ctx, batch[:n]...); err != nil {
					t.Errorf("publish: %v", err)
					return
				}
				batch = batch[n:]
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	rec := newRecorder()
	start(t, h.Receiver(t, topic, name(t, "g")), rec.handler(0), &o)
	ds := rec.wait(t, ctx, "all messages delivered", covers(all))
	next := map[string]int{}
	for _, d := range ds {
		if d.id.seq != next[d.id.key] {
			t.Fatalf("key %s: got seq %d after %d; want %d (in order, no gaps, no duplicates)",
				d.id.key, d.id.seq, next[d.id.key]-1, next[d.id.key])
		}
		next[d.id.key]++
	}
	if len(ds) != len(all) {
		t.Errorf("%d deliveries; want %d", len(ds), len(all))
	}
}

func testGroupShare(t *testing.T, h Harness) {
	ctx := deadline(t)
	topic := h.Topic(t, 4)
	group := name(t, "g")
	rec := newRecorder()
	a := start(t, h.Receiver(t, topic, group), rec.handler(0), nil)
	b := start(t, h.Receiver(t, topic, group), rec.handler(1), nil)
	// Publish rounds until one round is split between the two members with
	// no partition seen by both: each partition belongs to one member.
	var all []events.Message
	for round := 0; ; round++ {
		if ctx.Err() != nil {
			t.Fatalf("after %d rounds the members never shared the partitions of one round", round)
		}
		var ms []events.Message // seq = round
		for _, k := range keys(16) {
			ms = append(ms, events.Message{Topic: topic, Key: []byte(k), Value: []byte(k + "/" + strconv.Itoa(round))})
		}
		publish(t, ctx, h, ms)
		all = append(all, ms...)
		ds := rec.wait(t, ctx, fmt.Sprintf("round %d delivered", round), covers(all))
		owner := map[int]map[int]bool{} // partition -> members
		for _, d := range ds {
			if d.id.seq != round {
				continue
			}
			if owner[d.partition] == nil {
				owner[d.partition] = map[int]bool{}
			}
			owner[d.partition][d.member] = true
		}
		members := map[int]bool{}
		shared := false
		for _, ms := range owner {
			shared = shared || len(ms) > 1
			for m := range ms {
				members[m] = true
			}
		}
		if len(members) == 2 && !shared {
			t.Logf("round %d: partitions split between the members: %v", round, owner)
			break
		}
	}
	for _, s := range []*running{a, b} {
		if err := s.stop(); err != nil {
			t.Errorf("Run: %v", err)
		}
	}
	ds := rec.snapshot()
	t.Logf("%d messages, %d deliveries (%d redelivered during rebalances)", len(all), len(ds), len(ds)-len(all))
}

func testGroupsIndependent(t *testing.T, h Harness) {
	ctx := deadline(t)
	topic := h.Topic(t, 2)
	sent := msgs(topic, keys(5), 20)
	publish(t, ctx, h, sent)
	r1, r2 := newRecorder(), newRecorder()
	start(t, h.Receiver(t, topic, name(t, "g1")), r1.handler(0), nil)
	start(t, h.Receiver(t, topic, name(t, "g2")), r2.handler(0), nil)
	d1 := r1.wait(t, ctx, "group 1 got everything", covers(sent))
	d2 := r2.wait(t, ctx, "group 2 got everything", covers(sent))
	if len(d1) != len(sent) || len(d2) != len(sent) {
		t.Errorf("groups got %d and %d deliveries; want %d each", len(d1), len(d2), len(sent))
	}
}

func testRedeliverAfterError(t *testing.T, h Harness) {
	ctx := deadline(t)
	topic := h.Topic(t, 2)
	sent := msgs(topic, keys(5), 20)
	publish(t, ctx, h, sent)
	var mu sync.Mutex
	attempts := map[id]int{}
	tried := map[string][]int{} // key -> seqs in the order of attempts
	rec := newRecorder()
	sub := start(t, h.Receiver(t, topic, name(t, "g")), func(_ context.Context, m *events.Message) error {
		i, err := parse(m.Value)
		if err != nil {
			return err
		}
		mu.Lock()
		attempts[i]++
		n := attempts[i]
		tried[i.key] = append(tried[i.key], i.seq)
		mu.Unlock()
		if i.seq%5 == 2 && n == 1 {
			return errors.New("first attempt fails")
		}
		rec.add(0, m)
		return nil
	}, &events.SubscriberOptions{Backoff: time.Millisecond})
	ds := rec.wait(t, ctx, "every message handled", covers(sent))
	next := map[string]int{}
	for _, d := range ds {
		if d.id.seq != next[d.id.key] {
			t.Fatalf("key %s: handled seq %d; want %d", d.id.key, d.id.seq, next[d.id.key])
		}
		next[d.id.key]++
	}
	mu.Lock()
	defer mu.Unlock()
	for k, seqs := range tried {
		// Each failure is retried at once, before any later message of the key.
		want := []int{}
		for s := range 20 {
			want = append(want, s)
			if s%5 == 2 {
				want = append(want, s)
			}
		}
		if !slices.Equal(seqs, want) {
			t.Errorf("key %s: attempts %v; want %v", k, seqs, want)
		}
	}
	// The counters move after the handler returns: wait for the last one.
	st := sub.sub.Stats()
	for st.Handled < 100 && ctx.Err() == nil {
		time.Sleep(time.Millisecond)
		st = sub.sub.Stats()
	}
	if st.Failures != 20 || st.Handled != 100 {
		t.Errorf("Stats: %+v; want 20 failures and 100 handled", st)
	}
}

func testGiveUp(t *testing.T, h Harness) {
	ctx := deadline(t)
	topic := h.Topic(t, 1)
	group := name(t, "g")
	sent := msgs(topic, []string{"k"}, 10)
	publish(t, ctx, h, sent)
	var calls atomic.Int32
	s := start(t, h.Receiver(t, topic, group), func(_ context.Context, m *events.Message) error {
		if string(m.Value) == "k/3" {
			calls.Add(1)
			return errors.New("poison")
		}
		return nil
	}, &events.SubscriberOptions{MaxAttempts: 3, Backoff: time.Millisecond})
	done, err := s.wait(ctx)
	if !done {
		t.Fatal("Run did not give up after MaxAttempts")
	}
	var he *events.HandlerError
	if !errors.Is(err, events.ErrHandler) || !errors.As(err, &he) {
		t.Fatalf("Run = %v; want a *HandlerError matching ErrHandler", err)
	}
	if he.Attempts != 3 || he.Offset != 3 || he.Partition != 0 || he.Topic != topic || calls.Load() != 3 {
		t.Errorf("HandlerError %+v after %d calls; want 3 attempts at %s/0@3", he, calls.Load(), topic)
	}
	// The poison message was not committed: the group gets it again, first.
	rec := newRecorder()
	start(t, h.Receiver(t, topic, group), rec.handler(0), nil)
	ds := rec.wait(t, ctx, "k/3..k/9 delivered again", covers(sent[3:]))
	if ds[0].id.seq != 3 || len(ds) != 7 {
		t.Errorf("after giving up the group got %v; want k/3..k/9", ids(ds))
	}
}

func ids(ds []delivery) []string {
	out := make([]string, len(ds))
	for i, d := range ds {
		out[i] = d.id.String()
	}
	return out
}

func testStopMidHandler(t *testing.T, h Harness, o events.SubscriberOptions) {
	ctx := deadline(t)
	topic := h.Topic(t, 1)
	group := name(t, "g")
	sent := msgs(topic, []string{"k"}, 20)
	publish(t, ctx, h, sent)
	blocked := make(chan struct{})
	rec := newRecorder()
	s := start(t, h.Receiver(t, topic, group), func(hctx context.Context, m *events.Message) error {
		if string(m.Value) == "k/10" {
			close(blocked)
			<-hctx.Done() // stopped in the middle of the work
			return hctx.Err()
		}
		rec.add(0, m)
		return nil
	}, &o)
	select {
	case <-blocked:
	case <-ctx.Done():
		t.Fatal("k/10 never reached the handler")
	}
	if err := s.stop(); err != nil {
		t.Fatalf("Run after stop = %v; want nil", err)
	}
	if ds := rec.snapshot(); len(ds) != 10 {
		t.Fatalf("first member handled %v; want k/0..k/9", ids(ds))
	}
	rec2 := newRecorder()
	start(t, h.Receiver(t, topic, group), rec2.handler(1), &o)
	ds := rec2.wait(t, ctx, "k/10..k/19 delivered to the next member", covers(sent[10:]))
	if got := ids(ds); len(got) != 10 || got[0] != "k/10" {
		t.Errorf("next member got %v; want k/10..k/19 (the interrupted message first, nothing committed redelivered)", got)
	}
}

func testRestartNoLoss(t *testing.T, h Harness, o events.SubscriberOptions) {
	ctx := deadline(t)
	topic := h.Topic(t, 2)
	group := name(t, "g")
	first := msgs(topic, keys(6), 30)
	publish(t, ctx, h, first)
	rec := newRecorder()
	a := start(t, h.Receiver(t, topic, group), rec.handler(0), &o)
	rec.wait(t, ctx, "first member handled a third", func(ds []delivery) bool { return len(ds) >= len(first)/3 })
	if err := a.stop(); err != nil {
		t.Fatalf("Run after stop = %v; want nil", err)
	}
	handledByA := len(rec.snapshot())
	second := msgs(topic, keys(6), 45)[len(first):] // seqs 30..44, published while no one consumes
	publish(t, ctx, h, second)
	all := append(slices.Clone(first), second...)
	start(t, h.Receiver(t, topic, group), rec.handler(1), &o)
	ds := rec.wait(t, ctx, "every message handled by one of the members", covers(all))
	dups := len(ds) - len(all)
	t.Logf("first member handled %d, second %d, duplicates %d", handledByA, len(ds)-handledByA, dups)
	if dups != 0 {
		t.Errorf("%d messages handled twice across a clean restart; want 0 (every handled message was committed)", dups)
	}
}

func testStopWhileIdle(t *testing.T, h Harness) {
	topic := h.Topic(t, 2)
	s := start(t, h.Receiver(t, topic, name(t, "g")), func(context.Context, *events.Message) error {
		return errors.New("no message expected")
	}, nil)
	if err := s.stop(); err != nil {
		t.Errorf("Run = %v; want nil after its context ends", err)
	}
	if st := s.sub.Stats(); st.Fetched != 0 {
		t.Errorf("Stats = %+v; want nothing fetched", st)
	}
}

// ---- the SIGKILL test ----

const childEnv = "EVENTSTEST_CHILD"

type childSpec struct {
	Config, Topic, Group string
	HangAt               int           // the handler hangs on its HangAt-th message
	CommitInterval       time.Duration // SubscriberOptions.CommitInterval
}

// Child runs the child side of the SIGKILL test when the process was
// started by it, and returns at once otherwise. Call it first thing in
// the TestMain of an adapter that sets [Features].Process:
//
//	func TestMain(m *testing.M) {
//		eventstest.Child(func(config, topic, group string) (events.Receiver, error) { ... })
//		os.Exit(m.Run())
//	}
//
// In the child it builds a receiver with newReceiver, runs a Subscriber
// that reports each handled message on stdout before committing it,
// hangs in the middle of one handler and waits to be killed; it never
// returns.
func Child(newReceiver func(config, topic, group string) (events.Receiver, error)) {
	raw := os.Getenv(childEnv)
	if raw == "" {
		return
	}
	var spec childSpec
	if err := json.Unmarshal([]byte(raw), &spec); err != nil {
		fmt.Printf("exit bad %s: %v\n", childEnv, err)
		os.Exit(2)
	}
	go func() {
		// The parent holds stdin open; if it dies, so does the child.
		_, _ = io.Copy(io.Discard, os.Stdin)
		os.Exit(3)
	}()
	r, err := newReceiver(spec.Config, spec.Topic, spec.Group)
	if err != nil {
		fmt.Printf("exit receiver: %v\n", err)
		os.Exit(2)
	}
	n := 0
	sub := events.NewSubscriber(r, func(_ context.Context, m *events.Message) error {
		n++
		if n == spec.HangAt {
			fmt.Printf("hang %d %d %s\n", m.Partition, m.Offset, m.Value)
			select {} // killed here, in the middle of the handler
		}
		fmt.Printf("ok %d %d %s\n", m.Partition, m.Offset, m.Value)
		return nil
	}, &events.SubscriberOptions{CommitInterval: spec.CommitInterval})
	err = sub.Run(context.Background())
	fmt.Printf("exit run: %v\n", err)
	os.Exit(2)
}

func testKillProcess(t *testing.T, h Remote, async bool) {
	var interval time.Duration
	if async {
		interval = 20 * time.Millisecond
	}
	ctx := deadline(t)
	topic := h.Topic(t, 2)
	group := name(t, "g")
	sent := msgs(topic, keys(10), 20)
	publish(t, ctx, h, sent)

	spec, _ := json.Marshal(childSpec{Config: h.Config(t), Topic: topic, Group: group, HangAt: 60, CommitInterval: interval})
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"="+string(spec))
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	defer stdin.Close()
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	byChild := map[id]bool{}
	var hung id
	sc := bufio.NewScanner(out)
	for hung.key == "" {
		if !sc.Scan() {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
			t.Fatalf("child ended before hanging (%v); stderr:\n%s", sc.Err(), stderr.Bytes())
		}
		f := strings.Fields(sc.Text())
		if len(f) != 4 {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
			t.Fatalf("child said %q; stderr:\n%s", sc.Text(), stderr.Bytes())
		}
		i, err := parse([]byte(f[3]))
		if err != nil {
			t.Fatal(err)
		}
		if f[0] == "hang" {
			hung = i
		} else {
			byChild[i] = true
		}
	}
	if err := cmd.Process.Kill(); err != nil { // SIGKILL: no LeaveGroup, no last commit
		t.Fatal(err)
	}
	_ = cmd.Wait()
	t.Logf("child handled %d messages and was killed while handling %s", len(byChild), hung)

	rec := newRecorder()
	start(t, h.Receiver(t, topic, group), rec.handler(1), nil)
	var rest []events.Message
	for _, m := range sent {
		if i, _ := parse(m.Value); !byChild[i] {
			rest = append(rest, m)
		}
	}
	ds := rec.wait(t, ctx, "everything the child did not finish delivered to the new member", covers(rest))
	dups := 0
	for _, d := range ds {
		if byChild[d.id] {
			dups++
		}
	}
	t.Logf("new member: %d deliveries, %d of them already handled by the killed child", len(ds), dups)
	got := map[id]bool{}
	for _, d := range ds {
		got[d.id] = true
	}
	if !got[hung] {
		t.Errorf("%s, interrupted by the kill, was not delivered again", hung)
	}
	// With synchronous commits every message the child reported was
	// committed before it fetched the next one; with a CommitInterval some
	// may not have been, and duplicates are allowed.
	if dups != 0 && !async {
		t.Errorf("%d messages the child had handled and committed came again; want 0", dups)
	}
}
