package membus_test

import (
	"context"
	"fmt"

	"github.com/sysblocks/sysblocks/events"
	"github.com/sysblocks/sysblocks/events/membus"
)

func Example() {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	bus := membus.New(nil)

	pub := events.NewPublisher(bus, nil)
	for _, v := range []string{"created", "paid", "shipped"} {
		if err := pub.Publish(ctx, events.Message{Topic: "orders", Key: []byte("order-1"), Value: []byte(v)}); err != nil {
			panic(err)
		}
	}

	handled := 0
	sub := events.NewSubscriber(bus.Receiver("orders", "billing"), func(ctx context.Context, m *events.Message) error {
		fmt.Printf("%s %s\n", m.Key, m.Value)
		if handled++; handled == 3 {
			cancel()
		}
		return nil
	}, nil)
	_ = sub.Run(ctx) // returns once the handler cancels ctx
	// Output:
	// order-1 created
	// order-1 paid
	// order-1 shipped
}
