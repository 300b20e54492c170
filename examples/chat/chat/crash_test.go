package chat_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/sysblocks/sysblocks/examples/chat/backends"
	"github.com/sysblocks/sysblocks/examples/chat/chat"
	"github.com/sysblocks/sysblocks/internal/dial"
	"github.com/sysblocks/sysblocks/internal/proctest"
	"github.com/sysblocks/sysblocks/internal/testenv"
	"github.com/sysblocks/sysblocks/wsregistry/gateway"
)

// crashConfig tells a child gateway process where the real servers and the
// test's names are.
type crashConfig struct {
	Host                       string
	Env                        backends.Env
	RedisPrefix, Topic, Fanout string
	MediaDir                   string
	SeenTopic, SeenGroup       string
}

const crashEnv = "CHAT_CRASH_CHILD"

// TestCrashFailover runs two gateway processes on the real servers, alice
// on gateway 1 and bob on gateway 2, both writing to each other. Gateway 1
// is killed with SIGKILL mid-conversation; alice's client reconnects to
// gateway 2, resyncs from its positions and resends what the server had
// not confirmed (same IDs). In the end each side has every message of the
// other exactly once, in sending order, after deduplication by ID.
func TestCrashFailover(t *testing.T) {
	if v := os.Getenv(crashEnv); v != "" {
		crashChild(t, v)
		return
	}
	r := testenv.Redis(t)
	m := testenv.MySQL(t)
	k := testenv.Kafka(t)
	c := testenv.Cassandra(t)
	base := crashConfig{
		Env: backends.Env{RedisAddr: r.Addr, MySQLDSN: m.DSN, CassandraHosts: dial.Split(os.Getenv(testenv.EnvCassandra)),
			KafkaBrokers: k.Brokers, Keyspace: c.Keyspace},
		RedisPrefix: r.Key("chat") + ":", Topic: k.Topic(3), Fanout: testenv.Name(t, "fan"), MediaDir: t.TempDir(),
		SeenTopic: k.Topic(3), SeenGroup: testenv.Name(t, "seen"),
	}
	gw1, kill1 := startChild(t, base, "crash-gw1")
	gw2, _ := startChild(t, base, "crash-gw2")

	const n = 60
	login(t, gw2, "bob")
	alice := newFailover(t, "alice", []string{gw1, gw2})
	bob := newFailover(t, "bob", []string{gw2, gw1})

	var wg sync.WaitGroup
	killAt := make(chan struct{})
	wg.Go(func() {
		for i := range n {
			if i == n/3 {
				close(killAt) // let the killer run while alice keeps sending
			}
			alice.sendReliable("bob", fmt.Sprintf("a%03d", i), fmt.Sprintf("alice %d", i))
		}
	})
	wg.Go(func() {
		for i := range n {
			bob.sendReliable("alice", fmt.Sprintf("b%03d", i), fmt.Sprintf("bob %d", i))
		}
	})
	<-killAt
	kill1() // SIGKILL: no drain, no unregister, leases stay until they expire
	wg.Wait()

	for _, cl := range []*failover{alice, bob} {
		cl.waitFor(n)
		peer := map[string]string{"alice": "bob", "bob": "alice"}[cl.user]
		got := cl.contents()
		if len(got) != n {
			t.Fatalf("%s has %d messages; want %d", cl.user, len(got), n)
		}
		// Order: sequence order in the stream is sending order.
		slices.SortFunc(got, func(a, b chat.Out) int { return int(a.Seq) - int(b.Seq) })
		for i, m := range got {
			if want := fmt.Sprintf("%s %d", peer, i); m.Text != want {
				t.Fatalf("%s: message %d is %q; want %q (exactly once, in order)", cl.user, i, m.Text, want)
			}
		}
	}
	if alice.reconnects == 0 {
		t.Fatal("alice never reconnected: gateway 1 was not killed mid-conversation")
	}
	t.Logf("alice reconnected %d times, resent %d; bob dropped %d duplicates, alice %d",
		alice.reconnects, alice.resent, bob.dups, alice.dups)
}

// startChild starts a gateway process and returns its URL and a kill
// function.
func startChild(t *testing.T, cfg crashConfig, host string) (string, func()) {
	t.Helper()
	cfg.Host = host
	c := proctest.StartChild(t, "TestCrashFailover", crashEnv, cfg)
	return c.Await("URL "), c.Kill
}

// crashChild serves one gateway on the real servers until it is killed.
func crashChild(t *testing.T, config string) {
	var cc crashConfig
	if err := json.Unmarshal([]byte(config), &cc); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	dctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	st, err := backends.Dial(dctx, cc.Env, backends.Settings{RedisPrefix: cc.RedisPrefix, GroupTopic: cc.Topic,
		FanoutGroup: cc.Fanout, MediaDir: cc.MediaDir, SeenTopic: cc.SeenTopic, SeenGroup: cc.SeenGroup})
	cancel()
	if err != nil {
		t.Fatal(err)
	}
	node, err := st.Node(ctx, cc.Host, backends.NodeOptions{Secret: []byte(testSecret),
		Gateway: &gateway.Options{Rate: -1}, Lease: 3 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = node.Run(ctx) }()
	fmt.Printf("URL http://%s\n", ln.Addr())
	_ = http.Serve(ln, node.Service.Handler()) // until SIGKILL
}

// failover is a client that behaves like the page: on a dropped socket it
// moves to the next gateway, resyncs from its positions and resends what
// the server has not confirmed.
type failover struct {
	*client
	urls                     []string
	gi                       int
	reconnects, resent, dups int
	sent                     chan chat.Out // "sent" and "error" frames for sendReliable
}

func newFailover(t *testing.T, user string, urls []string) *failover {
	f := &failover{client: &client{t: t, user: user, dedup: newDedup()}, urls: urls}
	f.token = login(t, urls[0], user)
	f.dial()
	return f
}

// dial connects to the current gateway, moving on to the next one until a
// connection succeeds.
func (f *failover) dial() {
	for attempt := 0; ; attempt++ {
		url := f.urls[f.gi%len(f.urls)]
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		ws, _, err := websocket.Dial(ctx, wsURL(url, f.token), nil)
		cancel()
		if err == nil {
			f.ws = ws
			break
		}
		if attempt > 20 {
			f.t.Fatalf("%s: no gateway answers: %v", f.user, err)
		}
		f.gi++
		time.Sleep(100 * time.Millisecond)
	}
	f.frames, f.closed = make(chan chat.Out, 10000), make(chan error, 1)
	f.sent = make(chan chat.Out, 100)
	frames := f.frames
	go f.read(f.ws, frames, f.closed)
	go func(sent chan chat.Out) { // route confirmations to sendReliable
		defer close(sent)
		for fr := range frames {
			if fr.Type == "sent" || fr.Type == "error" {
				sent <- fr
			}
		}
	}(f.sent)
	f.mu.Lock()
	after := f.dedup.After()
	f.mu.Unlock()
	b, _ := json.Marshal(map[string]any{"type": "resync", "after": after})
	_ = f.ws.Write(context.Background(), websocket.MessageText, b)
}

// sendReliable sends a message until the server confirms it, reconnecting
// to the next gateway when the socket drops. A resend keeps the ID, so the
// recipient drops a copy that was stored before the crash.
func (f *failover) sendReliable(to, id, text string) {
	b, _ := json.Marshal(map[string]any{"type": "send", "id": id, "to": to, "text": text})
	for try := 0; ; try++ {
		if try > 0 {
			f.resent++
		}
		if err := f.ws.Write(context.Background(), websocket.MessageText, b); err == nil {
			for fr := range f.sent {
				if fr.Type == "error" {
					f.t.Errorf("%s: %s: error frame %+v", f.user, id, fr)
					return
				}
				if fr.ID == id {
					return
				}
			}
		}
		// The socket dropped before the confirmation: fail over.
		f.ws.CloseNow()
		for range f.sent {
		}
		f.reconnects++
		f.gi++
		f.dial()
	}
}

// waitFor waits until the client holds n distinct content messages.
func (f *failover) waitFor(n int) {
	deadline := time.Now().Add(60 * time.Second)
	for len(f.contents()) < n && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	f.mu.Lock()
	f.dups = f.dupCount
	f.mu.Unlock()
}
