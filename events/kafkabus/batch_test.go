package kafkabus_test

import (
	"context"
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"go.uber.org/goleak"

	"github.com/sysblocks/sysblocks/events"
	"github.com/sysblocks/sysblocks/events/kafkabus"
)

// deadBrokers returns two broker addresses that never work: one refuses
// connections, the other accepts them and never answers (a hung broker).
func deadBrokers(t testing.TB) map[string]string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refused := ln.Addr().String()
	_ = ln.Close()
	silent, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	held := make(chan net.Conn, 1024)
	go func() {
		for {
			c, err := silent.Accept()
			if err != nil {
				return
			}
			held <- c // read nothing, answer nothing
		}
	}()
	t.Cleanup(func() {
		_ = silent.Close()
		close(held)
		for c := range held {
			_ = c.Close()
		}
	})
	return map[string]string{"refused": refused, "silent": silent.Addr().String()}
}

// deadSender returns a Sender on a Writer pointed at addr, closed when t ends.
func deadSender(t testing.TB, addr string) events.Sender {
	tr := &kafka.Transport{DialTimeout: time.Second}
	w := kafkabus.NewWriter(addr)
	w.Transport = tr
	w.WriteTimeout = time.Second
	w.MaxAttempts = 2
	t.Cleanup(func() {
		_ = w.Close()
		tr.CloseIdleConnections()
	})
	s, err := kafkabus.NewSender(w)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// With Kafka down, BatchPublisher.Publish still returns at once: what does
// not fit the queue is dropped and counted, and nothing is published. A
// Publish that waited on the broker would hang this test.
func TestBatchPublisherKafkaDown(t *testing.T) {
	for _, name := range []string{"refused", "silent"} {
		t.Run(name, func(t *testing.T) {
			// Registered first, so it runs last: after the Writer is closed
			// and the silent broker has hung up on kafka-go.
			before := goleak.IgnoreCurrent()
			t.Cleanup(func() { goleak.VerifyNone(t, before) })
			addr := deadBrokers(t)[name]
			b := events.NewBatchPublisher(deadSender(t, addr), &events.BatchOptions{
				Topic: "clicks", MaxRecords: 100, QueueSize: 1000, MaxDelay: 10 * time.Millisecond,
				ShutdownTimeout: 100 * time.Millisecond,
			})
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() { done <- b.Run(ctx) }()
			const n = 200_000
			var refused int
			val := []byte("click")
			for i := range n {
				if b.Publish(events.Message{Key: []byte(strconv.Itoa(i % 100)), Value: val}) != nil {
					refused++
				}
			}
			cancel()
			if err := <-done; err != nil {
				t.Fatal(err)
			}
			st := b.Stats()
			t.Logf("%d Publish calls: %+v", n, st)
			if st.Published != 0 || int(st.Dropped) != refused || refused == 0 {
				t.Errorf("stats %+v, %d refused; want nothing published and the refused ones counted as dropped", st, refused)
			}
			if st.Published+st.Failed+st.Dropped+uint64(st.Queued) != n {
				t.Errorf("stats %+v do not account for %d calls", st, n)
			}
		})
	}
}

// BenchmarkBatchPublisherKafkaDown measures Publish while the broker is
// down (refusing or silent): it stays in tens of nanoseconds, with no
// allocation, and drops.
func BenchmarkBatchPublisherKafkaDown(b *testing.B) {
	for name, addr := range deadBrokers(b) {
		b.Run(name, func(b *testing.B) {
			bp := events.NewBatchPublisher(deadSender(b, addr), &events.BatchOptions{
				Topic: "clicks", MaxRecords: 100, QueueSize: 1000, MaxDelay: 10 * time.Millisecond,
				ShutdownTimeout: 100 * time.Millisecond,
			})
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() { done <- bp.Run(ctx) }()
			m := events.Message{Key: []byte("user-1"), Value: []byte("click")}
			b.ReportAllocs()
			for b.Loop() {
				_ = bp.Publish(m)
			}
			b.StopTimer()
			cancel()
			<-done
			st := bp.Stats()
			b.ReportMetric(float64(st.Dropped)/float64(b.N), "dropped/op")
		})
	}
}
