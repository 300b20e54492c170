// Command booking is the hotel booking service of the design notes
// (Airbnb / Booking.com): hotel onboarding and updates, fuzzy hotel
// search fed by change events, bookings held while the guest pays and
// booked or released by the payment callback, the users' booking history
// and a management view of current bookings served through a cache.
//
//	go run ./examples/booking                  # memory mode, no servers
//	go run ./examples/booking -backend=real    # MariaDB, Redis, Cassandra, Kafka from SYSBLOCKS_*
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

	"github.com/sysblocks/sysblocks/archive"
	"github.com/sysblocks/sysblocks/examples/booking/backends"
	"github.com/sysblocks/sysblocks/examples/booking/booking"
	"github.com/sysblocks/sysblocks/internal/ops"
	"github.com/sysblocks/sysblocks/reservation"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "booking:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string) error {
	env := backends.EnvFromOS()
	fs := flag.NewFlagSet("booking", flag.ContinueOnError)
	var (
		addr        = fs.String("addr", ":8080", "listen address")
		backend     = fs.String("backend", "memory", "memory (no servers) or real (MariaDB, Redis, Cassandra, Kafka)")
		logLevel    = fs.String("log-level", "info", "debug, info, warn or error")
		holdTTL     = fs.Duration("hold-ttl", reservation.DefaultHoldTTL, "how long rooms are held for payment")
		maxNights   = fs.Int("max-nights", reservation.DefaultMaxNights, "longest stay")
		viewTTL     = fs.Duration("view-ttl", booking.DefaultViewTTL, "longest life of a cached management view")
		viewDays    = fs.Int("view-days", booking.DefaultViewDays, "nights shown by the management view")
		invDays     = fs.Int("inventory-days", booking.DefaultInventoryDays, "nights offered from today when a room is put")
		archiveAge  = fs.Duration("archive-age", archive.DefaultAge, "how long after it ends a booking moves to the history store")
		archiveInt  = fs.Duration("archive-interval", archive.DefaultInterval, "period of the archiver")
		redisAddr   = fs.String("redis-addr", env.RedisAddr, "real mode: Redis (SYSBLOCKS_REDIS_ADDR)")
		mysqlDSN    = fs.String("mysql-dsn", env.MySQLDSN, "real mode: MariaDB/MySQL DSN (SYSBLOCKS_MYSQL_DSN)")
		cassandra   = fs.String("cassandra-hosts", strings.Join(env.CassandraHosts, ","), "real mode: Cassandra hosts (SYSBLOCKS_CASSANDRA_HOSTS)")
		kafka       = fs.String("kafka-brokers", strings.Join(env.KafkaBrokers, ","), "real mode: Kafka brokers (SYSBLOCKS_KAFKA_BROKERS)")
		keyspace    = fs.String("cassandra-keyspace", backends.DefaultKeyspace, "real mode: Cassandra keyspace, created if missing")
		redisPrefix = fs.String("redis-prefix", backends.DefaultRedisPrefix, "real mode: prefix of every Redis key")
		hotelTopic  = fs.String("hotel-topic", booking.DefaultHotelTopic, "topic of hotel change events")
		bookTopic   = fs.String("booking-topic", booking.DefaultBookingTopic, "topic of booking events")
		viewGroup   = fs.String("view-group", backends.DefaultViewGroup, "real mode: Kafka consumer group invalidating management views")
		searchGroup = fs.String("search-group", "", "real mode: Kafka consumer group of this process's search index (default booking-search-<host>)")
	)
	if err := fs.Parse(args); err != nil {
		return err
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		return fmt.Errorf("-log-level: %w", err)
	}
	o := ops.New("booking")
	o.Logger = slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: level})).With("service", "booking")
	log := o.Logger

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	defer ln.Close()

	settings := backends.Settings{
		RedisPrefix: *redisPrefix, SearchGroup: *searchGroup, ViewGroup: *viewGroup,
		HotelTopic: *hotelTopic, BookingTopic: *bookTopic,
	}
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

	cfg := booking.Config{
		ArchiveAge: *archiveAge, ArchiveInterval: *archiveInt,
		ViewTTL: *viewTTL, ViewDays: *viewDays, InventoryDays: *invDays,
		Reservation: reservation.Options{HoldTTL: *holdTTL, MaxNights: *maxNights},
		Logger:      log, Ops: o,
	}
	stack.Apply(&cfg)
	svc, err := booking.New(cfg)
	if err != nil {
		return err
	}

	// The index lives in memory: fill it from the database before serving,
	// so that a restarted process answers searches at once. (Run tries
	// again if this fails.)
	rctx, cancel := context.WithTimeout(ctx, time.Minute)
	if err := svc.Rebuild(rctx); err != nil {
		log.Warn("search index not rebuilt before serving", "err", err)
	}
	cancel()

	srv := &http.Server{
		Handler:           svc.Handler(),
		ReadHeaderTimeout: 5 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	runCtx, stopRun := context.WithCancel(context.Background())
	defer stopRun()
	runErr := make(chan error, 1)
	go func() { runErr <- svc.Run(runCtx) }()
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()
	log.Info("listening", "addr", ln.Addr().String(), "backend", *backend)

	select {
	case <-ctx.Done():
	case err = <-serveErr:
	case err = <-runErr:
		runErr <- err
	}
	log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if serr := srv.Shutdown(sctx); serr != nil && !errors.Is(serr, http.ErrServerClosed) {
		err = errors.Join(err, serr)
	}
	stopRun()
	if rerr := <-runErr; rerr != nil {
		err = errors.Join(err, rerr)
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
