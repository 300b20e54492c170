// Command conns measures how many idle websocket connections one gateway
// process holds and what each costs in memory.
//
// It runs each server implementation in a child process of its own, opens N
// authenticated websocket connections to it from client child processes,
// waits until all are held, and reads the server's memory: live heap and
// goroutine stacks from runtime/metrics after a GC, and RSS from
// /proc/self/status, each minus the same figure before the first connection
// and divided by the connections held. The implementations, measured in the same run:
//
//	gateway  wsregistry/gateway: a reader goroutine per connection, a writer
//	         goroutine only while messages are queued, heartbeats on a timer
//	pump     the usual write-pump shape on the same websocket library: a
//	         reader goroutine, a writer goroutine with a ping ticker, and a
//	         buffered channel as the send queue, per connection
//
// Usage:
//
//	go run ./chat/conns -n 10000
//	go run ./chat/conns -n 50000 -servers 3
//	go run ./chat/conns -n 10000 -hold 1m   (idle through two heartbeat rounds first)
//
// A process can hold no more connections than its RLIMIT_NOFILE allows; the
// program raises the soft limit to the hard one, and -servers splits N over
// several gateway processes when the hard limit is lower than N.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/coder/websocket"
	"github.com/sysblocks/sysblocks/wsregistry/gateway"
)

const secret = "bench secret of at least 16 bytes"

func main() {
	role := flag.String("role", "", "internal: server or client")
	impl := flag.String("impl", "", "internal: server implementation")
	n := flag.Int("n", 10000, "connections to open")
	servers := flag.Int("servers", 1, "gateway processes to spread the connections over")
	perClient := flag.Int("per-client", 15000, "connections per client process")
	impls := flag.String("impls", "gateway,pump", "implementations to measure, comma-separated")
	addrs := flag.String("addrs", "", "internal: server addresses for a client")
	hold := flag.Duration("hold", 0, "time to hold the connections idle before measuring (heartbeats keep running)")
	flag.Parse()
	log.SetFlags(0)
	fdLimit := raiseFDLimit()
	switch *role {
	case "server":
		serve(*impl)
	case "client":
		dialAll(strings.Split(*addrs, ","), *n)
	default:
		fmt.Printf("conns: n=%d servers=%d RLIMIT_NOFILE=%d GOMAXPROCS=%d %s\n", *n, *servers, fdLimit, runtime.GOMAXPROCS(0), runtime.Version())
		if per := (*n + *servers - 1) / *servers; uint64(per)+64 > fdLimit {
			log.Fatalf("conns: %d connections per server process exceed RLIMIT_NOFILE %d: use -servers %d", per, fdLimit, (uint64(*n)+fdLimit-65)/(fdLimit-64))
		}
		var rows []result
		for _, name := range strings.Split(*impls, ",") {
			r, err := measure(name, *n, *servers, *perClient, *hold)
			if err != nil {
				log.Fatalf("conns: %s: %v", name, err)
			}
			rows = append(rows, r)
		}
		report(rows)
	}
}

// raiseFDLimit raises the soft RLIMIT_NOFILE to the hard limit and returns it.
func raiseFDLimit() uint64 {
	var l syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l); err != nil {
		log.Fatal(err)
	}
	l.Cur = l.Max
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &l); err != nil {
		log.Fatal(err)
	}
	return l.Cur
}

// mem is one reading of a server process.
type mem struct {
	Heap       uint64 // live heap objects after a GC
	Stacks     uint64 // goroutine stacks
	GoTotal    uint64 // memory mapped by the Go runtime and not released
	RSS        uint64
	Goroutines int
	Open       int64
}

func readMem(open int64) mem {
	runtime.GC()
	runtime.GC()
	debug.FreeOSMemory()
	s := []metrics.Sample{
		{Name: "/memory/classes/heap/objects:bytes"},
		{Name: "/memory/classes/heap/stacks:bytes"},
		{Name: "/memory/classes/total:bytes"},
		{Name: "/memory/classes/heap/released:bytes"},
	}
	metrics.Read(s)
	return mem{
		Heap:       s[0].Value.Uint64(),
		Stacks:     s[1].Value.Uint64(),
		GoTotal:    s[2].Value.Uint64() - s[3].Value.Uint64(),
		RSS:        rss(),
		Goroutines: runtime.NumGoroutine(),
		Open:       open,
	}
}

func rss() uint64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for line := range strings.Lines(string(b)) {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseUint(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// serve runs one server implementation. It prints its address and a
// baseline reading, then a reading each time a line arrives on stdin.
func serve(impl string) {
	tokens, err := gateway.NewTokens([]byte(secret), time.Hour)
	if err != nil {
		log.Fatal(err)
	}
	var h http.Handler
	var open func() int64
	switch impl {
	case "gateway":
		gw, err := gateway.New(tokens, idle{}, nil)
		if err != nil {
			log.Fatal(err)
		}
		h, open = gw, func() int64 { return gw.Stats().Open }
	case "pump":
		p := &pump{auth: tokens}
		h, open = p, p.open.Load
	default:
		log.Fatalf("unknown implementation %q", impl)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, ErrorLog: log.New(io.Discard, "", 0)}
	go srv.Serve(ln)
	enc := json.NewEncoder(os.Stdout)
	fmt.Println(ln.Addr())
	enc.Encode(readMem(0))
	// Each line on stdin is the number of connections the clients hold; the
	// server may still be finishing the last upgrades, so wait for them.
	sc := bufio.NewScanner(os.Stdin)
	for sc.Scan() {
		want, _ := strconv.ParseInt(sc.Text(), 10, 64)
		for deadline := time.Now().Add(30 * time.Second); open() < want && time.Now().Before(deadline); {
			time.Sleep(50 * time.Millisecond)
		}
		enc.Encode(readMem(open()))
	}
}

// idle is a Handler that does nothing: the connections are idle.
type idle struct{}

func (idle) Open(context.Context, *gateway.Conn) error            { return nil }
func (idle) Message(context.Context, *gateway.Conn, []byte) error { return nil }
func (idle) Close(*gateway.Conn, error)                           {}

// pump is the baseline: per connection a reader goroutine (the handler's),
// a writer goroutine selecting on a buffered send channel and a ping ticker.
type pump struct {
	auth gateway.Authenticator
	open atomic.Int64
}

func (p *pump) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if _, err := p.auth.Authenticate(r); err != nil {
		http.Error(w, "unauthorized", http.StatusUnauthorized)
		return
	}
	c, err := websocket.Accept(w, r, nil)
	if err != nil {
		return
	}
	defer c.CloseNow()
	c.SetReadLimit(32 << 10)
	p.open.Add(1)
	defer p.open.Add(-1)
	send := make(chan []byte, 64)
	done := make(chan struct{})
	defer close(done)
	go func() {
		t := time.NewTicker(25 * time.Second)
		defer t.Stop()
		for {
			select {
			case m := <-send:
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				err := c.Write(ctx, websocket.MessageText, m)
				cancel()
				if err != nil {
					c.CloseNow()
					return
				}
			case <-t.C:
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				err := c.Ping(ctx)
				cancel()
				if err != nil {
					c.CloseNow()
					return
				}
			case <-done:
				return
			}
		}
	}()
	for {
		if _, _, err := c.Read(r.Context()); err != nil {
			return
		}
	}
}

// dialAll opens n connections spread over addrs, answers pings on them,
// prints "ready <n>" and holds them until stdin closes.
func dialAll(addrs []string, n int) {
	tokens, err := gateway.NewTokens([]byte(secret), time.Hour)
	if err != nil {
		log.Fatal(err)
	}
	var next, failed atomic.Int64
	var wg sync.WaitGroup
	ctx := context.Background()
	var mu sync.Mutex
	var conns []*websocket.Conn
	for range 32 {
		wg.Go(func() {
			for {
				i := next.Add(1) - 1
				if i >= int64(n) {
					return
				}
				url := fmt.Sprintf("ws://%s/?token=%s", addrs[int(i)%len(addrs)], tokens.Issue("u"+strconv.FormatInt(i, 36), "d"))
				var c *websocket.Conn
				for attempt := 0; ; attempt++ {
					dctx, cancel := context.WithTimeout(ctx, 30*time.Second)
					c, _, err = websocket.Dial(dctx, url, nil)
					cancel()
					if err == nil || attempt == 5 {
						break
					}
					time.Sleep(100 * time.Millisecond)
				}
				if err != nil {
					failed.Add(1)
					log.Printf("client: dial: %v", err)
					continue
				}
				c.CloseRead(ctx) // answers the server's pings
				mu.Lock()
				conns = append(conns, c)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	fmt.Printf("ready %d %d\n", len(conns), failed.Load())
	io.Copy(io.Discard, os.Stdin)
}

type result struct {
	impl      string
	n         int
	servers   int
	base, got mem
	connect   time.Duration
}

type child struct {
	cmd *exec.Cmd
	in  io.WriteCloser
	out *bufio.Reader
}

func start(args ...string) (*child, error) {
	cmd := exec.Command(os.Args[0], args...)
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	return &child{cmd: cmd, in: in, out: bufio.NewReader(out)}, nil
}

func (c *child) line() (string, error) {
	s, err := c.out.ReadString('\n')
	return strings.TrimSpace(s), err
}

func (c *child) stop() {
	c.in.Close()
	c.cmd.Process.Kill()
	c.cmd.Wait()
}

// measure runs one implementation in `servers` processes with n connections.
func measure(impl string, n, servers, perClient int, hold time.Duration) (result, error) {
	r := result{impl: impl, n: n, servers: servers}
	var srvs []*child
	var clients []*child
	defer func() {
		for _, c := range append(clients, srvs...) {
			c.stop()
		}
	}()
	var addrs []string
	for range servers {
		s, err := start("-role=server", "-impl="+impl)
		if err != nil {
			return r, err
		}
		srvs = append(srvs, s)
		addr, err := s.line()
		if err != nil {
			return r, err
		}
		addrs = append(addrs, addr)
		var m mem
		if err := readJSON(s, &m); err != nil {
			return r, err
		}
		r.base = add(r.base, m)
	}
	began := time.Now()
	for lo := 0; lo < n; lo += perClient {
		k := min(perClient, n-lo)
		// Rotate the addresses so that every server gets its share.
		rot := append(append([]string(nil), addrs[lo%len(addrs):]...), addrs[:lo%len(addrs)]...)
		c, err := start("-role=client", "-n="+strconv.Itoa(k), "-addrs="+strings.Join(rot, ","))
		if err != nil {
			return r, err
		}
		clients = append(clients, c)
	}
	held := 0
	for _, c := range clients {
		s, err := c.line()
		if err != nil {
			return r, fmt.Errorf("client: %w", err)
		}
		var k, failed int
		if _, err := fmt.Sscanf(s, "ready %d %d", &k, &failed); err != nil {
			return r, fmt.Errorf("client said %q", s)
		}
		held += k
	}
	r.connect = time.Since(began)
	if held != n {
		return r, fmt.Errorf("clients hold %d of %d connections", held, n)
	}
	time.Sleep(hold)
	for i, s := range srvs {
		share := n / servers
		if i < n%servers {
			share++
		}
		fmt.Fprintln(s.in, share)
		var m mem
		if err := readJSON(s, &m); err != nil {
			return r, err
		}
		r.got = add(r.got, m)
	}
	if r.got.Open != int64(n) {
		// A connection can end between the clients' report and the reading
		// (a heartbeat that timed out on the loaded machine): divide by what
		// is held, and say so.
		log.Printf("conns: %s: servers hold %d of the %d connections the clients opened", impl, r.got.Open, n)
	}
	if r.got.Open <= 0 {
		return r, errors.New("no connection held")
	}
	return r, nil
}

func readJSON(c *child, v any) error {
	s, err := c.line()
	if err != nil {
		return err
	}
	if err := json.Unmarshal([]byte(s), v); err != nil {
		return errors.New("server said " + strconv.Quote(s))
	}
	return nil
}

func add(a, b mem) mem {
	return mem{a.Heap + b.Heap, a.Stacks + b.Stacks, a.GoTotal + b.GoTotal, a.RSS + b.RSS, a.Goroutines + b.Goroutines, a.Open + b.Open}
}

func per(after, before uint64, n int64) float64 {
	return (float64(after) - float64(before)) / float64(n) / 1024
}

func report(rows []result) {
	fmt.Printf("\n| impl | servers | held | connect | heap KiB/conn | stacks KiB/conn | Go total KiB/conn | RSS KiB/conn | goroutines/conn |\n")
	fmt.Printf("|---|---|---|---|---|---|---|---|---|\n")
	for _, r := range rows {
		fmt.Printf("| %s | %d | %d | %.1fs | %.2f | %.2f | %.2f | %.2f | %.2f |\n", r.impl, r.servers, r.got.Open, r.connect.Seconds(),
			per(r.got.Heap, r.base.Heap, r.got.Open), per(r.got.Stacks, r.base.Stacks, r.got.Open), per(r.got.GoTotal, r.base.GoTotal, r.got.Open),
			per(r.got.RSS, r.base.RSS, r.got.Open), float64(r.got.Goroutines-r.base.Goroutines)/float64(r.got.Open))
	}
	if len(rows) > 1 {
		b := rows[len(rows)-1]
		for _, r := range rows[:len(rows)-1] {
			fmt.Printf("%s / %s: RSS per connection %.2fx, Go total %.2fx\n", r.impl, b.impl,
				per(r.got.RSS, r.base.RSS, r.got.Open)/per(b.got.RSS, b.base.RSS, b.got.Open),
				per(r.got.GoTotal, r.base.GoTotal, r.got.Open)/per(b.got.GoTotal, b.base.GoTotal, b.got.Open))
		}
	}
}
