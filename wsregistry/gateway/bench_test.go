package gateway

import (
	"context"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// BenchmarkSend measures Send to one connection whose client reads
// everything: enqueue, the writer goroutine and the socket write. The sender
// keeps at most two batches of 256 messages ahead of the client, as a
// producer must to stay under the queue bound.
func BenchmarkSend(b *testing.B) {
	h := newRecorder()
	tk := mustTokens(b, time.Hour)
	const batch = 256
	gw, err := New(tk, h, &Options{QueueSize: 2 * batch, PingInterval: -1})
	if err != nil {
		b.Fatal(err)
	}
	f := benchServer(b, gw, tk)
	c := f.dial(b, "reader")
	gc := <-h.opened
	got := make(chan int)
	batches := make(chan struct{}, 1<<20)
	go func() {
		n := 0
		for {
			if _, _, err := c.Read(context.Background()); err != nil {
				got <- n
				return
			}
			n++
			if n%batch == 0 {
				batches <- struct{}{}
			}
		}
	}()
	msg := []byte(`{"type":"message","from":"alice","text":"hello there"}`)
	b.ReportAllocs()
	sent := 0
	for b.Loop() {
		if err := gc.Send(msg); err != nil {
			b.Fatal(err)
		}
		sent++
		if sent%batch == 0 && sent >= 2*batch {
			<-batches // the batch before last has been read
		}
	}
	gw.Shutdown(context.Background())
	if n := <-got; n != sent {
		b.Fatalf("client read %d of %d messages", n, sent)
	}
}

// BenchmarkEcho measures a round trip: the client writes, Handler.Message
// sends it back, the client reads it.
func BenchmarkEcho(b *testing.B) {
	h := newRecorder()
	tk := mustTokens(b, time.Hour)
	gw, err := New(tk, h, &Options{Rate: -1, PingInterval: -1})
	if err != nil {
		b.Fatal(err)
	}
	f := benchServer(b, gw, tk)
	c := f.dial(b, "echo")
	<-h.opened
	msg := []byte(`{"type":"message","from":"alice","text":"hello there"}`)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if err := c.Write(ctx, websocket.MessageText, msg); err != nil {
			b.Fatal(err)
		}
		if _, _, err := c.Read(ctx); err != nil {
			b.Fatal(err)
		}
	}
	gw.Shutdown(ctx)
}
