package storetest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/sysblocks/sysblocks/wsregistry"
)

// Deployment is the set of adapters a [wsregistry.Router] runs on, as
// [RunRouter] needs them. Every call must return a new handle on the same
// backends, as another gateway process would have.
type Deployment struct {
	Store     func(tb testing.TB) wsregistry.Store
	Inbox     func(tb testing.TB) wsregistry.Inbox
	Sequencer func(tb testing.TB) wsregistry.Sequencer
	Transport func(tb testing.TB) wsregistry.Transport

	// Listen makes h receive what is delivered to host and returns once
	// deliveries reach it; stop ends the subscription and returns once
	// deliveries no longer reach it.
	Listen func(tb testing.TB, host string, h wsregistry.Handler) (stop func())
}

// RunRouter runs the delivery cases on a deployment as subtests of t: the
// race of a recipient coming online during a send, forced in both
// interleavings with gates inside the stores (and, as a check that the
// harness sees a loss, the notes' lookup-then-store order losing the
// message in the same interleaving), and at-least-once delivery
// with client-side deduplication while pushes are dropped and duplicated,
// acks are lost, senders retry and the recipient reconnects.
func RunRouter(t *testing.T, d Deployment) {
	t.Run("RaceOnlineDuringStore", func(t *testing.T) { raceOnlineDuringStore(t, d) })
	t.Run("RaceOnlineAfterOfflineLookup", func(t *testing.T) { raceOnlineAfterOfflineLookup(t, d) })
	t.Run("NaiveOrderLoses", func(t *testing.T) { naiveOrderLoses(t, d) })
	for seed := range uint64(3) {
		t.Run(fmt.Sprint("AtLeastOnce/seed", seed), func(t *testing.T) { atLeastOnce(t, d, seed) })
	}
}

func newHost(t testing.TB, store wsregistry.Store, inbox wsregistry.Inbox, seq wsregistry.Sequencer, tr wsregistry.Transport) (*wsregistry.Registry, *wsregistry.Router) {
	t.Helper()
	reg, err := wsregistry.New(store, nil)
	if err != nil {
		t.Fatal(err)
	}
	r, err := wsregistry.NewRouter(reg, inbox, seq, tr, nil)
	if err != nil {
		t.Fatal(err)
	}
	return reg, r
}

func (d Deployment) host(t testing.TB) (*wsregistry.Registry, *wsregistry.Router) {
	return newHost(t, d.Store(t), d.Inbox(t), d.Sequencer(t), d.Transport(t))
}

// gatedInbox blocks Append before it stores anything until released.
type gatedInbox struct {
	wsregistry.Inbox
	entered chan struct{}
	release chan struct{}
}

func (g *gatedInbox) Append(ctx context.Context, m wsregistry.Message) error {
	close(g.entered)
	<-g.release
	return g.Inbox.Append(ctx, m)
}

// gatedList blocks List after it has read the store until released: the
// moment the sender has found the recipient offline.
type gatedList struct {
	wsregistry.Store
	entered chan []wsregistry.Conn
	release chan struct{}
}

func (g *gatedList) List(ctx context.Context, user string, now time.Time) ([]wsregistry.Conn, error) {
	conns, err := g.Store.List(ctx, user, now)
	g.entered <- conns
	<-g.release
	return conns, err
}

type collector struct {
	mu   sync.Mutex
	msgs []wsregistry.Message
	got  chan struct{}
}

func newCollector() *collector { return &collector{got: make(chan struct{}, 1000)} }

func (c *collector) handle(_ context.Context, m wsregistry.Message) error {
	c.mu.Lock()
	c.msgs = append(c.msgs, m)
	c.mu.Unlock()
	c.got <- struct{}{}
	return nil
}

// sendAsync sends "hi" from alice to user in a goroutine.
func sendAsync(sender *wsregistry.Router, user string) <-chan error {
	done := make(chan error, 1)
	go func() {
		_, err := sender.Send(context.Background(), wsregistry.Message{Conv: Unique("conv"), From: "alice", To: user, Body: []byte("hi")})
		done <- err
	}()
	return done
}

// reconnect is what a gateway does when a client connects: register,
// then resync.
func reconnect(t testing.TB, reg *wsregistry.Registry, r *wsregistry.Router, user, host string) []wsregistry.Message {
	t.Helper()
	ctx := context.Background()
	if _, err := reg.Register(ctx, user, "phone", host); err != nil {
		t.Fatal(err)
	}
	got, err := r.Resync(ctx, user, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// The recipient comes online while the sender is storing the message:
// the resync runs before the message is stored, and the sender's lookup,
// which runs after, finds the new socket and pushes.
func raceOnlineDuringStore(t *testing.T, d Deployment) {
	bob, host := Unique("bob"), Unique("host")
	gate := &gatedInbox{Inbox: d.Inbox(t), entered: make(chan struct{}), release: make(chan struct{})}
	_, sender := newHost(t, d.Store(t), gate, d.Sequencer(t), d.Transport(t))
	bobReg, bobRouter := d.host(t)
	box := newCollector()
	defer d.Listen(t, host, box.handle)()

	done := sendAsync(sender, bob)
	<-gate.entered // the sender holds a sequence number and is storing
	if got := reconnect(t, bobReg, bobRouter, bob, host); len(got) != 0 {
		t.Fatalf("resync before the store: got %d messages; want 0", len(got))
	}
	close(gate.release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if st := sender.Stats(); st.Pushed != 1 {
		t.Fatalf("sender stats %+v; want one push to bob's new host", st)
	}
	<-box.got
	if box.msgs[0].To != bob || string(box.msgs[0].Body) != "hi" {
		t.Fatalf("pushed %+v; want the message to bob", box.msgs[0])
	}
}

// The sender has looked the recipient up and found him offline; he comes
// online before the send ends. The message was stored before the lookup,
// so his resync returns it.
func raceOnlineAfterOfflineLookup(t *testing.T, d Deployment) {
	bob, host := Unique("bob"), Unique("host")
	gate := &gatedList{Store: d.Store(t), entered: make(chan []wsregistry.Conn, 1), release: make(chan struct{})}
	_, sender := newHost(t, gate, d.Inbox(t), d.Sequencer(t), d.Transport(t))
	bobReg, bobRouter := d.host(t)
	box := newCollector()
	defer d.Listen(t, host, box.handle)()

	done := sendAsync(sender, bob)
	if conns := <-gate.entered; len(conns) != 0 {
		t.Fatalf("sender's lookup: got %+v; want bob offline", conns)
	}
	got := reconnect(t, bobReg, bobRouter, bob, host)
	close(gate.release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || string(got[0].Body) != "hi" {
		t.Fatalf("bob's resync: got %+v; want the message", got)
	}
	if st := sender.Stats(); st.Offline != 1 || st.Pushed != 0 {
		t.Errorf("sender stats %+v; want Offline 1, Pushed 0", st)
	}
}

// The order the notes describe (look up, find the user offline, then
// store) loses the message in the same interleaving, on the same
// backends: this checks that the cases above can see a loss.
func naiveOrderLoses(t *testing.T, d Deployment) {
	ctx := context.Background()
	bob, conv := Unique("bob"), Unique("conv")
	store, inbox, seq := d.Store(t), d.Inbox(t), d.Sequencer(t)
	bobReg, bobRouter := d.host(t)
	conns, err := store.List(ctx, bob, time.Now()) // the sender's lookup: offline
	if err != nil || len(conns) != 0 {
		t.Fatalf("lookup: %v %v", conns, err)
	}
	got := reconnect(t, bobReg, bobRouter, bob, Unique("host")) // bob comes online and resyncs
	n, err := seq.Next(ctx, conv)
	if err != nil {
		t.Fatal(err)
	}
	m := wsregistry.Message{ID: Unique("m"), Conv: conv, From: "alice", To: bob, Seq: n, Kind: "text", At: time.Now().UTC().Truncate(time.Millisecond)}
	if err := inbox.Append(ctx, m); err != nil {
		t.Fatal(err)
	}
	if len(got) != 0 {
		t.Fatalf("naive order: bob's resync got %d messages; want 0", len(got))
	}
	// Bob is online after an empty resync and nobody pushes: the message
	// waits until his next reconnect.
	if left, err := inbox.Scan(ctx, bob, wsregistry.Position{}, 10); err != nil || len(left) != 1 {
		t.Fatalf("inbox: %d messages, %v; want the one stored late", len(left), err)
	}
}

// lossy drops and duplicates deliveries at random, silently, as a
// fire-and-forget transport or a dropped socket would.
type lossy struct {
	wsregistry.Transport
	mu        sync.Mutex
	rnd       *rand.Rand
	drop, dup float64
	dropped   int
}

func (l *lossy) Deliver(ctx context.Context, host string, m wsregistry.Message) error {
	l.mu.Lock()
	p := l.rnd.Float64()
	if p < l.drop {
		l.dropped++
	}
	l.mu.Unlock()
	if p < l.drop {
		return nil
	}
	if err := l.Transport.Deliver(ctx, host, m); err != nil {
		return err
	}
	if p > 1-l.dup {
		return l.Transport.Deliver(ctx, host, m)
	}
	return nil
}

// At least once, with client-side dedup: senders send concurrently in
// shared conversations (some retry a send with the same ID), the
// transport drops and duplicates pushes, the recipient's client drops off
// and reconnects, and some acks are lost. After a final reconnect the
// client has accepted every message exactly once and its inbox is empty.
func atLeastOnce(t *testing.T, d Deployment, seed uint64) {
	ctx := context.Background()
	rnd := rand.New(rand.NewPCG(seed, 1))
	tr := &lossy{Transport: d.Transport(t), rnd: rand.New(rand.NewPCG(seed, 2)), drop: 0.3, dup: 0.1}
	inbox := d.Inbox(t)
	seq := d.Sequencer(t)
	reg, router := newHost(t, d.Store(t), inbox, seq, tr)
	bob, host := Unique("bob"), Unique("host")
	convs := []string{Unique("conv"), Unique("conv"), Unique("conv")}

	client := wsregistry.NewClient(0)
	var (
		mu       sync.Mutex
		accepted = make(map[string]int)
		ackRnd   = rand.New(rand.NewPCG(seed, 3))
	)
	accept := func(m wsregistry.Message, mayLoseAck bool) {
		if m.To != bob {
			t.Errorf("bob received a message for %s", m.To)
		}
		mu.Lock()
		if client.Accept(m) {
			accepted[m.ID]++
		}
		lose := mayLoseAck && ackRnd.Float64() < 0.2
		mu.Unlock()
		if !lose {
			if err := router.Ack(ctx, bob, m.Conv, m.Seq); err != nil {
				t.Error(err)
			}
		}
	}
	const page = 7
	resync := func() {
		for {
			got, err := router.Resync(ctx, bob, client.After(), page)
			if err != nil {
				t.Error(err)
				return
			}
			for _, m := range got {
				accept(m, false)
			}
			if len(got) < page {
				return
			}
		}
	}
	connect := func() func() {
		stop := d.Listen(t, host, func(_ context.Context, m wsregistry.Message) error {
			accept(m, true)
			return nil
		})
		if _, err := reg.Register(ctx, bob, "phone", host); err != nil {
			t.Fatal(err)
		}
		resync()
		return stop
	}

	const senders, perSender = 6, 25
	var sentMu sync.Mutex
	sent := make(map[string]bool)
	var wg sync.WaitGroup
	for s := range senders {
		from := fmt.Sprintf("user%d", s)
		conv := convs[s%len(convs)]
		retry := s%2 == 0
		wg.Go(func() {
			for i := range perSender {
				id := fmt.Sprintf("%s-%s-%d", bob, from, i)
				m := wsregistry.Message{ID: id, Conv: conv, From: from, To: bob, Body: []byte(id)}
				if _, err := router.Send(ctx, m); err != nil {
					t.Error(err)
					return
				}
				if retry && i%5 == 0 { // the sender missed the reply and retries
					if _, err := router.Send(ctx, m); err != nil {
						t.Error(err)
					}
				}
				sentMu.Lock()
				sent[id] = true
				sentMu.Unlock()
			}
		})
	}
	stop := connect()
	for range 10 {
		time.Sleep(time.Duration(rnd.IntN(2000)) * time.Microsecond)
		stop()
		if rnd.IntN(2) == 0 {
			if err := reg.Unregister(ctx, bob, "phone", host); err != nil {
				t.Fatal(err)
			}
		}
		stop = connect()
	}
	wg.Wait()
	stop()
	stop = connect()
	defer stop()

	mu.Lock()
	defer mu.Unlock()
	if len(sent) != senders*perSender {
		t.Fatalf("sent %d; want %d", len(sent), senders*perSender)
	}
	for id := range sent {
		if accepted[id] != 1 {
			t.Errorf("message %s accepted %d times; want 1", id, accepted[id])
		}
	}
	if len(accepted) != len(sent) {
		t.Errorf("accepted %d distinct IDs; want %d", len(accepted), len(sent))
	}
	if left, err := inbox.Scan(ctx, bob, wsregistry.Position{}, 1000); err != nil || len(left) != 0 {
		t.Errorf("inbox holds %d messages after the final resync (%v); want 0", len(left), err)
	}
	if tr.dropped == 0 {
		t.Error("the transport dropped nothing: the property was not exercised")
	}
}
