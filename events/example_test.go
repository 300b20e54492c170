package events_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/sysblocks/sysblocks/events"
	"github.com/sysblocks/sysblocks/events/membus"
)

// Publish three events for one order and consume them in a consumer group.
// The same code runs on Kafka with kafkabus.NewSender and
// kafkabus.NewReceiver in place of the membus bus.
func Example() {
	ctx := context.Background()
	bus := membus.New(&membus.Options{Partitions: 3})

	pub := events.NewPublisher(bus, &events.PublisherOptions{Topic: "orders"})
	err := pub.Publish(ctx,
		events.Message{Key: []byte("order-42"), Value: []byte("created")},
		events.Message{Key: []byte("order-42"), Value: []byte("paid")},
		events.Message{Key: []byte("order-42"), Value: []byte("shipped")},
	)
	if err != nil {
		fmt.Println(err)
		return
	}

	ctx, stop := context.WithCancel(ctx)
	seen := 0
	sub := events.NewSubscriber(bus.Receiver("orders", "billing"), func(_ context.Context, m *events.Message) error {
		fmt.Printf("%s %s (partition %d, offset %d)\n", m.Key, m.Value, m.Partition, m.Offset)
		if seen++; seen == 3 {
			stop()
		}
		return nil
	}, nil)
	if err := sub.Run(ctx); err != nil { // blocks until stop
		fmt.Println(err)
	}
	fmt.Printf("%+v\n", sub.Stats())
	// Output:
	// order-42 created (partition 0, offset 0)
	// order-42 paid (partition 0, offset 1)
	// order-42 shipped (partition 0, offset 2)
	// {Fetched:3 Handled:3 Failures:0 Committed:3 CommitErrors:0}
}

// A handler error leaves the message uncommitted and delivers it again,
// before any later message of its partition.
func ExampleSubscriber_redelivery() {
	bus := membus.New(nil)
	_ = bus.Send(context.Background(), []events.Message{
		{Topic: "payments", Key: []byte("user-7"), Value: []byte("charge 10")},
		{Topic: "payments", Key: []byte("user-7"), Value: []byte("charge 20")},
	})
	ctx, stop := context.WithCancel(context.Background())
	attempts := 0
	sub := events.NewSubscriber(bus.Receiver("payments", "ledger"), func(_ context.Context, m *events.Message) error {
		attempts++
		if attempts == 1 {
			fmt.Printf("%s: gateway timeout\n", m.Value)
			return errors.New("gateway timeout")
		}
		fmt.Printf("%s: done\n", m.Value)
		if string(m.Value) == "charge 20" {
			stop()
		}
		return nil
	}, &events.SubscriberOptions{Backoff: time.Millisecond})
	_ = sub.Run(ctx)
	// Output:
	// charge 10: gateway timeout
	// charge 10: done
	// charge 20: done
}

// A BatchPublisher for click analytics: Publish never blocks, and the
// flusher sends at most MaxRecords per call.
func ExampleBatchPublisher() {
	bus := membus.New(nil)
	counter := &countingSender{s: bus}
	clicks := events.NewBatchPublisher(counter, &events.BatchOptions{
		Topic:      "clicks",
		MaxRecords: 2,         // M
		MaxDelay:   time.Hour, // T
	})
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- clicks.Run(ctx) }()

	for _, code := range []string{"abc", "xyz", "abc", "q1", "abc"} {
		if err := clicks.Publish(events.Message{Key: []byte(code), Value: []byte("click")}); err != nil {
			fmt.Println(err) // ErrQueueFull: dropped and counted
		}
	}
	stop() // the last flush sends what is left
	<-done
	st := clicks.Stats()
	// How many Send calls it took depends on when the flusher woke up:
	// at most one per record, and about N/M when records arrive in bursts.
	fmt.Printf("published %d, dropped %d, failed %d, at most one send per record: %v\n",
		st.Published, st.Dropped, st.Failed, counter.calls >= 1 && counter.calls <= 5)
	// Output:
	// published 5, dropped 0, failed 0, at most one send per record: true
}

type countingSender struct {
	s     events.Sender
	calls int // only the flusher calls Send
}

func (c *countingSender) Send(ctx context.Context, m []events.Message) error {
	c.calls++
	return c.s.Send(ctx, m)
}

// Keys map to partitions as with Kafka's default partitioner.
func ExamplePartition() {
	for _, k := range []string{"order-42", "order-43", "user-7"} {
		fmt.Println(k, events.Partition([]byte(k), 12))
	}
	// Output:
	// order-42 0
	// order-43 10
	// user-7 8
}
