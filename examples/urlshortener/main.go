// Command urlshortener is the URL shortener of the design notes: codes from
// token ranges (tokenrange, shortid), links in memory or Cassandra, a Redis
// cache in front of redirects (cache), and click analytics published in
// batches (events) and counted per code per day by a consumer.
//
//	go run ./examples/urlshortener                  # memory mode, no servers
//	go run ./examples/urlshortener -backend=real    # MariaDB, Cassandra, Redis, Kafka from SYSBLOCKS_*
//
// See README.md for the API.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"time"

	"github.com/sysblocks/sysblocks/examples/urlshortener/backends"
	"github.com/sysblocks/sysblocks/examples/urlshortener/shortener"
	"github.com/sysblocks/sysblocks/internal/dial"
	"github.com/sysblocks/sysblocks/internal/ops"
	"github.com/sysblocks/sysblocks/shortid"
)

// demoKey scrambles codes when no key is given. Any deployment that keeps
// its links must set its own with -code-key or URLSHORTENER_CODE_KEY, and
// never change it.
const demoKey = "sysblocks urlshortener demo key"

func main() { ops.Main("urlshortener", run) }

func run(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("urlshortener", flag.ContinueOnError)
	var (
		addr        = fs.String("addr", ":8080", "listen address")
		backend     = fs.String("backend", "memory", "memory (no servers) or real (MariaDB, Cassandra, Redis, Kafka)")
		baseURL     = fs.String("base-url", "", "public root of short links; empty means http://localhost:<port>")
		ownHosts    = fs.String("own-hosts", "", "comma-separated further host names of this service (links to them are refused)")
		status      = fs.Int("redirect-status", shortener.DefaultRedirectStatus, "redirect status: 301, 302, 307 or 308")
		createRate  = fs.Float64("create-rate", shortener.DefaultCreateRate, "links per second per client address after the burst; negative: no limit")
		createBurst = fs.Int("create-burst", shortener.DefaultCreateBurst, "links a client address may create at once")
		trustProxy  = fs.Bool("trust-proxy", false, "take the client address from the rightmost X-Forwarded-For entry")
		codeLength  = fs.Int("code-length", 7, "length of generated codes (7 serves 2000 links/s for 10 years)")
		codeKey     = fs.String("code-key", os.Getenv("URLSHORTENER_CODE_KEY"), "key that scrambles generated codes (URLSHORTENER_CODE_KEY); keep it stable")
		logLevel    = fs.String("log-level", "info", "debug, info, warn or error")
		topic       = fs.String("kafka-topic", backends.DefaultTopic, "topic of click events, created if missing in real mode")
		group       = fs.String("kafka-group", backends.DefaultGroup, "consumer group that counts clicks")
		redisPrefix = fs.String("redis-prefix", backends.DefaultRedisPrefix, "real mode: prefix of the cache's Redis keys")
	)
	servers := dial.AddFlags(fs, backends.DefaultKeyspace, dial.Usage{Redis: "Redis address for the redirect cache", MySQL: "MariaDB/MySQL DSN for token ranges"})
	if err := fs.Parse(args); err != nil {
		return err
	}
	o, err := ops.Setup("urlshortener", *logLevel)
	if err != nil {
		return err
	}
	log := o.Logger

	key := *codeKey
	if key == "" {
		key = demoKey
		if *backend == "real" {
			log.Warn("no -code-key or URLSHORTENER_CODE_KEY: using the demo key")
		}
	}
	codec, err := shortid.New(*codeLength, []byte(key), nil)
	if err != nil {
		return fmt.Errorf("-code-length: %w", err)
	}

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	defer ln.Close()
	if *baseURL == "" {
		_, port, _ := net.SplitHostPort(ln.Addr().String())
		*baseURL = "http://localhost:" + port
	}

	settings := backends.Settings{Limit: codec.Space(), Topic: *topic, Group: *group, RedisPrefix: *redisPrefix, Logger: log}
	stack, err := dial.Backend(ctx, *backend, "memory",
		func() (*backends.Stack, error) { return backends.Memory(settings) },
		func(ctx context.Context) (*backends.Stack, error) { return backends.Dial(ctx, servers.Env(), settings) })
	if err != nil {
		return err
	}
	defer stack.Close()

	cfg := shortener.Config{
		BaseURL: *baseURL, OwnHosts: dial.Split(*ownHosts), Codec: codec,
		RedirectStatus: *status, CreateRate: *createRate, CreateBurst: *createBurst, TrustProxy: *trustProxy,
		Logger: log, Ops: o,
	}
	stack.Apply(&cfg)
	svc, err := shortener.New(cfg)
	if err != nil {
		return err
	}

	srv := ops.NewServer(svc.Handler(), log)
	srv.ReadTimeout, srv.WriteTimeout = 10*time.Second, 10*time.Second
	s := ops.Serve(ln, srv, svc.Run)
	log.Info("listening", "addr", ln.Addr().String(), "backend", *backend, "base_url", *baseURL)

	err = s.Wait(ctx)
	log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), ops.ShutdownTimeout)
	defer cancel()
	err = errors.Join(err, s.Shutdown(sctx))
	_ = s.StopRun() // the click flusher sends what is queued, then Run returns
	err = errors.Join(err, stack.Close())
	return ops.Stopped(log, err)
}
