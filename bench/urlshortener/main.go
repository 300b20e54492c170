// Command urlshortener measures the redirect path of the URL shortener
// example against a bare net/http handler that writes a fixed 302, the
// upper limit of any redirect handler on the same server stack.
//
// Both handlers are served on loopback by net/http and driven by the same
// in-process load generator in the same run: a fixed number of keep-alive
// connections, each sending one GET at a time (HTTP/1.1, a browser
// User-Agent) and reading the whole response, for a fixed duration. Rounds
// alternate between the handlers, -reps rounds each, so load from other
// processes falls on both alike. It prints, for the median round, requests
// per second and p50 and p99 latency; the ratio service/bare, as the median
// of the ratios of each round to the bare handler's round just before it;
// and requests per CPU second of this process with its ratio, which other
// load on the machine disturbs less than wall-clock throughput.
//
// Memory mode (the default) runs the example exactly as `go run
// ./examples/urlshortener` does: memory link store, membus click events,
// the click consumer counting them, /metrics instrumentation.
//
// With -real it also measures the real setup on the servers named by the
// SYSBLOCKS_* variables: redirects answered from the Redis cache, and
// redirects that read Cassandra on every request (no cache). It creates a
// MariaDB database sdk_bench_urlshortener_<random>, a Cassandra keyspace and
// a Kafka topic of the same name and Redis keys under a random prefix, and
// removes them all at the end.
//
//	cd bench && go run ./urlshortener          # memory mode, about 25 s
//	cd bench && go run ./urlshortener -real    # plus Redis and Cassandra, under 1 min
package main

import (
	"bufio"
	"cmp"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"runtime"
	"runtime/pprof"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	gocql "github.com/apache/cassandra-gocql-driver/v2"
	"github.com/go-sql-driver/mysql"
	"github.com/redis/go-redis/v9"
	"github.com/segmentio/kafka-go"

	"github.com/sysblocks/sysblocks/examples/urlshortener/backends"
	"github.com/sysblocks/sysblocks/examples/urlshortener/shortener"
	"github.com/sysblocks/sysblocks/shortid"
)

var (
	conc     = flag.Int("c", 32, "concurrent keep-alive connections")
	duration = flag.Duration("d", 1500*time.Millisecond, "duration of one round")
	reps     = flag.Int("reps", 7, "rounds per handler; the median is reported")
	nLinks   = flag.Int("links", 1000, "links created and requested in turn")
	realMode = flag.Bool("real", false, "also measure the real setup (Redis cache, Cassandra links, Kafka clicks)")
	cpuProf  = flag.String("cpuprofile", "", "write a CPU profile of the whole run to this file")
)

const (
	target    = "https://example.com/articles/2024/05/a-rather-long-slug-for-a-short-link?utm_source=x"
	userAgent = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
)

func main() {
	flag.Parse()
	log.SetFlags(0)
	if *cpuProf != "" {
		f, err := os.Create(*cpuProf)
		if err != nil {
			log.Fatal(err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			log.Fatal(err)
		}
		defer pprof.StopCPUProfile()
	}
	codec, err := shortid.New(7, []byte("bench key"), nil)
	if err != nil {
		log.Fatal(err)
	}
	bare := serve(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Location", target)
		w.WriteHeader(http.StatusFound)
	}))
	defer bare.close()

	mem, err := backends.Memory(backends.Settings{Limit: codec.Space()})
	if err != nil {
		log.Fatal(err)
	}
	svc := runService(codec, mem, nil)
	defer svc.close()

	fmt.Printf("redirects: %d connections, %v rounds, median of %d; GOMAXPROCS=%d\n\n", *conc, *duration, *reps, maxprocs())
	targets := []*server{bare, svc.server}
	names := []string{"bare net/http 302", "urlshortener, memory"}
	var r *realSetup
	if *realMode {
		r, err = setupReal(codec)
		if err != nil {
			log.Fatal(err)
		}
		defer r.cleanup()
		targets = append(targets, r.cached.server, r.uncached.server)
		names = append(names, "urlshortener, Redis cache hit", "urlshortener, Cassandra read (no cache)")
	}
	results := measure(targets)
	fmt.Printf("%-40s %9s %7s %10s %10s %11s %7s\n", "handler", "req/s", "ratio", "p50", "p99", "req/cpu-s", "ratio")
	for i, res := range results {
		fmt.Printf("%-40s %9.0f %7.2f %10v %10v %11.0f %7.2f\n", names[i], res.rps, res.ratio,
			res.p50, res.p99, res.perCPU, res.cpuRatio)
	}
	fmt.Println("\nratio: against the bare handler's round just before, median over rounds.")
	fmt.Println("req/cpu-s: requests per CPU second of this process (server, load generator, click pipeline);")
	fmt.Println("it does not count the CPU of Redis, Cassandra or Kafka, and is steadier than req/s on a busy machine.")
	st := svc.svc.Stats()
	fmt.Printf("\nmemory mode clicks: published %d, dropped %d, counted so far %d\n",
		st.Batch.Published, st.Batch.Dropped, st.ClicksCounted)
	if r != nil {
		c := r.cached.svc.Stats()
		fmt.Printf("real mode cache: hits %d, misses %d, store errors %d; clicks published %d, dropped %d, counted so far %d\n",
			c.Cache.Hits, c.Cache.Misses, c.Cache.StoreErrors, c.Batch.Published, c.Batch.Dropped, c.ClicksCounted)
	}
}

func maxprocs() int { return runtime.GOMAXPROCS(0) }

// server is a handler on a loopback listener with the codes to request.
type server struct {
	addr  string
	codes []string
	srv   *http.Server
}

func serve(h http.Handler) *server {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	s := &server{addr: ln.Addr().String(), codes: []string{"abcdefg"}, srv: &http.Server{Handler: h, ErrorLog: log.New(io.Discard, "", 0)}}
	go func() { _ = s.srv.Serve(ln) }()
	return s
}

func (s *server) close() { _ = s.srv.Close() }

// service is a running shortener.Service with links created.
type service struct {
	*server
	svc  *shortener.Service
	stop func()
}

func runService(codec *shortid.Codec, st *backends.Stack, mutate func(*shortener.Config)) *service {
	cfg := shortener.Config{Codec: codec, BaseURL: "http://sho.rt", CreateRate: -1}
	st.Apply(&cfg)
	if mutate != nil {
		mutate(&cfg)
	}
	svc, err := shortener.New(cfg)
	if err != nil {
		log.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = svc.Run(ctx) }()
	s := &service{server: serve(svc.Handler()), svc: svc}
	s.stop = func() { cancel(); <-done; _ = st.Close() }
	s.codes = make([]string, *nLinks)
	for i := range s.codes {
		l, err := svc.Create(ctx, shortener.CreateRequest{URL: target})
		if err != nil {
			log.Fatal(err)
		}
		s.codes[i] = l.Code
	}
	return s
}

func (s *service) close() { s.server.close(); s.stop() }

type result struct {
	rps    float64 // requests per second of wall-clock time
	perCPU float64 // requests per second of CPU time used by this process
	// ratio and cpuRatio compare rps and perCPU with the baseline, round by
	// round (median over rounds).
	ratio, cpuRatio float64
	p50, p99        time.Duration
}

// measure runs reps rounds of every server, alternating, and returns for
// each the median round by requests per second, with its ratios to the
// first server taken round by round: the ratio of a round is against the
// first server's round just before it, and the median of those ratios is
// reported, which load from other processes disturbs less than a ratio of
// medians.
func measure(servers []*server) []result {
	runs := make([][]result, len(servers))
	for _, s := range servers {
		load(s, *duration/5) // warm-up: connections, caches, JIT of the servers
	}
	for range *reps {
		for i, s := range servers {
			runs[i] = append(runs[i], load(s, *duration))
		}
	}
	out := make([]result, len(servers))
	for i, rs := range runs {
		var ratios, cpuRatios []float64
		for k, r := range rs {
			ratios = append(ratios, r.rps/runs[0][k].rps)
			cpuRatios = append(cpuRatios, r.perCPU/runs[0][k].perCPU)
		}
		byRPS := slices.Clone(rs)
		slices.SortFunc(byRPS, func(a, b result) int { return cmp.Compare(a.rps, b.rps) })
		out[i] = byRPS[len(byRPS)/2]
		out[i].ratio, out[i].cpuRatio = median(ratios), median(cpuRatios)
	}
	return out
}

func median(v []float64) float64 {
	slices.Sort(v)
	return v[len(v)/2]
}

// load drives s with *conc connections for d and measures every request.
func load(s *server, d time.Duration) result {
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		all  []time.Duration
		errs int
	)
	cpu0 := cpuTime()
	start := time.Now()
	deadline := start.Add(d)
	for w := range *conc {
		wg.Go(func() {
			lat, bad := worker(s, w, deadline)
			mu.Lock()
			all = append(all, lat...)
			errs += bad
			mu.Unlock()
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	cpu := cpuTime() - cpu0
	if errs > 0 {
		log.Fatalf("%s: %d failed requests", s.addr, errs)
	}
	slices.Sort(all)
	return result{
		rps:    float64(len(all)) / elapsed.Seconds(),
		perCPU: float64(len(all)) / cpu.Seconds(),
		p50:    all[len(all)/2].Round(time.Microsecond),
		p99:    all[len(all)*99/100].Round(time.Microsecond),
	}
}

// worker sends requests on one keep-alive connection until deadline.
func worker(s *server, w int, deadline time.Time) ([]time.Duration, int) {
	conn, err := net.Dial("tcp", s.addr)
	if err != nil {
		log.Fatal(err)
	}
	defer conn.Close()
	br := bufio.NewReader(conn)
	bw := bufio.NewWriter(conn)
	lat := make([]time.Duration, 0, 1<<16)
	bad := 0
	for i := w; ; i += *conc {
		t0 := time.Now()
		if !t0.Before(deadline) {
			return lat, bad
		}
		code := s.codes[i%len(s.codes)]
		bw.WriteString("GET /" + code + " HTTP/1.1\r\nHost: sho.rt\r\nUser-Agent: " + userAgent + "\r\nReferer: https://news.example/\r\n\r\n")
		if err := bw.Flush(); err != nil {
			log.Fatal(err)
		}
		res, err := http.ReadResponse(br, nil)
		if err != nil {
			log.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
		lat = append(lat, time.Since(t0))
		if res.StatusCode != http.StatusFound || res.Header.Get("Location") != target {
			bad++
		}
	}
}

// realSetup is the real stack twice: with the Redis cache and without.
type realSetup struct {
	cached, uncached *service
	cleanup          func()
}

func setupReal(codec *shortid.Codec) (*realSetup, error) {
	env := backends.EnvFromOS()
	if env.MySQLDSN == "" || env.RedisAddr == "" || len(env.CassandraHosts) == 0 || len(env.KafkaBrokers) == 0 {
		return nil, fmt.Errorf("-real needs SYSBLOCKS_MYSQL_DSN, SYSBLOCKS_REDIS_ADDR, SYSBLOCKS_CASSANDRA_HOSTS and SYSBLOCKS_KAFKA_BROKERS")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	name := "sdk_bench_urlshortener_" + randHex()
	var undo []func()
	cleanup := func() {
		for i := len(undo) - 1; i >= 0; i-- {
			undo[i]()
		}
	}
	fail := func(err error) (*realSetup, error) { cleanup(); return nil, err }

	// MariaDB: a database of our own.
	cfg, err := mysql.ParseDSN(env.MySQLDSN)
	if err != nil {
		return nil, err
	}
	cfg.ParseTime = true
	admin := cfg.Clone()
	admin.DBName = ""
	root, err := sql.Open("mysql", admin.FormatDSN())
	if err != nil {
		return nil, err
	}
	if _, err := root.ExecContext(ctx, "CREATE DATABASE `"+name+"`"); err != nil {
		root.Close()
		return nil, err
	}
	undo = append(undo, func() { root.Exec("DROP DATABASE IF EXISTS `" + name + "`"); root.Close() })
	cfg.DBName = name
	db, err := sql.Open("mysql", cfg.FormatDSN())
	if err != nil {
		return fail(err)
	}
	undo = append(undo, func() { db.Close() })

	// Redis: keys under a prefix of our own.
	rdb := redis.NewClient(&redis.Options{Addr: env.RedisAddr, PoolSize: 4 * *conc})
	prefix := "sbbench:urlshortener:" + randHex() + ":"
	undo = append(undo, func() { deleteKeys(rdb, prefix); rdb.Close() })

	// Cassandra: a keyspace of our own.
	sess, err := backends.CassandraSession(ctx, env.CassandraHosts, name)
	if err != nil {
		return fail(err)
	}
	undo = append(undo, func() {
		sess.Close()
		dropKeyspace(env.CassandraHosts, name)
	})

	// Kafka: a topic of our own.
	undo = append(undo, func() { deleteTopic(env.KafkaBrokers, name) })

	clients := backends.Clients{MySQL: db, Redis: rdb, Cassandra: sess, Brokers: env.KafkaBrokers}
	settings := backends.Settings{Limit: codec.Space(), Topic: name, Group: name, RedisPrefix: prefix}
	st1, err := backends.Real(ctx, clients, settings)
	if err != nil {
		return fail(err)
	}
	cached := runService(codec, st1, nil)
	undo = append(undo, cached.close)

	settings.Namespace = "bench.uncached"
	st2, err := backends.Real(ctx, clients, settings)
	if err != nil {
		return fail(err)
	}
	uncached := runService(codec, st2, func(c *shortener.Config) {
		c.Cache = nil         // every redirect reads Cassandra
		c.ClickReceiver = nil // one consumer is enough
	})
	undo = append(undo, uncached.close)
	return &realSetup{cached: cached, uncached: uncached, cleanup: cleanup}, nil
}

// cpuTime returns the user and system CPU time used by this process so
// far: server, load generator and background jobs alike.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		log.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func randHex() string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func deleteKeys(rdb *redis.Client, prefix string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	iter := rdb.Scan(ctx, 0, prefix+"*", 1000).Iterator()
	var keys []string
	for iter.Next(ctx) {
		keys = append(keys, iter.Val())
	}
	for len(keys) > 0 {
		n := min(len(keys), 500)
		rdb.Del(ctx, keys[:n]...)
		keys = keys[n:]
	}
}

func dropKeyspace(hosts []string, ks string) {
	c := gocql.NewCluster(hosts...)
	c.Timeout = time.Minute
	s, err := c.CreateSession()
	if err != nil {
		fmt.Fprintln(os.Stderr, "drop keyspace:", err)
		return
	}
	defer s.Close()
	if err := s.Query(`DROP KEYSPACE IF EXISTS ` + ks).Exec(); err != nil {
		fmt.Fprintln(os.Stderr, "drop keyspace:", err)
	}
}

func deleteTopic(brokers []string, topic string) {
	tr := &kafka.Transport{}
	defer tr.CloseIdleConnections()
	c := &kafka.Client{Addr: kafka.TCP(brokers...), Transport: tr}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := c.DeleteTopics(ctx, &kafka.DeleteTopicsRequest{Topics: []string{topic}}); err != nil && !strings.Contains(err.Error(), "unknown topic") {
		fmt.Fprintln(os.Stderr, "delete topic:", err)
	}
}
