package events

import (
	"context"
	"testing"
)

type discardSender struct{}

func (discardSender) Send(context.Context, []Message) error { return nil }

// BenchmarkPublishAccept is the accepting path of Publish alone: the queue
// is emptied off the clock whenever it fills, reusing its memory as Run
// does.
func BenchmarkPublishAccept(b *testing.B) {
	bp := NewBatchPublisher(discardSender{}, &BatchOptions{Topic: "clicks"})
	spare := make([]Message, 0, bp.o.QueueSize)
	m := Message{Key: []byte("user-1"), Value: []byte("GET /abc123 200 ua=Mozilla/5.0")}
	b.ReportAllocs()
	for b.Loop() {
		if bp.Publish(m) != nil {
			b.StopTimer()
			spare = bp.take(spare)[:0]
			b.StartTimer()
		}
	}
}

// BenchmarkChanAccept is the baseline for BenchmarkPublishAccept: a
// non-blocking send on a buffered channel of the same capacity with room,
// emptied off the clock whenever it fills.
func BenchmarkChanAccept(b *testing.B) {
	ch := make(chan Message, 10000)
	m := Message{Key: []byte("user-1"), Value: []byte("GET /abc123 200 ua=Mozilla/5.0")}
	b.ReportAllocs()
	for b.Loop() {
		select {
		case ch <- m:
		default:
			b.StopTimer()
			for len(ch) > 0 {
				<-ch
			}
			b.StartTimer()
		}
	}
}
