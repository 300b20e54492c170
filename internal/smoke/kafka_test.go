package smoke

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/sysblocks/sysblocks/internal/testenv"
)

// TestKafkaConsumerGroupCommit produces ten messages, consumes five in a
// consumer group and commits them, and checks that a new member of the same
// group starts at the sixth: the committed offset is stored by the broker.
func TestKafkaConsumerGroupCommit(t *testing.T) {
	k := testenv.Kafka(t)
	topic := k.Topic(1)
	group := testenv.Name(t, "grp")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	w := &kafka.Writer{Addr: kafka.TCP(k.Brokers...), Topic: topic, RequiredAcks: kafka.RequireAll, BatchTimeout: time.Millisecond}
	defer w.Close()
	for i := range 10 {
		if err := w.WriteMessages(ctx, kafka.Message{Key: []byte("k"), Value: fmt.Appendf(nil, "m%d", i)}); err != nil {
			t.Fatalf("produce: %v", err)
		}
	}
	read := func(n int) []string {
		r := kafka.NewReader(kafka.ReaderConfig{Brokers: k.Brokers, Topic: topic, GroupID: group,
			StartOffset: kafka.FirstOffset, CommitInterval: 0, MaxWait: 100 * time.Millisecond})
		defer r.Close()
		var got []string
		for range n {
			m, err := r.FetchMessage(ctx)
			if err != nil {
				t.Fatalf("fetch: %v", err)
			}
			if err := r.CommitMessages(ctx, m); err != nil {
				t.Fatalf("commit: %v", err)
			}
			got = append(got, string(m.Value))
		}
		return got
	}
	if got := read(5); fmt.Sprint(got) != "[m0 m1 m2 m3 m4]" {
		t.Fatalf("first member read %v; want m0..m4", got)
	}
	c := &kafka.Client{Addr: kafka.TCP(k.Brokers...)}
	off, err := c.OffsetFetch(ctx, &kafka.OffsetFetchRequest{GroupID: group, Topics: map[string][]int{topic: {0}}})
	if err != nil {
		t.Fatalf("offset fetch: %v", err)
	}
	if p := off.Topics[topic]; len(p) != 1 || p[0].CommittedOffset != 5 {
		t.Fatalf("committed offset = %+v; want 5", p)
	}
	if got := read(5); fmt.Sprint(got) != "[m5 m6 m7 m8 m9]" {
		t.Fatalf("second member read %v; want m5..m9 (it must resume at the committed offset)", got)
	}
}
