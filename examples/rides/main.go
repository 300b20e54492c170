// Command rides is the ride-hailing service of the design notes (Ola/Uber):
// a rider API (cabs nearby, ETA and price with surge, book, cancel), a
// driver API over websocket (location pings, offers, accept), a trip
// service (current trips, archived to a history), a location history and a
// live map.
//
//	go run ./examples/rides                  # memory mode, no servers
//	go run ./examples/rides -backend=real    # Redis, MariaDB, Cassandra, Kafka from SYSBLOCKS_*
//
// See README.md for the API.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/sysblocks/sysblocks/examples/rides/backends"
	"github.com/sysblocks/sysblocks/examples/rides/rides"
	"github.com/sysblocks/sysblocks/geogrid"
	"github.com/sysblocks/sysblocks/internal/ops"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "rides:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string) error {
	env := backends.EnvFromOS()
	fs := flag.NewFlagSet("rides", flag.ContinueOnError)
	var (
		addr         = fs.String("addr", ":8080", "listen address")
		backend      = fs.String("backend", "memory", "memory (no servers) or real (Redis, MariaDB, Cassandra, Kafka)")
		logLevel     = fs.String("log-level", "info", "debug, info, warn or error")
		ttl          = fs.Duration("ttl", 30*time.Second, "how long a driver's last ping keeps it on the map and eligible")
		offerTimeout = fs.Duration("offer-timeout", 15*time.Second, "how long a broadcast offer stays open")
		rounds       = fs.Int("rounds", 3, "broadcast rounds before a trip is cancelled as no_driver")
		k            = fs.Int("k", 10, "drivers per broadcast round")
		radius       = fs.Float64("radius", 3000, "dispatch radius in meters")
		speed        = fs.Float64("speed", 30, "straight-line ETA model: city speed in km/h")
		archiveAge   = fs.Duration("archive-age", rides.DefaultArchiveAge, "how long ended trips stay in the current-trips store before the archiver moves them to the archive")
		archiveEvery = fs.Duration("archive-interval", rides.DefaultArchiveInterval, "period of the archiver (and of the check for lost dispatches)")
		mapLat       = fs.Float64("map-lat", rides.DefaultMapLat, "centre of the map page")
		mapLng       = fs.Float64("map-lng", rides.DefaultMapLng, "centre of the map page")
		redisAddr    = fs.String("redis-addr", env.RedisAddr, "real mode: Redis for positions and claims (SYSBLOCKS_REDIS_ADDR)")
		mysqlDSN     = fs.String("mysql-dsn", env.MySQLDSN, "real mode: MariaDB/MySQL DSN for current trips (SYSBLOCKS_MYSQL_DSN)")
		cassandra    = fs.String("cassandra-hosts", strings.Join(env.CassandraHosts, ","), "real mode: Cassandra hosts (SYSBLOCKS_CASSANDRA_HOSTS)")
		kafka        = fs.String("kafka-brokers", strings.Join(env.KafkaBrokers, ","), "real mode: Kafka brokers (SYSBLOCKS_KAFKA_BROKERS)")
		keyspace     = fs.String("cassandra-keyspace", backends.DefaultKeyspace, "real mode: Cassandra keyspace, created if missing")
		redisPrefix  = fs.String("redis-prefix", backends.DefaultRedisPrefix, "real mode: prefix of the grid's Redis keys")
	)
	if err := fs.Parse(args); err != nil {
		return err
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		return fmt.Errorf("-log-level: %w", err)
	}
	o := ops.New("rides")
	o.Logger = slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: level})).With("service", "rides")
	log := o.Logger

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	defer ln.Close()

	settings := backends.Settings{RedisPrefix: *redisPrefix}
	var stack *backends.Stack
	switch *backend {
	case "memory":
		stack, err = backends.Memory(settings)
	case "real":
		dctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
		stack, err = backends.Dial(dctx, backends.Env{
			RedisAddr: *redisAddr, MySQLDSN: *mysqlDSN,
			CassandraHosts: backends.Split(*cassandra), KafkaBrokers: backends.Split(*kafka), Keyspace: *keyspace,
		}, settings)
		cancel()
	default:
		return fmt.Errorf("-backend %q: want memory or real", *backend)
	}
	if err != nil {
		return err
	}
	defer stack.Close()

	cfg := rides.Config{
		TTL: *ttl,
		Dispatch: geogrid.DispatchOptions{
			Radius: *radius, K: *k, OfferTimeout: *offerTimeout, Rounds: *rounds,
		},
		ETA:        geogrid.StraightLine{Speed: *speed / 3.6},
		ArchiveAge: *archiveAge, ArchiveInterval: *archiveEvery, MapLat: *mapLat, MapLng: *mapLng,
		Logger: log, Ops: o,
	}
	stack.Apply(&cfg)
	svc, err := rides.New(cfg)
	if err != nil {
		return err
	}

	srv := &http.Server{
		Handler:           svc.Handler(),
		ReadHeaderTimeout: 5 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	runCtx, stopRun := context.WithCancel(context.Background())
	defer stopRun()
	runDone := make(chan struct{})
	go func() {
		defer close(runDone)
		_ = svc.Run(runCtx)
	}()
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()
	log.Info("listening", "addr", ln.Addr().String(), "backend", *backend, "map", "http://"+ln.Addr().String()+"/map")

	select {
	case <-ctx.Done():
	case err = <-serveErr:
	}
	log.Info("shutting down")
	stopRun() // closes driver websockets (1001) and stops dispatches
	<-runDone
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if serr := srv.Shutdown(sctx); serr != nil {
		err = errors.Join(err, serr)
	}
	if cerr := stack.Close(); cerr != nil {
		err = errors.Join(err, cerr)
	}
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	if err == nil {
		log.Info("stopped")
	}
	return err
}
