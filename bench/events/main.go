// Command events measures the events block against named baselines in one
// run:
//
//   - publish throughput: events.Publisher on kafkabus against a plain
//     kafka-go Writer with the same configuration, on the same broker and
//     topic, in alternating rounds (sequential calls of 1000 messages, and
//     64 goroutines writing one message per call); the figure is the ratio
//     of the medians, kafkabus / Writer;
//   - BatchPublisher.Publish: ns/op and allocations with the flusher running
//     against a sender that costs nothing, against the live broker, and
//     against a dead broker address; the baseline is a buffered channel of
//     the same capacity with a non-blocking send and a batching drainer;
//   - BatchPublisher end to end: records published at a steady 50k/s and
//     as fast as one goroutine can, flushed to Kafka at M records or T,
//     counting what was published, dropped and failed, and how many Send
//     calls carried them;
//   - consuming: events.Subscriber against a kafka-go Reader loop doing the
//     same work (FetchMessage, then CommitMessages), with synchronous
//     commits (Subscriber's default, Reader CommitInterval 0) and with
//     background commits (CommitInterval 1s for both).
//
// Usage (Kafka from SYSBLOCKS_KAFKA_BROKERS, else 127.0.0.1:9092):
//
//	cd bench && go run ./events
//
// It creates topics named sbbench_events_<random> and deletes them at the
// end.
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"flag"
	"fmt"
	"net"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/sysblocks/sysblocks/events"
	"github.com/sysblocks/sysblocks/events/kafkabus"
)

func main() {
	def := os.Getenv("SYSBLOCKS_KAFKA_BROKERS")
	if def == "" {
		def = "127.0.0.1:9092"
	}
	brokersFlag := flag.String("brokers", def, "comma-separated Kafka brokers")
	rounds := flag.Int("rounds", 9, "rounds per implementation and mode")
	perRound := flag.Int("msgs", 20000, "messages per round")
	consumeN := flag.Int("consume", 1000, "messages to consume per consumer case")
	flag.Parse()
	brokers := strings.Split(*brokersFlag, ",")

	ctx := context.Background()
	topic := createTopic(ctx, brokers)
	defer deleteTopic(ctx, brokers, topic)

	fmt.Printf("broker %v, topic %s (4 partitions), %d rounds of %d messages of 100 bytes, 100 keys\n\n",
		brokers, topic, *rounds, *perRound)
	fmt.Println("== publish throughput, same Writer configuration, alternating rounds ==")
	fmt.Println("(ratio = kafkabus / Writer: the median of the per-round ratios, each round")
	fmt.Println(" running both back to back, and the ratio of the best rounds)")
	fmt.Printf("%-12s %14s %16s %13s %11s\n", "mode", "Writer msgs/s", "kafkabus msgs/s", "median ratio", "best ratio")
	for _, mode := range []string{"batch1000", "parallel64"} {
		n := *perRound
		if mode == "parallel64" {
			n /= 3 // one message per call is slower
		}
		var w, k, ratios []float64
		for r := range *rounds {
			order := []string{"writer", "kafkabus"}
			if r%2 == 1 {
				slices.Reverse(order)
			}
			var pair [2]float64
			for _, impl := range order {
				rate := throughput(ctx, brokers, topic, mode, impl, n)
				if impl == "writer" {
					w = append(w, rate)
					pair[0] = rate
				} else {
					k = append(k, rate)
					pair[1] = rate
				}
			}
			ratios = append(ratios, pair[1]/pair[0])
		}
		fmt.Printf("%-12s %14.0f %16.0f %13.3f %11.3f   (Writer %s; kafkabus %s)\n", mode,
			median(w), median(k), median(ratios), slices.Max(k)/slices.Max(w), spread(w), spread(k))
	}

	fmt.Println("\n== BatchPublisher.Publish (M=1000, T=1s, queue 10000) ==")
	fmt.Printf("%-34s %10s %10s %12s\n", "case", "ns/op", "allocs/op", "dropped/op")
	base, baseDropped := chanBaseline()
	row := func(name string, r testing.BenchmarkResult, dropped float64) {
		fmt.Printf("%-34s %10.1f %10d %12.3f\n", name, float64(r.T.Nanoseconds())/float64(r.N), r.AllocsPerOp(), dropped)
	}
	row("baseline: channel + batching drainer", base, baseDropped)
	discard := senderFunc(func(context.Context, []events.Message) error { return nil })
	free, d := benchPublish(discard)
	row("Publish, sender costs nothing", free, d)
	live, closeLive := newSender(brokers)
	r, d := benchPublish(live)
	row("Publish, live Kafka", r, d)
	closeLive()
	dead, closeDead := newSender([]string{deadAddr()})
	r, d = benchPublish(dead)
	row("Publish, Kafka down (refused)", r, d)
	closeDead()
	fmt.Printf("(Publish / baseline, sender costs nothing: %.2f)\n",
		float64(free.T.Nanoseconds())/float64(free.N)/(float64(base.T.Nanoseconds())/float64(base.N)))

	fmt.Println("\n== BatchPublisher end to end on Kafka (M=1000, T=100ms, queue 10000) ==")
	endToEnd(ctx, brokers, topic)

	fmt.Printf("\n== consume in a new group: %d messages with synchronous commits, %d with background commits ==\n", *consumeN, 20**consumeN)
	consume(ctx, brokers, *consumeN)
}

func createTopic(ctx context.Context, brokers []string) string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	name := "sbbench_events_" + hex.EncodeToString(b[:])
	c := &kafka.Client{Addr: kafka.TCP(brokers...), Timeout: 30 * time.Second}
	res, err := c.CreateTopics(ctx, &kafka.CreateTopicsRequest{Topics: []kafka.TopicConfig{{Topic: name, NumPartitions: 4, ReplicationFactor: 1}}})
	if err == nil {
		err = res.Errors[name]
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "create topic:", err)
		os.Exit(1)
	}
	return name
}

func deleteTopic(ctx context.Context, brokers []string, name string) {
	c := &kafka.Client{Addr: kafka.TCP(brokers...), Timeout: 30 * time.Second}
	_, _ = c.DeleteTopics(ctx, &kafka.DeleteTopicsRequest{Topics: []string{name}})
}

// writer returns a Writer configured as kafkabus.NewWriter does, with its
// own transport, and a function closing both.
func writer(brokers []string, linger time.Duration) (*kafka.Writer, func()) {
	tr := &kafka.Transport{}
	w := kafkabus.NewWriter(brokers...)
	w.Transport = tr
	w.BatchTimeout = linger
	w.BatchSize = 1000
	return w, func() {
		_ = w.Close()
		tr.CloseIdleConnections()
	}
}

// throughput writes n messages with impl in the given mode and returns
// messages per second.
func throughput(ctx context.Context, brokers []string, topic, mode, impl string, n int) float64 {
	linger := 5 * time.Millisecond
	if mode == "batch1000" {
		linger = 100 * time.Microsecond // the call is the batch
	}
	w, done := writer(brokers, linger)
	defer done()
	s, err := kafkabus.NewSender(w)
	if err != nil {
		panic(err)
	}
	pub := events.NewPublisher(s, nil)
	value := make([]byte, 100)
	kms := make([]kafka.Message, 1000)
	ems := make([]events.Message, 1000)
	for i := range kms {
		key := []byte("user-" + strconv.Itoa(i%100))
		kms[i] = kafka.Message{Topic: topic, Key: key, Value: value}
		ems[i] = events.Message{Topic: topic, Key: key, Value: value}
	}
	if err := w.WriteMessages(ctx, kms[0]); err != nil { // metadata and connections
		panic(err)
	}
	start := time.Now()
	switch mode {
	case "batch1000":
		for sent := 0; sent < n; sent += len(kms) {
			if impl == "writer" {
				err = w.WriteMessages(ctx, kms...)
			} else {
				err = pub.Publish(ctx, ems...)
			}
			if err != nil {
				panic(err)
			}
		}
	case "parallel64":
		var next atomic.Int64
		var wg sync.WaitGroup
		for range 64 {
			wg.Go(func() {
				for {
					i := next.Add(1) - 1
					if i >= int64(n) {
						return
					}
					var err error
					if impl == "writer" {
						err = w.WriteMessages(ctx, kms[i%1000])
					} else {
						err = pub.Publish(ctx, ems[i%1000])
					}
					if err != nil {
						panic(err)
					}
				}
			})
		}
		wg.Wait()
	}
	return float64(n) / time.Since(start).Seconds()
}

type senderFunc func(context.Context, []events.Message) error

func (f senderFunc) Send(ctx context.Context, m []events.Message) error { return f(ctx, m) }

func newSender(brokers []string) (events.Sender, func()) {
	w, done := writer(brokers, 5*time.Millisecond)
	w.WriteTimeout = time.Second
	w.MaxAttempts = 2
	s, err := kafkabus.NewSender(w)
	if err != nil {
		panic(err)
	}
	return s, done
}

// deadAddr returns a loopback address nothing listens on.
func deadAddr() string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	return addr
}

var msg = events.Message{Key: []byte("user-1"), Value: []byte("GET /abc123 200 ua=Mozilla/5.0")}

// chanBaseline is the obvious alternative design: a buffered channel of
// the same capacity with a non-blocking send, drained by a goroutine into
// batches of 1000 for a sender that costs nothing.
func chanBaseline() (testing.BenchmarkResult, float64) {
	var dropped float64
	r := testing.Benchmark(func(b *testing.B) {
		ch := make(chan events.Message, 10000)
		done := make(chan struct{})
		go func() {
			batch := make([]events.Message, 0, 1000)
			for m := range ch {
				if batch = append(batch, m); len(batch) == cap(batch) {
					clear(batch)
					batch = batch[:0]
				}
			}
			close(done)
		}()
		n := 0
		b.ReportAllocs()
		for b.Loop() {
			select {
			case ch <- msg:
			default:
				n++
			}
		}
		close(ch)
		<-done
		dropped = float64(n) / float64(b.N)
	})
	return r, dropped
}

// benchPublish measures Publish with the flusher running on s, and the
// share of calls that dropped.
func benchPublish(s events.Sender) (testing.BenchmarkResult, float64) {
	var dropped float64
	r := testing.Benchmark(func(b *testing.B) {
		bp := events.NewBatchPublisher(s, &events.BatchOptions{Topic: "clicks", ShutdownTimeout: 100 * time.Millisecond})
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- bp.Run(ctx) }()
		b.ReportAllocs()
		for b.Loop() {
			_ = bp.Publish(msg)
		}
		b.StopTimer()
		cancel()
		<-done
		dropped = float64(bp.Stats().Dropped) / float64(b.N)
	})
	return r, dropped
}

// countingSender counts Send calls.
type countingSender struct {
	events.Sender
	calls atomic.Int64
}

func (c *countingSender) Send(ctx context.Context, m []events.Message) error {
	c.calls.Add(1)
	return c.Sender.Send(ctx, m)
}

func endToEnd(ctx context.Context, brokers []string, topic string) {
	for _, c := range []struct {
		name  string
		n     int
		every int // records per millisecond; 0 = as fast as possible
	}{
		{"paced, 50k records/s for 2s", 100_000, 50},
		{"burst, one goroutine flat out", 500_000, 0},
	} {
		s, done := newSender(brokers)
		cs := &countingSender{Sender: s}
		bp := events.NewBatchPublisher(cs, &events.BatchOptions{Topic: topic, MaxDelay: 100 * time.Millisecond})
		rctx, cancel := context.WithCancel(ctx)
		runDone := make(chan error, 1)
		go func() { runDone <- bp.Run(rctx) }()
		keys := make([][]byte, 1000)
		for i := range keys {
			keys[i] = []byte(strconv.Itoa(i))
		}
		start := time.Now()
		var busy time.Duration // time spent inside Publish
		for i := 0; i < c.n; {
			t0 := time.Now()
			burst := c.n
			if c.every > 0 {
				burst = c.every
			}
			for j := 0; j < burst && i < c.n; j, i = j+1, i+1 {
				m := msg
				m.Key = keys[i%len(keys)]
				_ = bp.Publish(m)
			}
			busy += time.Since(t0)
			if c.every > 0 {
				time.Sleep(time.Until(start.Add(time.Duration(i/c.every) * time.Millisecond)))
			}
		}
		cancel()
		<-runDone
		done()
		st := bp.Stats()
		fmt.Printf("%-30s %d records: %.0f ns per Publish; published %d, dropped %d, failed %d; %d Send calls (%.0f records each)\n",
			c.name, c.n, float64(busy.Nanoseconds())/float64(c.n), st.Published, st.Dropped, st.Failed,
			cs.calls.Load(), float64(st.Published+st.Failed)/float64(max(1, cs.calls.Load())))
	}
}

func consume(ctx context.Context, brokers []string, n int) {
	topic := createTopic(ctx, brokers)
	defer deleteTopic(ctx, brokers, topic)
	w, done := writer(brokers, 100*time.Microsecond)
	total := 20 * n
	for sent := 0; sent < total; sent += 1000 {
		ms := make([]kafka.Message, 1000)
		for i := range ms {
			ms[i] = kafka.Message{Topic: topic, Key: []byte("user-" + strconv.Itoa(i%100)), Value: make([]byte, 100)}
		}
		if err := w.WriteMessages(ctx, ms...); err != nil {
			panic(err)
		}
	}
	done()
	var gid atomic.Int64
	cfg := func(interval time.Duration) kafka.ReaderConfig {
		c := kafkabus.NewReaderConfig(brokers, topic, fmt.Sprintf("%s_g%d", topic, gid.Add(1)))
		c.CommitInterval = interval
		c.JoinGroupBackoff = 200 * time.Millisecond
		return c
	}
	count := func(interval time.Duration) int {
		if interval > 0 {
			return total
		}
		return n
	}
	// Both clocks start at the first message, so the group join is not counted.
	reader := func(interval time.Duration) float64 {
		r := kafka.NewReader(cfg(interval))
		defer r.Close()
		var start time.Time
		for i := range count(interval) {
			m, err := r.FetchMessage(ctx)
			if err != nil {
				panic(err)
			}
			if i == 0 {
				start = time.Now()
			}
			if err := r.CommitMessages(ctx, m); err != nil {
				panic(err)
			}
		}
		return float64(count(interval)-1) / time.Since(start).Seconds()
	}
	subscriber := func(interval time.Duration) float64 {
		recv, err := kafkabus.NewReceiver(cfg(0))
		if err != nil {
			panic(err)
		}
		rctx, cancel := context.WithCancel(ctx)
		want := int64(count(interval))
		var got atomic.Int64
		var start, end time.Time
		sub := events.NewSubscriber(recv, func(context.Context, *events.Message) error {
			switch got.Add(1) {
			case 1:
				start = time.Now()
			case want:
				end = time.Now()
				cancel()
			}
			return nil
		}, &events.SubscriberOptions{CommitInterval: interval})
		if err := sub.Run(rctx); err != nil {
			panic(err)
		}
		return float64(want-1) / end.Sub(start).Seconds()
	}
	fmt.Println("(3 rounds per case, alternating which goes first; median msgs/s and median per-round ratio)")
	fmt.Printf("%-12s %14s %18s %14s\n", "commits", "Reader msgs/s", "Subscriber msgs/s", "median ratio")
	var subMedian [2]float64
	for i, interval := range []time.Duration{0, time.Second} {
		var rs, ss, ratios []float64
		for round := range 3 {
			var r, s float64
			if round%2 == 0 {
				r, s = reader(interval), subscriber(interval)
			} else {
				s, r = subscriber(interval), reader(interval)
			}
			rs, ss, ratios = append(rs, r), append(ss, s), append(ratios, s/r)
		}
		name := "synchronous"
		if interval > 0 {
			name = "background"
		}
		subMedian[i] = median(ss)
		fmt.Printf("%-12s %14.0f %18.0f %14.3f\n", name, median(rs), median(ss), median(ratios))
	}
	fmt.Printf("(Subscriber with CommitInterval 1s / Subscriber default: %.0fx)\n", subMedian[1]/subMedian[0])
}

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[len(s)/2]
}

func spread(xs []float64) string {
	return fmt.Sprintf("%.0f..%.0f", slices.Min(xs), slices.Max(xs))
}
