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
	"path/filepath"
	"strings"
	"time"

	"github.com/sysblocks/sysblocks/examples/chat/backends"
	"github.com/sysblocks/sysblocks/internal/dial"
	"github.com/sysblocks/sysblocks/internal/ops"
	"github.com/sysblocks/sysblocks/wsregistry/gateway"
)

func main() {
	ops.Main("chat", func(ctx context.Context, args []string) error { return run(ctx, args, nil) })
}

// run serves until ctx ends. ready, if set, receives the listening address.
func run(ctx context.Context, args []string, ready chan<- string) error {
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
		prefix    = fs.String("redis-prefix", backends.DefaultRedisPrefix, "real mode: prefix of Redis keys and channels")
		topic     = fs.String("group-topic", "", "real mode: Kafka topic of group messages (default chat-group-messages)")
		fgroup    = fs.String("fanout-group", "", "real mode: Kafka consumer group of the group handlers")
		seenTopic = fs.String("seen-topic", "", "real mode: Kafka topic of last-seen updates (default chat-last-seen)")
		seenGroup = fs.String("seen-group", "", "real mode: Kafka consumer group writing last seen to Cassandra")
	)
	servers := dial.AddFlags(fs, backends.DefaultKeyspace, dial.Usage{MySQL: "MariaDB DSN"})
	if err := fs.Parse(args); err != nil {
		return err
	}
	o, err := ops.Setup("chat", *logLevel)
	if err != nil {
		return err
	}
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
	stack, err := dial.Backend(ctx, *backend, "mem",
		func() (*backends.Stack, error) { return backends.Memory(settings) },
		func(ctx context.Context) (*backends.Stack, error) { return backends.Dial(ctx, servers.Env(), settings) })
	if err != nil {
		return err
	}
	defer stack.Close()
	o.AddChecks(stack.Checks)

	var origins []string
	for _, p := range dial.Split(*peers) {
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

	s := ops.Serve(ln, srv, node.Run)
	self := "http://" + ln.Addr().String()
	log.Info("listening", "addr", ln.Addr().String(), "host", *host, "backend", *backend,
		"page", self+"/?gateways="+strings.Join(append([]string{self}, dial.Split(*peers)...), ","))
	if ready != nil {
		ready <- ln.Addr().String()
	}

	err = s.WaitOrRun(ctx)
	log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), ops.ShutdownTimeout)
	defer cancel()
	err = errors.Join(err,
		node.Service.Shutdown(sctx), // 1001: clients move to another gateway
		s.Shutdown(sctx))
	s.CancelRun()
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}
