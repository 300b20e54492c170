package events_test

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/sysblocks/sysblocks/events"
)

// runBatch runs b until the returned stop is called; stop returns Run's
// error.
func runBatch(t *testing.T, b *events.BatchPublisher) (stop func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- b.Run(ctx) }()
	var once sync.Once
	var err error
	stop = func() error {
		once.Do(func() {
			cancel()
			err = <-done
		})
		return err
	}
	t.Cleanup(func() { _ = stop() })
	return stop
}

// waitStats polls until cond holds. Only used for progress driven by a
// goroutine the test cannot synchronise with otherwise.
func waitStats(t *testing.T, b *events.BatchPublisher, what string, cond func(events.BatchStats) bool) events.BatchStats {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		st := b.Stats()
		if cond(st) {
			return st
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: never happened; stats %+v", what, st)
		}
		time.Sleep(time.Millisecond)
	}
}

func publishN(t *testing.T, b *events.BatchPublisher, key string, from, to int) {
	t.Helper()
	for i := from; i < to; i++ {
		if err := b.Publish(events.Message{Key: []byte(key), Value: []byte(strconv.Itoa(i))}); err != nil {
			t.Fatalf("Publish %d: %v", i, err)
		}
	}
}

func checkOrder(t *testing.T, got []events.Message, key string, n int) {
	t.Helper()
	var seqs []int
	for _, m := range got {
		if string(m.Key) == key {
			v, _ := strconv.Atoi(string(m.Value))
			seqs = append(seqs, v)
		}
	}
	if len(seqs) != n {
		t.Fatalf("key %s: %d messages sent; want %d", key, len(seqs), n)
	}
	for i, v := range seqs {
		if v != i {
			t.Fatalf("key %s: message %d is %d; want publish order", key, i, v)
		}
	}
}

func TestBatchFlushAtMaxRecords(t *testing.T) {
	s := &recSender{}
	b := events.NewBatchPublisher(s, &events.BatchOptions{Topic: "clicks", MaxRecords: 10, MaxDelay: time.Hour, QueueSize: 100})
	stop := runBatch(t, b)
	publishN(t, b, "k", 0, 10)
	waitStats(t, b, "first 10 flushed", func(st events.BatchStats) bool { return st.Published == 10 })
	publishN(t, b, "k", 10, 20)
	waitStats(t, b, "next 10 flushed", func(st events.BatchStats) bool { return st.Published == 20 })
	publishN(t, b, "k", 20, 25) // below M, and T is an hour: they wait
	if st := b.Stats(); st.Queued != 5 || st.Published != 20 {
		t.Fatalf("stats %+v; want 5 queued and 20 published", st)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if st := b.Stats(); st.Queued != 0 || st.Published != 25 || st.Dropped != 0 || st.Failed != 0 {
		t.Errorf("after Run: %+v; want all 25 published by the last flush", st)
	}
	for i, batch := range s.batches {
		if len(batch) > 10 {
			t.Errorf("batch %d has %d records; want at most MaxRecords", i, len(batch))
		}
	}
	checkOrder(t, s.all(), "k", 25)
	for _, m := range s.all() {
		if m.Topic != "clicks" || m.Time.IsZero() {
			t.Fatalf("record %+v; want default topic and a time", m)
		}
	}
}

func TestBatchFlushAfterMaxDelay(t *testing.T) {
	s := &recSender{}
	b := events.NewBatchPublisher(s, &events.BatchOptions{Topic: "clicks", MaxRecords: 1000, MaxDelay: 5 * time.Millisecond})
	runBatch(t, b)
	publishN(t, b, "k", 0, 3)
	waitStats(t, b, "3 records flushed by the timer", func(st events.BatchStats) bool { return st.Published == 3 })
}

// A Send that hangs (a dead broker) must not block Publish: the queue fills
// and the rest is dropped and counted, exactly.
func TestBatchPublishNeverBlocks(t *testing.T) {
	s := &recSender{entered: make(chan int, 10), gate: make(chan error)}
	b := events.NewBatchPublisher(s, &events.BatchOptions{Topic: "clicks", MaxRecords: 10, QueueSize: 10, MaxDelay: time.Hour})
	stop := runBatch(t, b)
	publishN(t, b, "k", 0, 10)
	if n := <-s.entered; n != 10 {
		t.Fatalf("first Send got %d records; want 10", n)
	}
	publishN(t, b, "k", 10, 20) // the queue is free again while Send hangs
	for i := range 7 {
		if err := b.Publish(events.Message{Key: []byte("k"), Value: []byte("x")}); !errors.Is(err, events.ErrQueueFull) {
			t.Fatalf("Publish %d on a full queue = %v; want ErrQueueFull", i, err)
		}
	}
	if st := b.Stats(); st.Sending != 10 || st.Queued != 10 || st.Dropped != 7 || st.Published != 0 {
		t.Fatalf("stats %+v; want 10 sending, 10 queued, 7 dropped", st)
	}
	s.gate <- nil // the broker answers
	<-s.entered
	s.gate <- nil
	waitStats(t, b, "20 published", func(st events.BatchStats) bool { return st.Published == 20 })
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	st := b.Stats()
	if st.Published+st.Failed+st.Dropped+uint64(st.Queued) != 27 {
		t.Errorf("stats %+v do not account for the 27 Publish calls", st)
	}
	checkOrder(t, s.all(), "k", 20)
}

// A flush cut off by the end of Run's context is retried by the last flush.
func TestBatchShutdownRetriesCutOffFlush(t *testing.T) {
	s := &recSender{entered: make(chan int, 10), gate: make(chan error)}
	b := events.NewBatchPublisher(s, &events.BatchOptions{Topic: "clicks", MaxRecords: 4, MaxDelay: time.Hour})
	stop := runBatch(t, b)
	publishN(t, b, "k", 0, 4)
	<-s.entered // the Send hangs, and Run's context ends under it
	publishN(t, b, "k", 4, 6)
	stopped := make(chan error)
	go func() { stopped <- stop() }()
	if n := <-s.entered; n != 4 { // the last flush: first the cut-off records
		t.Fatalf("last flush sent %d records first; want the 4 cut off", n)
	}
	s.gate <- nil
	if n := <-s.entered; n != 2 { // then the queue
		t.Fatalf("last flush sent %d records next; want the 2 queued", n)
	}
	s.gate <- nil
	if err := <-stopped; err != nil {
		t.Fatal(err)
	}
	if st := b.Stats(); st.Published != 6 || st.Failed != 0 {
		t.Errorf("stats %+v; want all 6 published by the last flush", st)
	}
	checkOrder(t, s.all(), "k", 6)
}

// The last flush gives up after ShutdownTimeout and counts the loss.
func TestBatchShutdownTimeout(t *testing.T) {
	s := &recSender{entered: make(chan int, 10), gate: make(chan error)}
	b := events.NewBatchPublisher(s, &events.BatchOptions{Topic: "clicks", MaxRecords: 4, MaxDelay: time.Hour, ShutdownTimeout: time.Millisecond})
	stop := runBatch(t, b)
	publishN(t, b, "k", 0, 3)
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if st := b.Stats(); st.Failed != 3 || st.Published != 0 {
		t.Errorf("stats %+v; want 3 failed", st)
	}
}

func TestBatchSendErrorCountsFailed(t *testing.T) {
	s := &recSender{entered: make(chan int, 10), gate: make(chan error, 10)}
	b := events.NewBatchPublisher(s, &events.BatchOptions{Topic: "clicks", MaxRecords: 2, MaxDelay: time.Hour})
	stop := runBatch(t, b)
	s.gate <- errors.New("broker says no")
	s.gate <- nil
	publishN(t, b, "k", 0, 2)
	<-s.entered
	publishN(t, b, "k", 2, 4)
	<-s.entered
	waitStats(t, b, "second batch published", func(st events.BatchStats) bool { return st.Published == 2 })
	_ = stop()
	if st := b.Stats(); st.Failed != 2 || st.Published != 2 {
		t.Errorf("stats %+v; want 2 failed and 2 published", st)
	}
}

func TestBatchNoTopic(t *testing.T) {
	b := events.NewBatchPublisher(&recSender{}, nil)
	if err := b.Publish(events.Message{Value: []byte("x")}); !errors.Is(err, events.ErrNoTopic) {
		t.Errorf("Publish = %v; want ErrNoTopic", err)
	}
	if st := b.Stats(); st.Dropped != 1 || st.Queued != 0 {
		t.Errorf("stats %+v; want 1 dropped", st)
	}
}

func TestBatchRunTwice(t *testing.T) {
	s := &recSender{entered: make(chan int, 1), gate: make(chan error)}
	b := events.NewBatchPublisher(s, &events.BatchOptions{Topic: "t", MaxRecords: 1, ShutdownTimeout: time.Millisecond})
	runBatch(t, b)
	if err := b.Publish(events.Message{}); err != nil {
		t.Fatal(err)
	}
	<-s.entered // Run is surely running now
	if err := b.Run(context.Background()); !errors.Is(err, events.ErrRunning) {
		t.Errorf("second Run = %v; want ErrRunning", err)
	}
}

// Many goroutines publish at once into a small queue: every call is
// accounted for, and what reaches the sender is in publish order per key.
func TestBatchConcurrentPublish(t *testing.T) {
	s := &recSender{}
	b := events.NewBatchPublisher(s, &events.BatchOptions{Topic: "t", MaxRecords: 64, QueueSize: 256, MaxDelay: time.Millisecond})
	stop := runBatch(t, b)
	const goroutines, each = 8, 5000
	var wg sync.WaitGroup
	var mu sync.Mutex
	accepted := map[string]int{}
	for g := range goroutines {
		key := "g" + strconv.Itoa(g)
		wg.Go(func() {
			n := 0
			for i := range each {
				if b.Publish(events.Message{Key: []byte(key), Value: []byte(strconv.Itoa(i))}) == nil {
					n++
				}
			}
			mu.Lock()
			accepted[key] = n
			mu.Unlock()
		})
	}
	wg.Wait()
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	st := b.Stats()
	if st.Published+st.Failed+st.Dropped+uint64(st.Queued) != goroutines*each {
		t.Fatalf("stats %+v do not account for %d Publish calls", st, goroutines*each)
	}
	last := map[string]int{}
	count := map[string]int{}
	for _, m := range s.all() {
		k := string(m.Key)
		v, _ := strconv.Atoi(string(m.Value))
		if c, ok := last[k]; ok && v <= c {
			t.Fatalf("key %s: %d sent after %d", k, v, c)
		}
		last[k] = v
		count[k]++
	}
	for k, n := range accepted {
		if count[k] != n {
			t.Errorf("key %s: %d accepted, %d sent; want equal (no failures here)", k, n, count[k])
		}
	}
	t.Logf("stats %+v", st)
}
