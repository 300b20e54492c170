package kafkabus_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/sysblocks/sysblocks/events"
	"github.com/sysblocks/sysblocks/events/kafkabus"
)

// This example needs Kafka brokers at SYSBLOCKS_KAFKA_BROKERS, so it is compiled but not run.
func Example() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	brokers := strings.Split(os.Getenv("SYSBLOCKS_KAFKA_BROKERS"), ",")

	w := kafkabus.NewWriter(brokers...)
	defer w.Close()
	sender, err := kafkabus.NewSender(w)
	if err != nil {
		panic(err)
	}
	pub := events.NewPublisher(sender, nil)
	if err := pub.Publish(ctx, events.Message{Topic: "orders", Key: []byte("order-1"), Value: []byte("created")}); err != nil {
		panic(err)
	}

	recv, err := kafkabus.NewReceiver(kafkabus.NewReaderConfig(brokers, "orders", "billing"))
	if err != nil {
		panic(err)
	}
	sub := events.NewSubscriber(recv, func(ctx context.Context, m *events.Message) error {
		fmt.Printf("%s %s\n", m.Key, m.Value)
		return nil
	}, nil)
	_ = sub.Run(ctx) // handles messages until ctx is done
}
