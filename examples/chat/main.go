// Command chat is the chat application of the design notes (WhatsApp,
// Messenger): a web page where users log in and chat one-to-one and in
// groups, with delivered and read receipts, last seen and media, served
// by gateway processes that share the registry, the inbox and the group
// topic.
//
//	go run ./examples/chat                                   # memory mode, one process
//	go run ./examples/chat -backend=real -addr=:8081 -host=gw1 -peers=http://localhost:8082
//	go run ./examples/chat -backend=real -addr=:8082 -host=gw2 -peers=http://localhost:8081
//
// See README.md.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/sysblocks/sysblocks/examples/chat/backends"
	"github.com/sysblocks/sysblocks/internal/ops"
	"github.com/sysblocks/sysblocks/wsregistry/gateway"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], nil); err != nil {
		fmt.Fprintln(os.Stderr, "chat:", err)
		os.Exit(1)
	}
}

// run serves until ctx ends. ready, if set, receives the listening address.
func run(ctx context.Context, args []string, ready chan<- string) error {
	env := backends.EnvFromOS()
	fs := flag.NewFlagSet("chat", flag.ContinueOnError)
	var (
		addr      = fs.String("addr", ":8080", "listen address")
		backend   = fs.String("backend", "mem", "mem (one process, no servers) or real (Redis, MariaDB, Kafka, Cassandra)")
		host      = fs.String("host", "", "this gateway's name in the registry (default: the hostname and port)")
		peers     = fs.String("peers", "", "comma-separated base URLs of the other gateways: the page fails over to them, and their pages may open sockets here")
		secret    = fs.String("secret", "change-me-shared-by-all-gateways", "token signing secret, the same on every gateway (at least 16 bytes)")
		mediaDir  = fs.String("media-dir", filepath.Join(os.TempDir(), "sysblocks-chat-media"), "media bucket directory (gocloud.dev/blob fileblob), shared by the gateways")
		rate      = fs.Float64("rate", 20, "messages per second one socket may send before it is disconnected")
		logLevel  = fs.String("log-level", "info", "debug, info, warn or error")
		redisAddr = fs.String("redis-addr", env.RedisAddr, "real mode: Redis (SYSBLOCKS_REDIS_ADDR)")
		mysqlDSN  = fs.String("mysql-dsn", env.MySQLDSN, "real mode: MariaDB DSN (SYSBLOCKS_MYSQL_DSN)")
		cassandra = fs.String("cassandra-hosts", strings.Join(env.CassandraHosts, ","), "real mode: Cassandra hosts (SYSBLOCKS_CASSANDRA_HOSTS)")
		kafka     = fs.String("kafka-brokers", strings.Join(env.KafkaBrokers, ","), "real mode: Kafka brokers (SYSBLOCKS_KAFKA_BROKERS)")
		keyspace  = fs.String("cassandra-keyspace", backends.DefaultKeyspace, "real mode: Cassandra keyspace, created if missing")
		prefix    = fs.String("redis-prefix", backends.DefaultRedisPrefix, "real mode: prefix of Redis keys and channels")
		topic     = fs.String("group-topic", "", "real mode: Kafka topic of group messages (default chat-group-messages)")
		fgroup    = fs.String("fanout-group", "", "real mode: Kafka consumer group of the group handlers")
		seenTopic = fs.String("seen-topic", "", "real mode: Kafka topic of last-seen updates (default chat-last-seen)")
		seenGroup = fs.String("seen-group", "", "real mode: Kafka consumer group writing last seen to Cassandra")
	)
	if err := fs.Parse(args); err != nil {
		return err
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		return fmt.Errorf("-log-level: %w", err)
	}
	o := ops.New("chat")
	o.Logger = slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: level})).With("service", "chat")
	log := o.Logger

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	defer ln.Close()
	if *host == "" {
		hn, _ := os.Hostname()
		*host = fmt.Sprintf("%s-%d", hn, ln.Addr().(*net.TCPAddr).Port)
	}

	settings := backends.Settings{RedisPrefix: *prefix, MediaDir: *mediaDir, GroupTopic: *topic, FanoutGroup: *fgroup,
		SeenTopic: *seenTopic, SeenGroup: *seenGroup}
	var stack *backends.Stack
	switch *backend {
	case "mem", "memory":
		stack, err = backends.Memory(settings)
	case "real":
		dctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
		stack, err = backends.Dial(dctx, backends.Env{RedisAddr: *redisAddr, MySQLDSN: *mysqlDSN,
			CassandraHosts: backends.Split(*cassandra), KafkaBrokers: backends.Split(*kafka), Keyspace: *keyspace}, settings)
		cancel()
	default:
		return fmt.Errorf("-backend %q: want mem or real", *backend)
	}
	if err != nil {
		return err
	}
	defer stack.Close()
	for name, c := range stack.Checks {
		o.AddCheck(name, c)
	}

	var origins []string
	for _, p := range backends.Split(*peers) {
		if u, err := url.Parse(p); err == nil && u.Host != "" {
			origins = append(origins, u.Host)
		}
	}
	node, err := stack.Node(ctx, *host, backends.NodeOptions{
		Secret:  []byte(*secret),
		Gateway: &gateway.Options{Rate: *rate, OriginPatterns: origins},
		Logger:  log,
	})
	if err != nil {
		return err
	}
	o.AddStats("chat_gateway", "Chat gateway counters.", func() map[string]float64 {
		s := node.Service.Stats()
		g := node.Service.Gateway().Stats()
		return map[string]float64{"local": float64(s.Local), "sent": float64(s.Sent), "group_sent": float64(s.GroupSent),
			"receipts": float64(s.Receipts), "bad_frames": float64(s.BadFrames), "delivered": float64(s.Delivered),
			"rate_limited": float64(g.RateLimited), "dropped": float64(g.Dropped)}
	}, "sent", "group_sent", "receipts", "bad_frames", "delivered", "rate_limited", "dropped")

	mux := http.NewServeMux()
	o.Register(mux)
	api := node.Service.Handler()
	mux.Handle("/", o.Instrument("chat", api))
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second,
		ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}

	runCtx, stopRun := context.WithCancel(context.Background())
	defer stopRun()
	runDone := make(chan error, 1)
	go func() { runDone <- node.Run(runCtx) }()
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()
	self := "http://" + ln.Addr().String()
	log.Info("listening", "addr", ln.Addr().String(), "host", *host, "backend", *backend,
		"page", self+"/?gateways="+strings.Join(append([]string{self}, backends.Split(*peers)...), ","))
	if ready != nil {
		ready <- ln.Addr().String()
	}

	select {
	case <-ctx.Done():
	case err = <-serveErr:
	case err = <-runDone:
	}
	log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if serr := node.Service.Shutdown(sctx); serr != nil { // 1001: clients move to another gateway
		err = errors.Join(err, serr)
	}
	if serr := srv.Shutdown(sctx); serr != nil {
		err = errors.Join(err, serr)
	}
	stopRun()
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}
