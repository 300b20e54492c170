package redisbus_test

import (
	"bufio"
	"context"
	"errors"
	"os"
	"os/exec"
	"reflect"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"go.uber.org/goleak"

	"github.com/sysblocks/sysblocks/internal/testenv"
	"github.com/sysblocks/sysblocks/wsregistry"
	"github.com/sysblocks/sysblocks/wsregistry/memstore"
	"github.com/sysblocks/sysblocks/wsregistry/redisbus"
	"github.com/sysblocks/sysblocks/wsregistry/redisstore"
)

func TestMain(m *testing.M) {
	if os.Getenv("WSR_CHILD_ADDR") != "" {
		child()
		return
	}
	if os.Getenv("WSR_SENDER_ADDR") != "" {
		sender()
		return
	}
	goleak.VerifyTestMain(m)
}

// child is a gateway host process: it subscribes to its channel, says
// "ready" and waits to be killed.
func child() {
	c := redis.NewClient(&redis.Options{Addr: os.Getenv("WSR_CHILD_ADDR")})
	bus, _ := redisbus.New(c, &redisbus.Options{Prefix: os.Getenv("WSR_CHILD_PREFIX")})
	l, err := bus.Listen(context.Background(), "doomed", func(context.Context, wsregistry.Message) error { return nil })
	if err != nil {
		os.Exit(2)
	}
	os.Stdout.WriteString("ready\n")
	_ = l.Run(context.Background())
}

func newBus(t *testing.T, e *testenv.RedisEnv) *redisbus.Bus {
	return newBusPrefix(t, e, e.Key("host")+":")
}

func newBusPrefix(t testing.TB, e *testenv.RedisEnv, prefix string) *redisbus.Bus {
	b, err := redisbus.New(e.Client, &redisbus.Options{Prefix: prefix})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

type inbox struct {
	mu   sync.Mutex
	msgs []wsregistry.Message
	got  chan struct{}
}

func (b *inbox) handle(_ context.Context, m wsregistry.Message) error {
	b.mu.Lock()
	b.msgs = append(b.msgs, m)
	b.mu.Unlock()
	b.got <- struct{}{}
	return nil
}

func TestDeliver(t *testing.T) {
	e := testenv.Redis(t)
	bus := newBus(t, e)
	ctx, cancel := context.WithCancel(context.Background())
	box := &inbox{got: make(chan struct{}, 10)}
	l, err := bus.Listen(ctx, "h1", box.handle)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error)
	go func() { done <- l.Run(ctx) }()

	m := wsregistry.Message{ID: "m1", Conv: "a|b", From: "alice", To: "bob", Seq: 7, Kind: "text",
		Body: []byte{0, 1, 2, 255}, At: time.Date(2031, 1, 2, 3, 4, 5, 6000000, time.UTC)}
	if err := bus.Deliver(ctx, "h1", m); err != nil {
		t.Fatal(err)
	}
	<-box.got
	if !reflect.DeepEqual(box.msgs[0], m) {
		t.Fatalf("received %+v; want %+v", box.msgs[0], m)
	}
	if err := bus.Deliver(ctx, "h2", m); !errors.Is(err, wsregistry.ErrHostGone) {
		t.Fatalf("Deliver to a host nobody listens on: got %v; want ErrHostGone", err)
	}
	// A message that cannot be decoded is skipped and counted.
	if err := e.Client.Publish(ctx, bus.Channel("h1"), "{not json").Err(); err != nil {
		t.Fatal(err)
	}
	if err := bus.Deliver(ctx, "h1", m); err != nil {
		t.Fatal(err)
	}
	<-box.got
	if l.Undecodable() != 1 || l.Handled() != 2 {
		t.Errorf("undecodable %d, handled %d; want 1, 2", l.Undecodable(), l.Handled())
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
	waitGone(t, bus, "h1")
}

// waitGone waits until Redis no longer counts a subscriber of host.
func waitGone(t *testing.T, bus *redisbus.Bus, host string) {
	t.Helper()
	for i := 0; ; i++ {
		err := bus.Deliver(context.Background(), host, wsregistry.Message{ID: "x", Conv: "c", From: "a", To: "b", Seq: 1})
		if errors.Is(err, wsregistry.ErrHostGone) {
			return
		}
		if i == 500 {
			t.Fatalf("host %s still has a subscriber after it stopped: %v", host, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// A gateway process holding bob's socket is killed with SIGKILL. Bob's
// lease is still live, so the sender's lookup names the dead host; the
// delivery finds no subscriber, the router drops its cached answer, and
// the message waits in the inbox for bob's reconnect.
func TestHostKilled(t *testing.T) {
	e := testenv.Redis(t)
	bus := newBus(t, e)
	ctx := context.Background()

	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "WSR_CHILD_ADDR="+e.Addr, "WSR_CHILD_PREFIX="+e.Key("host")+":")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || strings.TrimSpace(line) != "ready" {
		_ = cmd.Process.Kill()
		t.Fatalf("child: %q %v", line, err)
	}

	store, _ := redisstore.New(e.Client, &redisstore.Options{Prefix: e.Key("reg") + ":"})
	seq, _ := redisstore.NewSequencer(e.Client, &redisstore.Options{Prefix: e.Key("reg") + ":"})
	reg, _ := wsregistry.New(store, nil)
	box := memstore.NewInbox()
	router, err := wsregistry.NewRouter(reg, box, seq, bus, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := reg.Register(ctx, "bob", "phone", "doomed"); err != nil {
		t.Fatal(err)
	}
	if _, err := router.Send(ctx, wsregistry.Message{Conv: "a|b", From: "alice", To: "bob"}); err != nil {
		t.Fatal(err)
	}
	if st := router.Stats(); st.Pushed != 1 {
		t.Fatalf("before the kill: %+v; want one push", st)
	}

	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	waitGone(t, bus, "doomed")

	m, err := router.Send(ctx, wsregistry.Message{Conv: "a|b", From: "alice", To: "bob", Body: []byte("after")})
	if err != nil {
		t.Fatalf("Send after the kill: %v", err)
	}
	st := router.Stats()
	if st.Pushed != 1 || st.StaleLookup != 1 {
		t.Errorf("after the kill: %+v; want no new push and one stale lookup", st)
	}
	if reg.Stats().Invalidations == 0 {
		t.Error("the cached lookup was not invalidated")
	}
	// Bob reconnects elsewhere and resyncs: both messages are there.
	if _, err := reg.Register(ctx, "bob", "phone", "h2"); err != nil {
		t.Fatal(err)
	}
	got, err := router.Resync(ctx, "bob", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[1].ID != m.ID {
		t.Fatalf("resync: got %+v; want both messages", got)
	}
}

func TestDecodeRejects(t *testing.T) {
	for _, in := range []string{``, `{}`, `[]`, `{"v":2,"id":"a","conv":"c","from":"f","to":"t","seq":1}`,
		`{"v":1,"conv":"c","from":"f","to":"t","seq":1}`, `{"v":1,"id":"a","conv":"c","from":"f","to":"t","seq":0}`,
		`{"v":1,"id":"a","conv":"c","from":"f","to":"t","seq":-1}`, `{"v":1,"id":"a","conv":"c","from":"f","to":"t","seq":1,"body":"!!"}`} {
		if _, err := redisbus.Decode([]byte(in)); !errors.Is(err, redisbus.ErrDecode) {
			t.Errorf("Decode(%q): got %v; want ErrDecode", in, err)
		}
	}
}

func FuzzDecode(f *testing.F) {
	good, _ := redisbus.Encode(wsregistry.Message{ID: "m1", Conv: "a|b", From: "alice", To: "bob", Seq: 3, Kind: "text", Body: []byte("hi"),
		At: time.Date(2031, 1, 1, 0, 0, 0, 0, time.UTC)})
	f.Add(good)
	f.Add([]byte(`{"v":1,"id":"x","conv":"c","from":"f","to":"t","seq":18446744073709551615,"body":null}`))
	f.Add([]byte(`{"v":1}`))
	f.Add([]byte(`not json`))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := redisbus.Decode(b)
		if err != nil {
			if !errors.Is(err, redisbus.ErrDecode) {
				t.Fatalf("error %v does not match ErrDecode", err)
			}
			return
		}
		again, err := redisbus.Encode(m)
		if err != nil {
			t.Fatal(err)
		}
		m2, err := redisbus.Decode(again)
		if err != nil {
			t.Fatalf("re-decode: %v", err)
		}
		if m.ID != m2.ID || m.Seq != m2.Seq || string(m.Body) != string(m2.Body) || !m.At.Equal(m2.At) {
			t.Fatalf("round trip: %+v then %+v", m, m2)
		}
	})
}
