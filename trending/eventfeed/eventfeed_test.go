package eventfeed_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/sysblocks/sysblocks/events"
	"github.com/sysblocks/sysblocks/events/kafkabus"
	"github.com/sysblocks/sysblocks/events/membus"
	"github.com/sysblocks/sysblocks/internal/testenv"
	"github.com/sysblocks/sysblocks/trending"
	"github.com/sysblocks/sysblocks/trending/eventfeed"
)

func tweets(now time.Time) []events.Message {
	var out []events.Message
	for i := range 300 {
		region := []string{"paris", "tokyo", ""}[i%3]
		text := fmt.Sprintf("Watching the #eclipse from %s, amazing view number %d", region, i%4)
		m := events.Message{Key: []byte(fmt.Sprint("user", i%17)), Value: []byte(text), Time: now.Add(-time.Duration(i) * time.Second)}
		if region != "" {
			m.Headers = []events.Header{{Key: eventfeed.RegionHeader, Value: []byte(region)}}
		}
		out = append(out, m)
	}
	return out
}

func run(t *testing.T, recv events.Receiver, send events.Sender, topic string) {
	ctx := context.Background()
	now := time.Now()
	tr, _ := trending.New(&trending.Options{Exact: true})
	if err := events.NewPublisher(send, &events.PublisherOptions{Topic: topic}).Publish(ctx, tweets(now)...); err != nil {
		t.Fatal(err)
	}
	sub := events.NewSubscriber(recv, eventfeed.Handler(tr, nil), nil)
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- sub.Run(runCtx) }()
	deadline := time.Now().Add(90 * time.Second)
	// 5 terms a tweet, and the region name in 200 of them.
	for tr.Stats().Terms < 300*5+200 {
		if time.Now().After(deadline) {
			t.Fatalf("counted %d terms; want 1700", tr.Stats().Terms)
		}
		time.Sleep(10 * time.Millisecond)
	}
	stop()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	top := tr.Top("", 3)
	if top[0].Term != "#eclipse" || top[0].Count != 300 {
		t.Fatalf("Top = %v; want #eclipse 300 first", top)
	}
	if tk := tr.Top("tokyo", 10); len(tk) != 6 || !strings.Contains(fmt.Sprint(tk), "{tokyo 100}") {
		t.Fatalf("Top(tokyo) = %v; want 100 tweets' terms", tk)
	}
}

func TestHandlerMembus(t *testing.T) {
	defer goleak.VerifyNone(t)
	bus := membus.New(&membus.Options{Partitions: 3})
	run(t, bus.Receiver("tweets", "trending"), bus, "tweets")
}

func TestHandlerKafka(t *testing.T) {
	env := testenv.Kafka(t)
	topic := env.Topic(3)
	w := kafkabus.NewWriter(env.Brokers...)
	defer w.Close()
	send, err := kafkabus.NewSender(w)
	if err != nil {
		t.Fatal(err)
	}
	recv, err := kafkabus.NewReceiver(kafkabus.NewReaderConfig(env.Brokers, topic, topic+"-trending"))
	if err != nil {
		t.Fatal(err)
	}
	run(t, recv, send, topic)
}
