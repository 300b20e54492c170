package wsregistry_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sysblocks/sysblocks/wsregistry"
	"github.com/sysblocks/sysblocks/wsregistry/memstore"
	"github.com/sysblocks/sysblocks/wsregistry/storetest"
)

// The delivery cases of storetest on the memory adapters: both race
// interleavings, and at-least-once delivery with dedup under lost pushes,
// lost acks, retries and reconnects.
func TestRouterMemory(t *testing.T) {
	store, inbox, seq, tr := memstore.New(), memstore.NewInbox(), memstore.NewSequencer(), memstore.NewTransport()
	storetest.RunRouter(t, storetest.Deployment{
		Store:     func(testing.TB) wsregistry.Store { return store },
		Inbox:     func(testing.TB) wsregistry.Inbox { return inbox },
		Sequencer: func(testing.TB) wsregistry.Sequencer { return seq },
		Transport: func(testing.TB) wsregistry.Transport { return tr },
		Listen: func(_ testing.TB, host string, h wsregistry.Handler) func() {
			return tr.Listen(host, h)
		},
	})
}

// A cached lookup that names a host the user left is proved stale by the
// delivery; the router drops it, looks up again and delivers to the new
// host.
func TestCacheInvalidatedWhenStale(t *testing.T) {
	for _, tc := range []struct {
		name string
		// leave makes host h1 stop holding bob, as seen by deliveries.
		leave func(w *world, stopH1 func())
	}{
		{"HostGone", func(_ *world, stopH1 func()) { stopH1() }},
		{"NotConnected", func(w *world, stopH1 func()) {
			stopH1()
			w.tr.Listen("h1", func(context.Context, wsregistry.Message) error { return wsregistry.ErrNotConnected })
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			w := newWorld(t)
			regA, routerA := w.defaultHost() // the sender's host, with its cache
			reg1, _ := w.defaultHost()
			reg2, _ := w.defaultHost()
			box1, box2 := &mailbox{}, &mailbox{}
			stopH1 := w.tr.Listen("h1", box1.handler)
			defer w.tr.Listen("h2", box2.handler)()

			if _, err := reg1.Register(ctx, "bob", "phone", "h1"); err != nil {
				t.Fatal(err)
			}
			if _, err := routerA.Send(ctx, wsregistry.Message{Conv: "c", From: "alice", To: "bob"}); err != nil {
				t.Fatal(err)
			}
			if n := len(box1.take()); n != 1 {
				t.Fatalf("h1 got %d; want 1", n)
			}
			// bob moves to h2; regA's cache still says h1.
			if _, err := reg2.Register(ctx, "bob", "phone", "h2"); err != nil {
				t.Fatal(err)
			}
			tc.leave(w, stopH1)
			if conns, _ := regA.Lookup(ctx, "bob"); len(conns) != 1 || conns[0].Host != "h1" {
				t.Fatalf("cached lookup: got %+v; want the stale h1", conns)
			}
			before := regA.Stats()
			if _, err := routerA.Send(ctx, wsregistry.Message{Conv: "c", From: "alice", To: "bob", Body: []byte("2")}); err != nil {
				t.Fatal(err)
			}
			if got := box2.take(); len(got) != 1 || string(got[0].Body) != "2" {
				t.Fatalf("h2 got %+v; want the second message", got)
			}
			st := regA.Stats()
			if st.Invalidations != before.Invalidations+1 {
				t.Errorf("Invalidations: got %d; want %d", st.Invalidations, before.Invalidations+1)
			}
			if rs := routerA.Stats(); rs.StaleLookup != 1 || rs.Pushed != 2 {
				t.Errorf("router stats: got %+v; want StaleLookup 1, Pushed 2", rs)
			}
			if conns, _ := regA.Lookup(ctx, "bob"); len(conns) != 1 || conns[0].Host != "h2" {
				t.Fatalf("lookup after invalidation: got %+v; want h2", conns)
			}
		})
	}
}

// The cache answers within its TTL, never returns an expired lease, and
// never caches "offline".
func TestCacheTTL(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	regA, _ := w.defaultHost()
	regB, _ := w.defaultHost()
	if conns, _ := regA.Lookup(ctx, "bob"); len(conns) != 0 {
		t.Fatal("bob online before registering")
	}
	if _, err := regB.Register(ctx, "bob", "phone", "h1"); err != nil {
		t.Fatal(err)
	}
	if conns, _ := regA.Lookup(ctx, "bob"); len(conns) != 1 {
		t.Fatalf("after Register elsewhere: got %+v; want bob online (offline is never cached)", conns)
	}
	regA.Lookup(ctx, "bob")
	if st := regA.Stats(); st.CacheHits != 1 || st.CacheMisses != 2 {
		t.Fatalf("stats: got %+v; want 1 hit, 2 misses", st)
	}
	w.clk.Advance(3 * time.Second) // beyond the 2s CacheTTL
	regA.Lookup(ctx, "bob")
	if st := regA.Stats(); st.CacheMisses != 3 {
		t.Fatalf("after the TTL: got %+v; want a third miss", st)
	}
	// The lease ends while the answer is cached: never returned.
	w.clk.Advance(27*time.Second + time.Millisecond)
	if conns, _ := regA.Lookup(ctx, "bob"); len(conns) != 0 {
		t.Fatalf("after the lease: got %+v; want none", conns)
	}
}

func TestHeartbeat(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	reg, _ := w.defaultHost()
	if _, err := reg.Register(ctx, "bob", "phone", "h1"); err != nil {
		t.Fatal(err)
	}
	for range 5 {
		w.clk.Advance(20 * time.Second)
		if _, err := reg.Heartbeat(ctx, "bob", "phone", "h1"); err != nil {
			t.Fatalf("Heartbeat within the lease: %v", err)
		}
	}
	if _, err := reg.Heartbeat(ctx, "bob", "phone", "h2"); !errors.Is(err, wsregistry.ErrNotFound) {
		t.Errorf("Heartbeat from another host: got %v; want ErrNotFound", err)
	}
	w.clk.Advance(30 * time.Second)
	if _, err := reg.Heartbeat(ctx, "bob", "phone", "h1"); !errors.Is(err, wsregistry.ErrNotFound) {
		t.Errorf("Heartbeat after the lease: got %v; want ErrNotFound", err)
	}
	if err := reg.Unregister(ctx, "bob", "phone", "h1"); err != nil {
		t.Errorf("Unregister of an expired lease: got %v; want nil", err)
	}
}

func TestPresence(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	seen := make(map[string]time.Time)
	var mu sync.Mutex
	reg, err := wsregistry.New(w.store, &wsregistry.Options{Now: w.clk.Now, OnSeen: func(u string, at time.Time) {
		mu.Lock()
		seen[u] = at
		mu.Unlock()
	}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := reg.Register(ctx, "bob", "phone", "h1"); err != nil {
		t.Fatal(err)
	}
	if p, _ := reg.Presence(ctx, "bob"); !p.Online || p.Devices != 1 {
		t.Fatalf("Presence: got %+v; want online", p)
	}
	w.clk.Advance(time.Minute)
	if err := reg.Unregister(ctx, "bob", "phone", "h1"); err != nil {
		t.Fatal(err)
	}
	if p, _ := reg.Presence(ctx, "bob"); p.Online {
		t.Fatalf("Presence after Unregister: got %+v; want offline", p)
	}
	if !seen["bob"].Equal(w.clk.Now()) {
		t.Errorf("OnSeen: got %v; want %v", seen["bob"], w.clk.Now())
	}
}

func TestBadInput(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	reg, r := w.defaultHost()
	long := strings.Repeat("x", wsregistry.MaxNameLen+1)
	ok := wsregistry.Message{Conv: "c", From: "alice", To: "bob"}
	with := func(f func(*wsregistry.Message)) wsregistry.Message { m := ok; f(&m); return m }
	for _, tc := range []struct {
		name string
		err  error
		call func() error
	}{
		{"register empty user", wsregistry.ErrInvalid, func() error { _, err := reg.Register(ctx, "", "d", "h"); return err }},
		{"register empty device", wsregistry.ErrInvalid, func() error { _, err := reg.Register(ctx, "u", "", "h"); return err }},
		{"register long host", wsregistry.ErrInvalid, func() error { _, err := reg.Register(ctx, "u", "d", long); return err }},
		{"register control char", wsregistry.ErrInvalid, func() error { _, err := reg.Register(ctx, "u\n", "d", "h"); return err }},
		{"register bad utf8", wsregistry.ErrInvalid, func() error { _, err := reg.Register(ctx, "u\xff", "d", "h"); return err }},
		{"heartbeat empty host", wsregistry.ErrInvalid, func() error { _, err := reg.Heartbeat(ctx, "u", "d", ""); return err }},
		{"lookup empty user", wsregistry.ErrInvalid, func() error { _, err := reg.Lookup(ctx, ""); return err }},
		{"send empty to", wsregistry.ErrInvalid, func() error { _, err := r.Send(ctx, with(func(m *wsregistry.Message) { m.To = "" })); return err }},
		{"send empty from", wsregistry.ErrInvalid, func() error { _, err := r.Send(ctx, with(func(m *wsregistry.Message) { m.From = "" })); return err }},
		{"send empty conv", wsregistry.ErrInvalid, func() error { _, err := r.Send(ctx, with(func(m *wsregistry.Message) { m.Conv = "" })); return err }},
		{"send to self", wsregistry.ErrInvalid, func() error { _, err := r.Send(ctx, with(func(m *wsregistry.Message) { m.To = "alice" })); return err }},
		{"send with seq", wsregistry.ErrInvalid, func() error { _, err := r.Send(ctx, with(func(m *wsregistry.Message) { m.Seq = 4 })); return err }},
		{"send oversized body", wsregistry.ErrTooLarge, func() error {
			_, err := r.Send(ctx, with(func(m *wsregistry.Message) { m.Body = make([]byte, 64<<10+1) }))
			return err
		}},
		{"ack unknown conversation", wsregistry.ErrUnknownConversation, func() error { return r.Ack(ctx, "bob", "nope", 1) }},
		{"ack beyond last", wsregistry.ErrUnknownConversation, func() error { return r.Ack(ctx, "bob", "known", 99) }},
		{"ack zero seq", wsregistry.ErrInvalid, func() error { return r.Ack(ctx, "bob", "known", 0) }},
		{"ack empty user", wsregistry.ErrInvalid, func() error { return r.Ack(ctx, "", "known", 1) }},
		{"resync unknown conversation", wsregistry.ErrUnknownConversation, func() error {
			_, err := r.Resync(ctx, "bob", map[string]uint64{"nope": 3}, 0)
			return err
		}},
		{"resync unknown among several", wsregistry.ErrUnknownConversation, func() error {
			_, err := r.Resync(ctx, "bob", map[string]uint64{"known": 1, "nope": 3, "also-nope": 0}, 0)
			return err
		}},
		{"resync beyond last among several", wsregistry.ErrUnknownConversation, func() error {
			_, err := r.Resync(ctx, "bob", map[string]uint64{"known": 1 << 40, "other": 1}, 0)
			return err
		}},
		{"resync negative limit", wsregistry.ErrInvalid, func() error { _, err := r.Resync(ctx, "bob", nil, -1); return err }},
		{"resync empty conv", wsregistry.ErrInvalid, func() error { _, err := r.Resync(ctx, "bob", map[string]uint64{"": 1}, 0); return err }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := r.Send(ctx, wsregistry.Message{Conv: "known", From: "alice", To: "bob"}); err != nil {
				t.Fatal(err)
			}
			before := w.inbox.Len("bob")
			err := tc.call()
			if !errors.Is(err, tc.err) {
				t.Fatalf("got %v; want %v", err, tc.err)
			}
			if w.inbox.Len("bob") != before {
				t.Error("the inbox changed")
			}
			if conns, _ := w.store.List(ctx, "u", w.clk.Now()); len(conns) != 0 {
				t.Error("a lease was stored")
			}
		})
	}
	var big *wsregistry.TooLargeError
	_, err := r.Send(ctx, wsregistry.Message{Conv: "c", From: "a", To: "b", Body: make([]byte, 70000)})
	if !errors.As(err, &big) || big.Size != 70000 || big.Max != 64<<10 {
		t.Errorf("got %v; want a TooLargeError with the sizes", err)
	}
	var ce *wsregistry.ConversationError
	if err := r.Ack(ctx, "bob", "nope", 1); !errors.As(err, &ce) || ce.Conv != "nope" {
		t.Errorf("got %v; want a ConversationError", err)
	}
	if _, err := wsregistry.New(nil, nil); !errors.Is(err, wsregistry.ErrInvalid) {
		t.Errorf("New(nil): got %v; want ErrInvalid", err)
	}
	if _, err := wsregistry.NewRouter(reg, nil, w.seq, w.tr, nil); !errors.Is(err, wsregistry.ErrInvalid) {
		t.Errorf("NewRouter without inbox: got %v; want ErrInvalid", err)
	}
}

// Many goroutines send in shared conversations to users who register,
// heartbeat and unregister at the same time; every message gets a unique
// sequence and is either pushed to a host of its recipient or waits in
// the inbox (here both: nothing is acknowledged).
func TestConcurrentSendRegister(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	const users, hosts, senders, per = 10, 4, 32, 50
	var mu sync.Mutex
	pushed := make(map[string]int)
	for h := range hosts {
		defer w.tr.Listen(fmt.Sprintf("h%d", h), func(_ context.Context, m wsregistry.Message) error {
			mu.Lock()
			pushed[m.ID]++
			mu.Unlock()
			return nil
		})()
	}
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for u := range users {
		reg, _ := w.defaultHost()
		wg.Go(func() {
			user := fmt.Sprintf("u%d", u)
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				host := fmt.Sprintf("h%d", i%hosts)
				if _, err := reg.Register(ctx, user, "phone", host); err != nil {
					t.Error(err)
				}
				_, _ = reg.Heartbeat(ctx, user, "phone", host)
				if err := reg.Unregister(ctx, user, "phone", host); err != nil {
					t.Error(err)
				}
			}
		})
	}
	var sendWG sync.WaitGroup
	seqs := make(chan wsregistry.Message, senders*per)
	for s := range senders {
		_, r := w.defaultHost()
		sendWG.Go(func() {
			for i := range per {
				m, err := r.Send(ctx, wsregistry.Message{
					Conv: fmt.Sprintf("c%d", i%5), From: fmt.Sprintf("s%d", s), To: fmt.Sprintf("u%d", (s+i)%users),
				})
				if err != nil {
					t.Error(err)
					return
				}
				seqs <- m
			}
		})
	}
	sendWG.Wait()
	close(stop)
	wg.Wait()
	close(seqs)
	seen := make(map[string]bool)
	total := 0
	for m := range seqs {
		key := fmt.Sprintf("%s/%d", m.Conv, m.Seq)
		if seen[key] {
			t.Fatalf("sequence %s assigned twice", key)
		}
		seen[key] = true
		total++
		if pushed[m.ID] > 1 {
			t.Errorf("message %s pushed %d times by one send", m.ID, pushed[m.ID])
		}
	}
	inboxed := 0
	for u := range users {
		inboxed += w.inbox.Len(fmt.Sprintf("u%d", u))
	}
	if total != senders*per || inboxed != total {
		t.Fatalf("sent %d, inbox holds %d; want %d each", total, inboxed, senders*per)
	}
}

// plainSequencer hides the BatchSequencer capability.
type plainSequencer struct{ wsregistry.Sequencer }

// Resync checks positions the same way with and without the batch
// capability.
func TestResyncPositionsWithoutBatch(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	reg, _ := w.defaultHost()
	r, err := wsregistry.NewRouter(reg, w.inbox, plainSequencer{w.seq}, w.tr, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, conv := range []string{"c1", "c2"} {
		if _, err := r.Send(ctx, wsregistry.Message{Conv: conv, From: "alice", To: "bob"}); err != nil {
			t.Fatal(err)
		}
	}
	if got, err := r.Resync(ctx, "bob", map[string]uint64{"c1": 1, "c2": 0}, 0); err != nil || len(got) != 1 {
		t.Fatalf("got %d, %v; want the message of c2", len(got), err)
	}
	var ce *wsregistry.ConversationError
	if _, err := r.Resync(ctx, "bob", map[string]uint64{"c1": 1, "c2": 5}, 0); !errors.As(err, &ce) || ce.Conv != "c2" || ce.Last != 1 {
		t.Fatalf("got %v; want a ConversationError for c2 at last 1", err)
	}
}

func TestResyncAfterPosition(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	_, r := w.defaultHost()
	for i := range 6 {
		from := "alice"
		if i%3 == 2 {
			from = "carol" // carol's messages to bob in another conversation
		}
		conv := "a|b"
		if from == "carol" {
			conv = "b|c"
		}
		if _, err := r.Send(ctx, wsregistry.Message{Conv: conv, From: from, To: "bob", Body: []byte(fmt.Sprint(i))}); err != nil {
			t.Fatal(err)
		}
	}
	got, err := r.Resync(ctx, "bob", map[string]uint64{"a|b": 2}, 0)
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, m := range got {
		keys = append(keys, fmt.Sprintf("%s/%d", m.Conv, m.Seq))
	}
	if fmt.Sprint(keys) != "[a|b/3 a|b/4 b|c/1 b|c/2]" {
		t.Fatalf("Resync after a|b 2: got %v", keys)
	}
	page, _ := r.Resync(ctx, "bob", map[string]uint64{"a|b": 2}, 3)
	if len(page) != 3 {
		t.Fatalf("limit 3: got %d", len(page))
	}
}

// onceGatedList blocks the first List after it has read the store.
type onceGatedList struct {
	wsregistry.Store
	once             sync.Once
	entered, release chan struct{}
}

func (g *onceGatedList) List(ctx context.Context, user string, now time.Time) ([]wsregistry.Conn, error) {
	conns, err := g.Store.List(ctx, user, now)
	g.once.Do(func() {
		close(g.entered)
		<-g.release
	})
	return conns, err
}

// A lookup that read the store before a registration on this host must
// not put its older answer in the cache after the registration dropped
// the entry.
func TestCacheNoStaleWriteBack(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	if err := w.store.Put(ctx, wsregistry.Conn{User: "bob", Device: "phone", Host: "h1", Expires: w.clk.Now().Add(time.Minute)}, w.clk.Now()); err != nil {
		t.Fatal(err)
	}
	gate := &onceGatedList{Store: w.store, entered: make(chan struct{}), release: make(chan struct{})}
	reg, err := wsregistry.New(gate, &wsregistry.Options{Now: w.clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan []wsregistry.Conn)
	go func() {
		conns, _ := reg.Lookup(ctx, "bob")
		done <- conns
	}()
	<-gate.entered // the lookup has read [phone@h1]
	if _, err := reg.Register(ctx, "bob", "laptop", "h2"); err != nil {
		t.Fatal(err)
	}
	close(gate.release)
	if old := <-done; len(old) != 1 {
		t.Fatalf("the racing lookup got %+v; want the older answer", old)
	}
	conns, err := reg.Lookup(ctx, "bob")
	if err != nil || len(conns) != 2 {
		t.Fatalf("lookup after Register: got %+v, %v; want phone and laptop (the older answer was cached)", conns, err)
	}
}
