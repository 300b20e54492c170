// Command messages measures user-to-user messaging across two chat
// gateways (examples/chat): senders connected to gateway 1 write to
// recipients connected to gateway 2, so every message goes sender socket ->
// gateway 1 (Redis sequence, inbox append, registry lookup) -> Redis pub/sub
// -> gateway 2 -> recipient socket, and every delivery comes back as an ack
// and a delivered receipt. It reports messages per second and the p50/p99
// latency from the sender's write to the recipient's read.
//
// Runs, in the same process and on the same servers:
//
//	chat online     every recipient connected
//	chat offline    a share of the recipients (-offline) not connected: their
//	                messages fall back to the inbox under the same load; then
//	                they connect and drain their inbox by resync
//	pubsub          the baseline: the same messages, pairs and window over
//	                bare Redis PUBLISH/SUBSCRIBE between two clients, with no
//	                storage, registry, sequence or websocket
//
// Usage (from bench/):
//
//	go run ./chat/messages                  # real servers from SYSBLOCKS_*
//	go run ./chat/messages -backend=mem     # everything in process memory (pubsub baseline skipped)
//	go run ./chat/messages -pairs 40 -n 250 -window 4 -offline 0.5
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
	"github.com/redis/go-redis/v9"

	"github.com/sysblocks/sysblocks/examples/chat/backends"
	"github.com/sysblocks/sysblocks/examples/chat/chat"
	"github.com/sysblocks/sysblocks/wsregistry/gateway"
)

const secret = "bench secret of at least 16 bytes"

func main() {
	var (
		backend = flag.String("backend", "real", "real (SYSBLOCKS_* servers) or mem")
		pairs   = flag.Int("pairs", 20, "sender/recipient pairs")
		n       = flag.Int("n", 200, "messages per sender")
		window  = flag.Int("window", 4, "messages a sender may have unconfirmed")
		offline = flag.Float64("offline", 0.5, "share of recipients offline in the offline run")
		cpuprof = flag.String("cpuprofile", "", "write a CPU profile of the whole run (gateways included) to this file")
	)
	flag.Parse()
	if *cpuprof != "" {
		f, err := os.Create(*cpuprof)
		if err != nil {
			log.Fatal(err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			log.Fatal(err)
		}
		defer pprof.StopCPUProfile()
	}
	ctx := context.Background()
	run := randHex(4)
	env := backends.EnvFromOS()
	var st *backends.Stack
	var err error
	if *backend == "mem" {
		st, err = backends.Memory(backends.Settings{})
	} else {
		env.Keyspace = "chat_bench"
		st, err = backends.Dial(ctx, env, backends.Settings{RedisPrefix: "{chatbench" + run + "}:",
			GroupTopic: "chat-bench-groups", FanoutGroup: "chat-bench-" + run,
			SeenTopic: "chat-bench-seen", SeenGroup: "chat-bench-seen-" + run, MediaDir: os.TempDir() + "/chat-bench-media"})
	}
	if err != nil {
		log.Fatal(err)
	}
	defer st.Close()
	var urls []string
	for i := range 2 {
		node, err := st.Node(ctx, fmt.Sprintf("bench-gw%d-%s", i+1, run), backends.NodeOptions{Secret: []byte(secret),
			Gateway: &gateway.Options{Rate: -1, QueueSize: 1024}})
		if err != nil {
			log.Fatal(err)
		}
		srv := httptest.NewServer(node.Service.Handler())
		defer srv.Close()
		rctx, cancel := context.WithCancel(ctx)
		defer cancel()
		go node.Run(rctx)
		urls = append(urls, srv.URL)
	}
	fmt.Printf("backend=%s pairs=%d messages/sender=%d window=%d (%d messages per run)\n\n",
		*backend, *pairs, *n, *window, *pairs**n)
	fmt.Println("| run | messages | msg/s | p50 | p99 | vs pubsub msg/s |")
	fmt.Println("|---|---|---|---|---|---|")

	var base result
	if *backend != "mem" {
		base = pubsub(ctx, env.RedisAddr, *pairs, *n, *window, "{chatbench"+run+"}:ps:")
	}
	online := chatRun(ctx, urls, "on"+run, *pairs, *n, *window, 0)
	off := chatRun(ctx, urls, "off"+run, *pairs, *n, *window, *offline)
	ratio := func(r result) string {
		if base.rate == 0 {
			return "-"
		}
		return fmt.Sprintf("%.3f", r.rate/base.rate)
	}
	if base.rate != 0 {
		base.print("pubsub (baseline)", "1")
	}
	online.print("chat online", ratio(online))
	off.print(fmt.Sprintf("chat, %.0f%% offline: sends", *offline*100), ratio(off))
	if off.drain.count > 0 {
		fmt.Printf("| chat, offline recipients drain inbox on connect | %d | %.0f | - | - | - |\n",
			off.drain.count, off.drain.rate)
	}
}

type result struct {
	count int
	rate  float64
	lat   []time.Duration
	drain struct {
		count int
		rate  float64
	}
}

func (r result) print(name, ratio string) {
	slices.Sort(r.lat)
	q := func(p float64) string {
		if len(r.lat) == 0 {
			return "-"
		}
		return r.lat[min(len(r.lat)-1, int(p*float64(len(r.lat))))].Round(10 * time.Microsecond).String()
	}
	fmt.Printf("| %s | %d | %.0f | %s | %s | %s |\n", name, r.count, r.rate, q(0.50), q(0.99), ratio)
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// conn is a benchmark client: it acknowledges every message like the page
// does and hands frames to a callback.
type conn struct {
	ws *websocket.Conn
	mu sync.Mutex
}

func (c *conn) write(v any) error {
	b, _ := json.Marshal(v)
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ws.Write(context.Background(), websocket.MessageText, b)
}

func login(base, user string) (string, error) {
	res, err := http.Post(base+"/login", "application/json", strings.NewReader(`{"user":"`+user+`","password":"pw"}`))
	if err != nil {
		return "", err
	}
	defer res.Body.Close()
	var out struct{ Token string }
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != 200 || json.Unmarshal(b, &out) != nil {
		return "", fmt.Errorf("login %s: %d %s", user, res.StatusCode, b)
	}
	return out.Token, nil
}

func dial(base, token string, on func(chat.Out)) (*conn, error) {
	ws, _, err := websocket.Dial(context.Background(), "ws"+strings.TrimPrefix(base, "http")+"/ws?token="+token, nil)
	if err != nil {
		return nil, err
	}
	ws.SetReadLimit(1 << 20)
	c := &conn{ws: ws}
	go func() {
		for {
			_, b, err := ws.Read(context.Background())
			if err != nil {
				return
			}
			var f chat.Out
			if json.Unmarshal(b, &f) != nil {
				continue
			}
			if f.Type == "msg" {
				ack := map[string]any{"type": "ack", "conv": f.Conv, "seq": f.Seq}
				if f.Kind == chat.KindText {
					ack["id"], ack["from"] = f.ID, f.From
				}
				_ = c.write(ack)
			}
			on(f)
		}
	}()
	return c, nil
}

// chatRun: senders on gateway 1, recipients on gateway 2; the first
// offline*pairs recipients stay disconnected during the load.
func chatRun(ctx context.Context, urls []string, run string, pairs, n, window int, offline float64) result {
	var (
		mu      sync.Mutex
		lat     []time.Duration
		got     atomic.Int64
		offN    = int(offline * float64(pairs))
		tokens  = make([]string, pairs)
		senders = make([]*conn, pairs)
		credits = make([]chan struct{}, pairs)
	)
	onRecv := func(f chat.Out) {
		if f.Type != "msg" || f.Kind != chat.KindText {
			return
		}
		t0, err := strconv.ParseInt(strings.TrimPrefix(f.Text, "t="), 10, 64)
		if err != nil {
			return
		}
		d := time.Since(time.Unix(0, t0))
		mu.Lock()
		lat = append(lat, d)
		mu.Unlock()
		got.Add(1)
	}
	var err error
	for i := range pairs {
		if tokens[i], err = login(urls[1], fmt.Sprintf("r%d-%s", i, run)); err != nil {
			log.Fatal(err)
		}
		if i >= offN {
			if _, err := dial(urls[1], tokens[i], onRecv); err != nil {
				log.Fatal(err)
			}
		}
		st, err := login(urls[0], fmt.Sprintf("s%d-%s", i, run))
		if err != nil {
			log.Fatal(err)
		}
		credits[i] = make(chan struct{}, window)
		for range window {
			credits[i] <- struct{}{}
		}
		ci := credits[i]
		if senders[i], err = dial(urls[0], st, func(f chat.Out) {
			if f.Type == "sent" || f.Type == "error" {
				ci <- struct{}{}
			}
		}); err != nil {
			log.Fatal(err)
		}
	}
	time.Sleep(200 * time.Millisecond) // hellos and registrations settle
	start := time.Now()
	var wg sync.WaitGroup
	for i := range pairs {
		wg.Go(func() {
			to := fmt.Sprintf("r%d-%s", i, run)
			for j := range n {
				<-credits[i]
				if err := senders[i].write(map[string]any{"type": "send", "id": fmt.Sprintf("m%d-%d", i, j), "to": to,
					"text": "t=" + strconv.FormatInt(time.Now().UnixNano(), 10)}); err != nil {
					log.Fatal(err)
				}
			}
			for range window { // every message confirmed (stored)
				<-credits[i]
			}
		})
	}
	wg.Wait()
	wantOnline := int64((pairs - offN) * n)
	deadline := time.Now().Add(2 * time.Minute)
	for got.Load() < wantOnline && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	elapsed := time.Since(start)
	var r result
	r.count = pairs * n
	r.rate = float64(r.count) / elapsed.Seconds()
	if got.Load() < wantOnline {
		log.Printf("%s: only %d of %d online messages arrived", run, got.Load(), wantOnline)
	}
	mu.Lock()
	r.lat = lat
	mu.Unlock()
	if offN > 0 {
		var drained atomic.Int64
		var seen sync.Map
		start := time.Now()
		for i := range offN {
			var c *conn
			ready := make(chan struct{})
			c, err := dial(urls[1], tokens[i], func(f chat.Out) {
				switch {
				case f.Type == "hello":
					close(ready)
				case f.Type == "msg" && f.Kind == chat.KindText:
					if _, dup := seen.LoadOrStore(f.ID, true); !dup {
						drained.Add(1)
					}
				case f.Type == "synced" && f.More: // the next page of the inbox
					<-ready
					_ = c.write(map[string]any{"type": "resync", "after": map[string]uint64{}})
				}
			})
			if err != nil {
				log.Fatal(err)
			}
			<-ready
			_ = c.write(map[string]any{"type": "resync", "after": map[string]uint64{}})
		}
		want := int64(offN * n)
		deadline := time.Now().Add(2 * time.Minute)
		for drained.Load() < want && time.Now().Before(deadline) {
			time.Sleep(time.Millisecond)
		}
		r.drain.count = int(drained.Load())
		r.drain.rate = float64(drained.Load()) / time.Since(start).Seconds()
	}
	return r
}

// pubsub is the baseline: pairs publishers and subscribers on bare Redis
// pub/sub with the same window, one channel per recipient.
func pubsub(ctx context.Context, addr string, pairs, n, window int, prefix string) result {
	pub := redis.NewClient(&redis.Options{Addr: addr})
	sub := redis.NewClient(&redis.Options{Addr: addr})
	defer pub.Close()
	defer sub.Close()
	var (
		mu  sync.Mutex
		lat []time.Duration
		got atomic.Int64
	)
	credits := make([]chan struct{}, pairs)
	var chans []string
	for i := range pairs {
		chans = append(chans, prefix+strconv.Itoa(i))
		credits[i] = make(chan struct{}, window)
		for range window {
			credits[i] <- struct{}{}
		}
	}
	ps := sub.Subscribe(ctx, chans...)
	defer ps.Close()
	for range chans {
		if _, err := ps.Receive(ctx); err != nil {
			log.Fatal(err)
		}
	}
	go func() {
		for {
			m, err := ps.ReceiveMessage(ctx)
			if err != nil {
				if !errors.Is(err, redis.ErrClosed) && got.Load() < int64(pairs*n) {
					log.Print(err)
				}
				return
			}
			i, t0, _ := strings.Cut(m.Payload, ":")
			ts, _ := strconv.ParseInt(t0, 10, 64)
			d := time.Since(time.Unix(0, ts))
			k, _ := strconv.Atoi(i)
			mu.Lock()
			lat = append(lat, d)
			mu.Unlock()
			got.Add(1)
			credits[k] <- struct{}{}
		}
	}()
	start := time.Now()
	var wg sync.WaitGroup
	for i := range pairs {
		wg.Go(func() {
			for range n {
				<-credits[i]
				if err := pub.Publish(ctx, chans[i], strconv.Itoa(i)+":"+strconv.FormatInt(time.Now().UnixNano(), 10)).Err(); err != nil {
					log.Fatal(err)
				}
			}
		})
	}
	wg.Wait()
	for got.Load() < int64(pairs*n) {
		time.Sleep(time.Millisecond)
	}
	r := result{count: pairs * n, rate: float64(pairs*n) / time.Since(start).Seconds()}
	mu.Lock()
	r.lat = lat
	mu.Unlock()
	return r
}
