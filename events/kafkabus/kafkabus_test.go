package kafkabus_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kfake"
	"go.uber.org/goleak"

	"github.com/sysblocks/sysblocks/events"
	"github.com/sysblocks/sysblocks/events/eventstest"
	"github.com/sysblocks/sysblocks/events/kafkabus"
	"github.com/sysblocks/sysblocks/internal/testenv"
)

func TestMain(m *testing.M) {
	eventstest.Child(func(config, topic, group string) (events.Receiver, error) {
		var c remoteConfig
		if err := json.Unmarshal([]byte(config), &c); err != nil {
			return nil, err
		}
		return kafkabus.NewReceiver(readerConfig(c, topic, group))
	})
	os.Exit(m.Run())
}

// remoteConfig is what a child process needs to join a group.
type remoteConfig struct {
	Brokers []string
	Session time.Duration
}

func readerConfig(c remoteConfig, topic, group string) kafka.ReaderConfig {
	cfg := kafkabus.NewReaderConfig(c.Brokers, topic, group)
	cfg.SessionTimeout = c.Session
	cfg.HeartbeatInterval = c.Session / 6
	cfg.RebalanceTimeout = 10 * time.Second
	cfg.JoinGroupBackoff = 200 * time.Millisecond
	cfg.MaxWait = 500 * time.Millisecond
	return cfg
}

// harness runs the conformance suite on a Kafka-protocol broker.
type harness struct {
	remoteConfig
	topic func(t testing.TB, partitions int) string
	w     *kafka.Writer
}

func newHarness(t *testing.T, c remoteConfig, topic func(testing.TB, int) string) *harness {
	tr := &kafka.Transport{}
	w := kafkabus.NewWriter(c.Brokers...)
	w.Transport = tr // its own metadata cache: topics made by the test are seen at once
	t.Cleanup(func() {
		_ = w.Close()
		tr.CloseIdleConnections()
	})
	return &harness{remoteConfig: c, topic: topic, w: w}
}

func (h *harness) Topic(t testing.TB, partitions int) string { return h.topic(t, partitions) }

func (h *harness) Sender(t testing.TB) events.Sender {
	s, err := kafkabus.NewSender(h.w)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func (h *harness) Receiver(t testing.TB, topic, group string) events.Receiver {
	r, err := kafkabus.NewReceiver(readerConfig(h.remoteConfig, topic, group))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func (h *harness) Config(t testing.TB) string {
	b, err := json.Marshal(h.remoteConfig)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// newKfake starts an in-process kfake broker for t.
func newKfake(t *testing.T) *kfake.Cluster {
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.GroupMinSessionTimeout(500*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

func kfakeHarness(t *testing.T) eventstest.Harness {
	c := newKfake(t)
	n := 0
	return newHarness(t, remoteConfig{Brokers: c.ListenAddrs(), Session: 1500 * time.Millisecond},
		func(t testing.TB, partitions int) string {
			n++
			name := fmt.Sprintf("topic%d", n)
			if err := c.CreateTopic(name, int32(partitions), nil); err != nil {
				t.Fatal(err)
			}
			return name
		})
}

func kafkaHarness(t *testing.T) eventstest.Harness {
	env := testenv.Kafka(t)
	// 6s is the broker's default group.min.session.timeout.ms.
	return newHarness(t, remoteConfig{Brokers: env.Brokers, Session: 6 * time.Second},
		func(_ testing.TB, partitions int) string { return env.Topic(partitions) })
}

func TestConformanceKfake(t *testing.T) {
	// Every goroutine of the subscribers, kafka-go's readers and writers and
	// the brokers must be gone once each subtest has cleaned up.
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	eventstest.Run(t, kfakeHarness, eventstest.Features{KafkaPartitioner: true, Process: true})
}

func TestConformanceKafka(t *testing.T) {
	testenv.Kafka(t) // skip early when unset
	eventstest.Run(t, kafkaHarness, eventstest.Features{KafkaPartitioner: true, Process: true})
}

func TestMemberAfterClose(t *testing.T) {
	c := newKfake(t)
	if err := c.CreateTopic("t", 1, nil); err != nil {
		t.Fatal(err)
	}
	r, err := kafkabus.NewReceiver(kafkabus.NewReaderConfig(c.ListenAddrs(), "t", "g"))
	if err != nil {
		t.Fatal(err)
	}
	m, err := r.Join(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Fetch(context.Background()); !errors.Is(err, events.ErrClosed) {
		t.Errorf("Fetch after Close = %v; want ErrClosed", err)
	}
	if err := m.Commit(context.Background(), events.Message{Topic: "t"}); !errors.Is(err, events.ErrClosed) {
		t.Errorf("Commit after Close = %v; want ErrClosed", err)
	}
}

func TestPartitionMatchesKafkaGo(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	parts := make([]int, 64)
	for i := range parts {
		parts[i] = i
	}
	for range 10000 {
		key := make([]byte, r.IntN(40))
		for i := range key {
			key[i] = byte(r.Uint32())
		}
		n := 1 + r.IntN(64)
		want := kafka.Murmur2Balancer{}.Balance(kafka.Message{Key: key}, parts[:n]...)
		if got := events.Partition(key, n); got != want {
			t.Fatalf("Partition(%x, %d) = %d; kafka-go Murmur2Balancer says %d", key, n, got, want)
		}
	}
}

func TestNewSenderRejects(t *testing.T) {
	for _, tc := range []struct {
		name string
		w    *kafka.Writer
		want error
	}{
		{"async", &kafka.Writer{Async: true, Balancer: kafka.Murmur2Balancer{}}, kafkabus.ErrAsync},
		{"default balancer", &kafka.Writer{}, kafkabus.ErrBalancer},
		{"round robin", &kafka.Writer{Balancer: &kafka.RoundRobin{}}, kafkabus.ErrBalancer},
		{"least bytes", &kafka.Writer{Balancer: &kafka.LeastBytes{}}, kafkabus.ErrBalancer},
	} {
		if _, err := kafkabus.NewSender(tc.w); !errors.Is(err, tc.want) {
			t.Errorf("%s: NewSender = %v; want %v", tc.name, err, tc.want)
		}
	}
	for _, b := range []kafka.Balancer{kafka.Murmur2Balancer{}, &kafka.Hash{}, kafka.CRC32Balancer{}, &kafka.ReferenceHash{}} {
		if _, err := kafkabus.NewSender(&kafka.Writer{Balancer: b}); err != nil {
			t.Errorf("NewSender with %T = %v; want nil", b, err)
		}
	}
}

func TestSendTopicRules(t *testing.T) {
	// Nothing is dialled: the checks happen before kafka-go is called.
	w := kafkabus.NewWriter("127.0.0.1:1")
	w.Topic = "fixed"
	s, err := kafkabus.NewSender(w)
	if err != nil {
		t.Fatal(err)
	}
	err = s.Send(context.Background(), []events.Message{{Topic: "other", Value: []byte("x")}})
	if !errors.Is(err, kafkabus.ErrWriterTopic) {
		t.Errorf("Send to another topic = %v; want ErrWriterTopic", err)
	}
	s, _ = kafkabus.NewSender(kafkabus.NewWriter("127.0.0.1:1"))
	if err := s.Send(context.Background(), []events.Message{{Value: []byte("x")}}); !errors.Is(err, events.ErrNoTopic) {
		t.Errorf("Send with no topic anywhere = %v; want ErrNoTopic", err)
	}
}

func TestNewReceiverRejects(t *testing.T) {
	cfg := kafkabus.NewReaderConfig([]string{"127.0.0.1:1"}, "t", "")
	if _, err := kafkabus.NewReceiver(cfg); !errors.Is(err, events.ErrNoGroup) {
		t.Errorf("no group: %v; want ErrNoGroup", err)
	}
	cfg = kafkabus.NewReaderConfig([]string{"127.0.0.1:1"}, "", "g")
	if _, err := kafkabus.NewReceiver(cfg); !errors.Is(err, events.ErrNoTopic) {
		t.Errorf("no topic: %v; want ErrNoTopic", err)
	}
	cfg = kafkabus.NewReaderConfig(nil, "t", "g")
	if _, err := kafkabus.NewReceiver(cfg); err == nil {
		t.Error("no brokers: nil error; want one")
	}
}
