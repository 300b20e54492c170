package lastseen_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/sysblocks/sysblocks/events"
	"github.com/sysblocks/sysblocks/events/kafkabus"
	"github.com/sysblocks/sysblocks/events/membus"
	"github.com/sysblocks/sysblocks/internal/testenv"
	"github.com/sysblocks/sysblocks/wsregistry"
	"github.com/sysblocks/sysblocks/wsregistry/cqlstore"
	"github.com/sysblocks/sysblocks/wsregistry/lastseen"
	"github.com/sysblocks/sysblocks/wsregistry/memstore"
)

var t0 = time.Date(2031, 3, 1, 9, 0, 0, 0, time.UTC)

// waitFor polls cond; the bound only turns a hang into a failure.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for i := 0; !cond(); i++ {
		if i == 6000 {
			t.Fatalf("%s did not happen", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// A registry publishes last-seen updates on every register, heartbeat and
// unregister; a consumer group stores them; Presence reports the time of
// the last one once the user is offline.
func TestRegistryToStore(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	bus := membus.New(nil)
	pub := events.NewBatchPublisher(bus, &events.BatchOptions{Topic: "lastseen", MaxDelay: time.Millisecond})
	seen := memstore.NewLastSeen()
	consumer := lastseen.NewConsumer(seen)
	sub := events.NewSubscriber(bus.Receiver("lastseen", "lastseen-writer"), consumer.Handle, nil)
	var wg sync.WaitGroup
	wg.Go(func() { _ = pub.Run(ctx) })
	wg.Go(func() { _ = sub.Run(ctx) })
	defer func() { cancel(); wg.Wait() }()

	now := t0
	reg, err := wsregistry.New(memstore.New(), &wsregistry.Options{
		Now: func() time.Time { return now }, OnSeen: lastseen.Hook(pub), LastSeen: seen,
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := reg.Register(ctx, "bob", "phone", "h1"); err != nil {
		t.Fatal(err)
	}
	now = t0.Add(10 * time.Second)
	if _, err := reg.Heartbeat(ctx, "bob", "phone", "h1"); err != nil {
		t.Fatal(err)
	}
	now = t0.Add(15 * time.Second)
	if err := reg.Unregister(ctx, "bob", "phone", "h1"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "three updates stored", func() bool { return consumer.Stored() == 3 })
	p, err := reg.Presence(ctx, "bob")
	if err != nil {
		t.Fatal(err)
	}
	if p.Online || !p.LastSeen.Equal(t0.Add(15*time.Second)) {
		t.Fatalf("Presence: got %+v; want offline, last seen %v", p, t0.Add(15*time.Second))
	}
	if p, _ := reg.Presence(ctx, "nobody"); p.Online || !p.LastSeen.IsZero() {
		t.Fatalf("Presence of an unknown user: got %+v", p)
	}
}

// Updates through the real Kafka broker into the real Cassandra, sent out
// of order and twice: the latest time of each user wins.
func TestKafkaToCassandra(t *testing.T) {
	k := testenv.Kafka(t)
	c := testenv.Cassandra(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	store, err := cqlstore.New(c.Session, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := store.CreateSchema(ctx); err != nil {
		t.Fatal(err)
	}
	topic := k.Topic(3)
	w := kafkabus.NewWriter(k.Brokers...)
	defer w.Close()
	sender, err := kafkabus.NewSender(w)
	if err != nil {
		t.Fatal(err)
	}
	pub := events.NewPublisher(sender, &events.PublisherOptions{Topic: topic})
	const users = 20
	var msgs []events.Message
	for range 2 { // every update twice, as a redelivery would
		for u := range users {
			for _, sec := range []int{30, 10, 50, 20} {
				msgs = append(msgs, lastseen.Encode(fmt.Sprintf("user%d", u), t0.Add(time.Duration(u*100+sec)*time.Second)))
			}
		}
	}
	msgs = append(msgs, events.Message{Key: []byte("user0"), Value: []byte("garbage")})
	if err := pub.Publish(ctx, msgs...); err != nil {
		t.Fatal(err)
	}
	recv, err := kafkabus.NewReceiver(kafkabus.NewReaderConfig(k.Brokers, topic, testenv.Name(t, "g")))
	if err != nil {
		t.Fatal(err)
	}
	consumer := lastseen.NewConsumer(store)
	sub := events.NewSubscriber(recv, consumer.Handle, &events.SubscriberOptions{Concurrency: 3})
	done := make(chan error)
	go func() { done <- sub.Run(ctx) }()
	waitFor(t, "every update handled", func() bool { return consumer.Stored()+consumer.Skipped() >= uint64(len(msgs)) })
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if consumer.Skipped() != 1 {
		t.Errorf("skipped %d; want 1", consumer.Skipped())
	}
	for u := range users {
		got, err := store.LastSeen(context.Background(), fmt.Sprintf("user%d", u))
		if want := t0.Add(time.Duration(u*100+50) * time.Second); err != nil || !got.Equal(want) {
			t.Errorf("user%d: got %v, %v; want %v", u, got, err, want)
		}
	}
}

func TestDecodeRejects(t *testing.T) {
	for _, m := range []events.Message{
		{Key: nil, Value: []byte("1")},
		{Key: []byte("u"), Value: nil},
		{Key: []byte("u"), Value: []byte("-5")},
		{Key: []byte("u"), Value: []byte("+5")},
		{Key: []byte("u"), Value: []byte("0")},
		{Key: []byte("u"), Value: []byte("1e9")},
		{Key: []byte("u"), Value: []byte("99999999999999999999")},
		{Key: make([]byte, wsregistry.MaxNameLen+1), Value: []byte("1")},
	} {
		if _, _, err := lastseen.Decode(&m); !errors.Is(err, lastseen.ErrDecode) {
			t.Errorf("Decode(%q, %q): got %v; want ErrDecode", m.Key, m.Value, err)
		}
	}
	m := lastseen.Encode("bob", t0)
	if u, at, err := lastseen.Decode(&m); err != nil || u != "bob" || !at.Equal(t0) {
		t.Errorf("round trip: got %q %v %v", u, at, err)
	}
}

func FuzzDecode(f *testing.F) {
	f.Add([]byte("bob"), []byte("1924992000000"))
	f.Add([]byte(""), []byte("1"))
	f.Add([]byte("u"), []byte("-1"))
	f.Fuzz(func(t *testing.T, key, value []byte) {
		u, at, err := lastseen.Decode(&events.Message{Key: key, Value: value})
		if err != nil {
			if !errors.Is(err, lastseen.ErrDecode) {
				t.Fatalf("error %v does not match ErrDecode", err)
			}
			return
		}
		m := lastseen.Encode(u, at)
		u2, at2, err := lastseen.Decode(&m)
		if err != nil || u2 != u || !at2.Equal(at) {
			t.Fatalf("round trip of %q %v: %q %v %v", u, at, u2, at2, err)
		}
	})
}
