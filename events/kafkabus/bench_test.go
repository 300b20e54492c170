package kafkabus_test

import (
	"context"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/sysblocks/sysblocks/events"
	"github.com/sysblocks/sysblocks/events/kafkabus"
	"github.com/sysblocks/sysblocks/internal/testenv"
)

// BenchmarkPublishKafka compares events.Publisher on kafkabus with a plain
// kafka-go Writer, same configuration, same broker, same run, on the
// Kafka of SYSBLOCKS_KAFKA_BROKERS. Compare the msgs/s of each pair.
func BenchmarkPublishKafka(b *testing.B) {
	env := testenv.Kafka(b)
	benchPublish(b, env.Brokers, func(p int) string { return env.Topic(p) })
}

// BenchmarkPublishKfake is the same on an in-process kfake broker: it
// shows the adapter's own overhead more than Kafka's speed.
func BenchmarkPublishKfake(b *testing.B) {
	c, err := kfake.NewCluster(kfake.NumBrokers(1))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(c.Close)
	n := 0
	benchPublish(b, c.ListenAddrs(), func(p int) string {
		n++
		name := "bench" + strconv.Itoa(n)
		if err := c.CreateTopic(name, int32(p), nil); err != nil {
			b.Fatal(err)
		}
		return name
	})
}

func benchWriter(b *testing.B, brokers []string) *kafka.Writer {
	tr := &kafka.Transport{}
	w := kafkabus.NewWriter(brokers...)
	w.Transport = tr
	b.Cleanup(func() {
		_ = w.Close()
		tr.CloseIdleConnections()
	})
	return w
}

func benchPublish(b *testing.B, brokers []string, newTopic func(partitions int) string) {
	const batch = 100
	value := make([]byte, 100)
	for _, mode := range []string{"batch100", "parallel64"} {
		topic := newTopic(4)
		for _, impl := range []string{"writer", "kafkabus"} {
			b.Run(fmt.Sprintf("%s/%s", mode, impl), func(b *testing.B) {
				w := benchWriter(b, brokers)
				s, err := kafkabus.NewSender(w)
				if err != nil {
					b.Fatal(err)
				}
				pub := events.NewPublisher(s, nil)
				ctx := context.Background()
				kms := make([]kafka.Message, batch)
				ems := make([]events.Message, batch)
				for i := range batch {
					key := []byte("user-" + strconv.Itoa(i))
					kms[i] = kafka.Message{Topic: topic, Key: key, Value: value}
					ems[i] = events.Message{Topic: topic, Key: key, Value: value}
				}
				// Warm up: metadata and connections.
				if err := w.WriteMessages(ctx, kms[:1]...); err != nil {
					b.Fatal(err)
				}
				b.ReportAllocs()
				start := time.Now()
				switch mode {
				case "batch100":
					for b.Loop() {
						if impl == "writer" {
							err = w.WriteMessages(ctx, kms...)
						} else {
							err = pub.Publish(ctx, ems...)
						}
						if err != nil {
							b.Fatal(err)
						}
					}
					b.ReportMetric(float64(b.N*batch)/time.Since(start).Seconds(), "msgs/s")
				case "parallel64":
					b.SetParallelism(32) // 64 goroutines on 2 Ps
					b.RunParallel(func(pb *testing.PB) {
						i := 0
						for pb.Next() {
							var err error
							if impl == "writer" {
								err = w.WriteMessages(ctx, kms[i%batch])
							} else {
								err = pub.Publish(ctx, ems[i%batch])
							}
							if err != nil {
								b.Error(err)
								return
							}
							i++
						}
					})
					b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "msgs/s")
				}
			})
		}
	}
}
