package lastseen_test

import (
	"context"
	"os"
	"os/signal"
	"strings"

	"github.com/sysblocks/sysblocks/events"
	"github.com/sysblocks/sysblocks/events/kafkabus"
	"github.com/sysblocks/sysblocks/wsregistry"
	"github.com/sysblocks/sysblocks/wsregistry/lastseen"
	"github.com/sysblocks/sysblocks/wsregistry/memstore"
)

// Gateways publish last-seen updates to Kafka through a BatchPublisher; a
// consumer group writes them to the last-seen store (cqlstore in
// production), which the registries read for presence.
// It needs Kafka at SYSBLOCKS_KAFKA_BROKERS, so go test only compiles it.
func Example() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	brokers := strings.Split(os.Getenv("SYSBLOCKS_KAFKA_BROKERS"), ",")
	store := memstore.NewLastSeen()

	// Gateway side.
	w := kafkabus.NewWriter(brokers...)
	defer w.Close()
	sender, err := kafkabus.NewSender(w)
	if err != nil {
		panic(err)
	}
	pub := events.NewBatchPublisher(sender, &events.BatchOptions{Topic: "wsr-last-seen"})
	go func() { _ = pub.Run(ctx) }()
	reg, err := wsregistry.New(memstore.New(), &wsregistry.Options{OnSeen: lastseen.Hook(pub), LastSeen: store})
	if err != nil {
		panic(err)
	}
	_, _ = reg.Register(ctx, "alice", "phone", "hostA")

	// Consumer side.
	recv, err := kafkabus.NewReceiver(kafkabus.NewReaderConfig(brokers, "wsr-last-seen", "wsr-last-seen-writer"))
	if err != nil {
		panic(err)
	}
	c := lastseen.NewConsumer(store)
	_ = events.NewSubscriber(recv, c.Handle, nil).Run(ctx)
}
