package eventfeed_test

import (
	"context"
	"os"
	"strings"

	"github.com/sysblocks/sysblocks/events/kafkabus"
	"github.com/sysblocks/sysblocks/search"
	"github.com/sysblocks/sysblocks/search/eventfeed"
)

// One index replica follows the hotel changes on Kafka, in its own consumer
// group, restarting from its last snapshot. It needs a server, so it is
// compiled but not run by go test.
func Example() {
	ctx := context.Background()
	brokers := strings.Split(os.Getenv("SYSBLOCKS_KAFKA_BROKERS"), ",")
	recv, err := kafkabus.NewReceiver(kafkabus.NewReaderConfig(brokers, "hotel-changes", "search-replica-1"))
	if err != nil {
		panic(err)
	}

	ix, _ := search.New(nil)
	feed := eventfeed.New(ix, recv, &eventfeed.Options{SnapshotPath: "/var/lib/search/hotels.snap"})
	if _, err := feed.Restore(); err != nil { // false on first start: rebuild from the database instead
		panic(err)
	}
	go func() { _ = feed.Run(ctx) }()
}
