package eventfeed_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"go.uber.org/goleak"

	"github.com/sysblocks/sysblocks/events"
	"github.com/sysblocks/sysblocks/events/kafkabus"
	"github.com/sysblocks/sysblocks/events/membus"
	"github.com/sysblocks/sysblocks/internal/testenv"
	"github.com/sysblocks/sysblocks/search"
	"github.com/sysblocks/sysblocks/search/eventfeed"
)

var words = []string{"airport", "inn", "grand", "hôtel", "plaza", "seaside", "budget", "rooms", "royal", "palace", "zürich", "москва"}

// model is the database: entities with versions and the change events of
// every change.
type model struct {
	r      *rand.Rand
	seq    uint64
	docs   map[string]search.Document
	events []search.ChangeEvent
	next   int
}

func newModel(seed uint64) *model {
	return &model{r: rand.New(rand.NewPCG(seed, 3)), docs: map[string]search.Document{}}
}

func (m *model) step() {
	m.seq++
	ids := slices.Sorted(maps.Keys(m.docs))
	switch op := m.r.IntN(10); {
	case op < 4 || len(ids) == 0, op < 8:
		id := fmt.Sprintf("e%d", m.next)
		kind := search.OpCreated
		if op >= 4 && len(ids) > 0 {
			id, kind = ids[m.r.IntN(len(ids))], search.OpUpdated
		} else {
			m.next++
		}
		d := search.Document{ID: id, Version: m.seq, Fields: map[string]string{
			"name": words[m.r.IntN(len(words))] + " " + words[m.r.IntN(len(words))]}}
		m.docs[id] = d
		m.events = append(m.events, search.ChangeEvent{Op: kind, Doc: d})
	default:
		id := ids[m.r.IntN(len(ids))]
		delete(m.docs, id)
		m.events = append(m.events, search.ChangeEvent{Op: search.OpDeleted, Doc: search.Document{ID: id, Version: m.seq}})
	}
}

// messages encodes evs, each a second time with probability 1/4 (a
// producer retry), plus one undecodable message.
func messages(t testing.TB, r *rand.Rand, topic string, evs []search.ChangeEvent) []events.Message {
	var out []events.Message
	for _, ev := range evs {
		m, err := eventfeed.Encode(topic, ev)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, m)
		if r.IntN(4) == 0 {
			out = append(out, m)
		}
	}
	return append(out, events.Message{Topic: topic, Key: []byte("junk"), Value: []byte("{not json")})
}

// converged reports whether ix holds exactly the model's documents.
func converged(ix *search.Index, docs map[string]search.Document) bool {
	if ix.Len() != len(docs) {
		return false
	}
	for id, d := range docs {
		if g, ok := ix.Get(id); !ok || g.Version != d.Version {
			return false
		}
	}
	return true
}

func waitConverged(t *testing.T, ix *search.Index, docs map[string]search.Document) {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for !converged(ix, docs) {
		if time.Now().After(deadline) {
			t.Fatalf("index did not converge: %d documents, model %d", ix.Len(), len(docs))
		}
		time.Sleep(20 * time.Millisecond)
	}
	for id, d := range docs {
		if g, _ := ix.Get(id); !maps.Equal(g.Fields, d.Fields) {
			t.Fatalf("%s = %v; want %v", id, g.Fields, d.Fields)
		}
	}
}

func TestEncodeDecode(t *testing.T) {
	ev := search.ChangeEvent{Op: search.OpUpdated, Doc: search.Document{ID: "h1", Version: 7,
		Fields: map[string]string{"name": "Airport Inn"}, Tags: map[string][]string{"city": {"Paris"}},
		Numbers: map[string]float64{"price": 120}, Popularity: 3}}
	m, err := eventfeed.Encode("hotels", ev)
	if err != nil {
		t.Fatal(err)
	}
	if m.Topic != "hotels" || string(m.Key) != "h1" {
		t.Fatalf("message %s/%s; want hotels/h1", m.Topic, m.Key)
	}
	back, err := eventfeed.Decode(&m)
	if err != nil || back.Op != ev.Op || back.Doc.Version != 7 || back.Doc.Fields["name"] != "Airport Inn" ||
		back.Doc.Tags["city"][0] != "Paris" || back.Doc.Numbers["price"] != 120 || back.Doc.Popularity != 3 {
		t.Fatalf("Decode = %+v, %v; want %+v", back, err, ev)
	}
	for _, bad := range []string{`{`, `{"op":"renamed","doc":{"id":"h1","version":1}}`, `{"op":"created","doc":{"id":"","version":1}}`,
		`{"op":"deleted","doc":{"id":"h1"}}`, `{"op":"deleted","doc":{"id":"h2","version":3}}`} {
		if _, err := eventfeed.Decode(&events.Message{Key: []byte("h1"), Value: []byte(bad)}); !errors.Is(err, eventfeed.ErrUndecodable) {
			t.Errorf("Decode(%s) = %v; want ErrUndecodable", bad, err)
		}
	}
	if _, err := eventfeed.Encode("t", search.ChangeEvent{Op: 9, Doc: search.Document{ID: "x"}}); !errors.Is(err, search.ErrInvalidDocument) {
		t.Errorf("Encode with a bad op = %v; want ErrInvalidDocument", err)
	}
}

func FuzzDecode(f *testing.F) {
	m, _ := eventfeed.Encode("t", search.ChangeEvent{Op: search.OpCreated, Doc: search.Document{ID: "a", Version: 1, Fields: map[string]string{"n": "x"}}})
	f.Add([]byte("a"), m.Value)
	f.Add([]byte(""), []byte(`{"op":"deleted","doc":{"id":"b","version":2}}`))
	f.Add([]byte("x"), []byte(`{"op":1}`))
	f.Fuzz(func(t *testing.T, key, value []byte) {
		ev, err := eventfeed.Decode(&events.Message{Key: key, Value: value})
		if err != nil {
			if !errors.Is(err, eventfeed.ErrUndecodable) {
				t.Fatalf("error %v does not wrap ErrUndecodable", err)
			}
			return
		}
		// A decoded event is always one the index accepts.
		ix, _ := search.New(nil)
		if _, err := ix.Apply(context.Background(), ev); err != nil {
			t.Fatalf("decoded event %+v rejected: %v", ev, err)
		}
		again, err := eventfeed.Encode("t", ev)
		if err != nil {
			t.Fatal(err)
		}
		if ev2, err := eventfeed.Decode(&again); err != nil || ev2.Doc.ID != ev.Doc.ID || ev2.Doc.Version != ev.Doc.Version {
			t.Fatalf("re-encoded event decodes to %+v, %v", ev2, err)
		}
	})
}

// TestFeedMembus streams a model's events, duplicated and with a poison
// message, through the in-process bus, first committing each message and
// then with snapshots, stopping and restarting the feed between.
func TestFeedMembus(t *testing.T) {
	defer goleak.VerifyNone(t)
	for _, snapshots := range []bool{false, true} {
		t.Run(fmt.Sprint("snapshots=", snapshots), func(t *testing.T) {
			bus := membus.New(&membus.Options{Partitions: 4})
			ctx := context.Background()
			m := newModel(1)
			for range 1000 {
				m.step()
			}
			pub := events.NewPublisher(bus, &events.PublisherOptions{Topic: "hotels"})
			if err := pub.Publish(ctx, messages(t, m.r, "hotels", m.events)...); err != nil {
				t.Fatal(err)
			}
			opts := &eventfeed.Options{}
			if snapshots {
				opts.SnapshotPath = filepath.Join(t.TempDir(), "hotels.snap")
				opts.SnapshotEvery = 5 * time.Millisecond
			}
			ix, _ := search.New(nil)
			feed := eventfeed.New(ix, bus.Receiver("hotels", "search-1"), opts)
			runCtx, stop := context.WithCancel(ctx)
			done := make(chan error, 1)
			go func() { done <- feed.Run(runCtx) }()
			waitConverged(t, ix, m.docs)
			stop()
			if err := <-done; err != nil {
				t.Fatal(err)
			}
			st := feed.Stats()
			if st.Invalid != 1 || st.Applied == 0 || st.Stale == 0 {
				t.Fatalf("stats %+v; want 1 invalid and some applied and stale", st)
			}
			if snapshots && st.Checkpoints == 0 {
				t.Fatalf("no checkpoint: %+v", st)
			}

			// Restart: a new index, restored from the snapshot when there is
			// one, or rebuilt from the database, then fed the new events.
			ix2, _ := search.New(nil)
			feed2 := eventfeed.New(ix2, bus.Receiver("hotels", "search-1"), opts)
			restored, err := feed2.Restore()
			if err != nil || restored != snapshots {
				t.Fatalf("Restore = %v, %v; want %v", restored, err, snapshots)
			}
			if !snapshots {
				ix2.Rebuild(ctx, mapSource(m.docs))
			}
			if !converged(ix2, m.docs) {
				t.Fatal("restored index differs from the model")
			}
			for range 300 {
				m.step()
			}
			n := len(m.events)
			if err := pub.Publish(ctx, messages(t, m.r, "hotels", m.events[n-300:])...); err != nil {
				t.Fatal(err)
			}
			runCtx, stop = context.WithCancel(ctx)
			go func() { done <- feed2.Run(runCtx) }()
			waitConverged(t, ix2, m.docs)
			stop()
			if err := <-done; err != nil {
				t.Fatal(err)
			}
			// The group resumed where it committed: the old messages were
			// not handled again.
			if st := feed2.Stats(); st.Applied+st.Stale+st.Invalid > 500 {
				t.Fatalf("restarted feed handled %d messages; want only the new ones", st.Applied+st.Stale+st.Invalid)
			}
		})
	}
}

type mapSource map[string]search.Document

func (s mapSource) Scan(ctx context.Context, fn func(search.Document) error) error {
	for _, d := range s {
		if err := fn(d); err != nil {
			return err
		}
	}
	return nil
}

// slowDecode decodes and then waits, so that a process can be killed in
// the middle of a stream.
func slowDecode(m *events.Message) (search.ChangeEvent, error) {
	time.Sleep(time.Millisecond)
	return eventfeed.Decode(m)
}

const childEnv = "SYSBLOCKS_EVENTFEED_CHILD"

// TestFeedKafkaCrash runs the feed in a child process against the real
// Kafka, kills it with SIGKILL in the middle of the stream, and restarts it
// from its snapshot: the index must end equal to the model, so the commits
// before the crash never ran ahead of the snapshot. The restarted feed must
// also resume from the committed offsets instead of the beginning.
func TestFeedKafkaCrash(t *testing.T) {
	if os.Getenv(childEnv) != "" {
		runChild(t)
		return
	}
	env := testenv.Kafka(t)
	ctx := context.Background()
	topic := env.Topic(3)
	group := topic + "-search"
	snap := filepath.Join(t.TempDir(), "index.snap")

	w := kafkabus.NewWriter(env.Brokers...)
	defer w.Close()
	sender, err := kafkabus.NewSender(w)
	if err != nil {
		t.Fatal(err)
	}
	pub := events.NewPublisher(sender, &events.PublisherOptions{Topic: topic})
	m := newModel(2)
	for range 3000 {
		m.step()
	}
	first := messages(t, m.r, topic, m.events)
	if err := pub.Publish(ctx, first...); err != nil {
		t.Fatal(err)
	}

	cmd := exec.Command(os.Args[0], "-test.run=^TestFeedKafkaCrash$", "-test.v")
	cmd.Env = append(os.Environ(), childEnv+"=1", "CHILD_TOPIC="+topic, "CHILD_GROUP="+group, "CHILD_SNAP="+snap)
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Kill it mid-stream, once a snapshot holds a good share of the
	// documents (the child takes more than 1ms a message).
	deadline := time.Now().Add(2 * time.Minute)
	for {
		probe, _ := search.New(nil)
		if probe.LoadSnapshot(snap) == nil && probe.Len() >= 200 {
			break
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatalf("child wrote no snapshot with 200 documents; output:\n%s", out.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
	time.Sleep(100 * time.Millisecond)
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	err = cmd.Wait()
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() {
		t.Fatalf("child was not killed (%v); it finished first? output:\n%s", err, out.String())
	}

	// More changes while the consumer is down.
	for range 500 {
		m.step()
	}
	if err := pub.Publish(ctx, messages(t, m.r, topic, m.events[len(m.events)-500:])...); err != nil {
		t.Fatal(err)
	}

	// Restart in this process: restore the snapshot, resume the group.
	ix, _ := search.New(nil)
	recv, err := kafkabus.NewReceiver(readerConfig(env.Brokers, topic, group))
	if err != nil {
		t.Fatal(err)
	}
	// Record where each partition resumes: never after the snapshot's
	// position, or the messages in between would be lost.
	var mu sync.Mutex
	resumed := map[string]int64{}
	record := func(m *events.Message) (search.ChangeEvent, error) {
		mu.Lock()
		key := fmt.Sprintf("%s/%d", m.Topic, m.Partition)
		if o, ok := resumed[key]; !ok || m.Offset < o {
			resumed[key] = m.Offset
		}
		mu.Unlock()
		return eventfeed.Decode(m)
	}
	feed := eventfeed.New(ix, recv, &eventfeed.Options{SnapshotPath: snap, SnapshotEvery: 100 * time.Millisecond, Decode: record})
	if ok, err := feed.Restore(); !ok || err != nil {
		t.Fatalf("Restore = %v, %v; want the child's snapshot", ok, err)
	}
	marks := ix.Marks()
	if len(marks) == 0 {
		t.Fatal("the snapshot has no marks")
	}
	restoredDocs := ix.Len()
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- feed.Run(runCtx) }()
	waitConverged(t, ix, m.docs)
	stop()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	for key, at := range marks {
		if got, ok := resumed[key]; ok && got > at {
			t.Errorf("partition %s resumed at offset %d, after the snapshot's position %d: messages lost", key, got, at)
		}
	}
	handled := feed.Stats().Applied + feed.Stats().Stale + feed.Stats().Invalid
	total := uint64(len(first)) + 500
	if handled >= total {
		t.Fatalf("restarted feed handled %d of %d messages: it did not resume from the committed offsets", handled, total)
	}
	t.Logf("child restored %d documents; restarted feed handled %d of %d messages", restoredDocs, handled, total)
}

func runChild(t *testing.T) {
	brokers := strings.Split(os.Getenv("SYSBLOCKS_KAFKA_BROKERS"), ",")
	recv, err := kafkabus.NewReceiver(readerConfig(brokers, os.Getenv("CHILD_TOPIC"), os.Getenv("CHILD_GROUP")))
	if err != nil {
		t.Fatal(err)
	}
	ix, _ := search.New(nil)
	feed := eventfeed.New(ix, recv, &eventfeed.Options{
		SnapshotPath: os.Getenv("CHILD_SNAP"), SnapshotEvery: 200 * time.Millisecond, Decode: slowDecode})
	if err := feed.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// readerConfig shortens the session timeout to Kafka's minimum, so that the
// killed member's partitions move to the restarted one sooner.
func readerConfig(brokers []string, topic, group string) kafka.ReaderConfig {
	cfg := kafkabus.NewReaderConfig(brokers, topic, group)
	cfg.SessionTimeout = 6 * time.Second
	return cfg
}
