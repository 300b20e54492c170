package events_test

import (
	"context"
	"testing"
	"time"

	"github.com/sysblocks/sysblocks/events"
)

// discard accepts everything at once.
type discard struct{}

func (discard) Send(context.Context, []events.Message) error { return nil }

func runBench(b *testing.B, bp *events.BatchPublisher) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- bp.Run(ctx) }()
	b.Cleanup(func() {
		cancel()
		<-done
	})
}

var benchMsg = events.Message{Key: []byte("user-1"), Value: []byte("GET /abc123 200 ua=Mozilla/5.0")}

// BenchmarkBatchPublish is BatchPublisher.Publish with a flusher draining
// the queue into a sender that costs nothing.
func BenchmarkBatchPublish(b *testing.B) {
	bp := events.NewBatchPublisher(discard{}, &events.BatchOptions{Topic: "clicks"})
	runBench(b, bp)
	b.ReportAllocs()
	for b.Loop() {
		_ = bp.Publish(benchMsg)
	}
	st := bp.Stats()
	b.ReportMetric(float64(st.Dropped)/float64(b.N), "dropped/op")
}

// BenchmarkBatchPublishParallel has every P publishing at once.
func BenchmarkBatchPublishParallel(b *testing.B) {
	bp := events.NewBatchPublisher(discard{}, &events.BatchOptions{Topic: "clicks"})
	runBench(b, bp)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			_ = bp.Publish(benchMsg)
		}
	})
}

// BenchmarkBatchPublishFull is the drop path: nothing runs, the queue is
// full.
func BenchmarkBatchPublishFull(b *testing.B) {
	bp := events.NewBatchPublisher(discard{}, &events.BatchOptions{Topic: "clicks", QueueSize: 1})
	_ = bp.Publish(benchMsg)
	b.ReportAllocs()
	for b.Loop() {
		_ = bp.Publish(benchMsg)
	}
}

// BenchmarkChanBatcher is the baseline for BenchmarkBatchPublish: the
// obvious alternative design, a buffered channel of the same capacity
// (10000) with a non-blocking send, drained by a goroutine into batches of
// 1000 for the same sender.
func BenchmarkChanBatcher(b *testing.B) {
	ch := make(chan events.Message, 10000)
	done := make(chan struct{})
	go func() {
		batch := make([]events.Message, 0, 1000)
		for m := range ch {
			if batch = append(batch, m); len(batch) == cap(batch) {
				_ = discard{}.Send(context.Background(), batch)
				clear(batch)
				batch = batch[:0]
			}
		}
		close(done)
	}()
	dropped := 0
	b.ReportAllocs()
	for b.Loop() {
		select {
		case ch <- benchMsg:
		default:
			dropped++
		}
	}
	close(ch)
	<-done
	b.ReportMetric(float64(dropped)/float64(b.N), "dropped/op")
}

// BenchmarkChanFull is the baseline for BenchmarkBatchPublishFull: a
// non-blocking send on a full channel.
func BenchmarkChanFull(b *testing.B) {
	ch := make(chan events.Message, 1)
	ch <- benchMsg
	b.ReportAllocs()
	for b.Loop() {
		select {
		case ch <- benchMsg:
		default:
		}
	}
}

// loopMember serves the same message forever and commits for free: what
// remains is the Subscriber's own cost per message.
type loopMember struct{ m events.Message }

func (l *loopMember) Fetch(context.Context) (events.Message, error) {
	l.m.Offset++
	return l.m, nil
}
func (l *loopMember) Commit(context.Context, events.Message) error { return nil }
func (l *loopMember) Close() error                                 { return nil }

type loopReceiver struct{ m *loopMember }

func (r loopReceiver) Join(context.Context) (events.Member, error) { return r.m, nil }

// BenchmarkSubscriberOverhead is the Subscriber's cost per message, with
// an adapter that costs nothing, for each commit mode.
func BenchmarkSubscriberOverhead(b *testing.B) {
	for _, c := range []struct {
		name string
		o    events.SubscriberOptions
	}{
		{"sync", events.SubscriberOptions{}},
		{"interval", events.SubscriberOptions{CommitInterval: time.Second}},
		{"concurrency4", events.SubscriberOptions{Concurrency: 4}},
	} {
		b.Run(c.name, func(b *testing.B) {
			ctx, cancel := context.WithCancel(context.Background())
			n := 0
			s := events.NewSubscriber(loopReceiver{&loopMember{m: benchMsg}}, func(context.Context, *events.Message) error {
				if n++; n == b.N {
					cancel()
				}
				return nil
			}, &c.o)
			b.ReportAllocs()
			b.ResetTimer()
			if err := s.Run(ctx); err != nil {
				b.Fatal(err)
			}
		})
	}
}
