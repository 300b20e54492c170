package eventfeed_test

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/sysblocks/sysblocks/events"
	"github.com/sysblocks/sysblocks/events/kafkabus"
	"github.com/sysblocks/sysblocks/trending"
	"github.com/sysblocks/sysblocks/trending/eventfeed"
)

// A tracker counts the terms of the tweets on Kafka, by the region header.
// It needs a server, so it is compiled but not run by go test.
func Example() {
	ctx := context.Background()
	brokers := strings.Split(os.Getenv("SYSBLOCKS_KAFKA_BROKERS"), ",")
	recv, err := kafkabus.NewReceiver(kafkabus.NewReaderConfig(brokers, "tweets", "trending"))
	if err != nil {
		panic(err)
	}

	tr, err := trending.New(nil)
	if err != nil {
		panic(err)
	}
	sub := events.NewSubscriber(recv, eventfeed.Handler(tr, nil), nil)
	go func() { _ = sub.Run(ctx) }()

	// Whenever a page asks: the ten terms rising fastest in the US.
	for _, t := range tr.Trending("us", 10, 5) {
		fmt.Println(t)
	}
}
