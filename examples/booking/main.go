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
	"net"
	"time"

	"github.com/sysblocks/sysblocks/archive"
	"github.com/sysblocks/sysblocks/examples/booking/backends"
	"github.com/sysblocks/sysblocks/examples/booking/booking"
	"github.com/sysblocks/sysblocks/internal/dial"
	"github.com/sysblocks/sysblocks/internal/ops"
	"github.com/sysblocks/sysblocks/reservation"
)

func main() { ops.Main("booking", run) }

func run(ctx context.Context, args []string) error {
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
		redisPrefix = fs.String("redis-prefix", backends.DefaultRedisPrefix, "real mode: prefix of every Redis key")
		hotelTopic  = fs.String("hotel-topic", booking.DefaultHotelTopic, "topic of hotel change events")
		bookTopic   = fs.String("booking-topic", booking.DefaultBookingTopic, "topic of booking events")
		viewGroup   = fs.String("view-group", backends.DefaultViewGroup, "real mode: Kafka consumer group invalidating management views")
		searchGroup = fs.String("search-group", "", "real mode: Kafka consumer group of this process's search index (default booking-search-<host>)")
	)
	servers := dial.AddFlags(fs, backends.DefaultKeyspace, dial.Usage{})
	if err := fs.Parse(args); err != nil {
		return err
	}
	o, err := ops.Setup("booking", *logLevel)
	if err != nil {
		return err
	}
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
	stack, err := dial.Backend(ctx, *backend, "memory",
		func() (*backends.Stack, error) { return backends.Memory(settings) },
		func(ctx context.Context) (*backends.Stack, error) { return backends.Dial(ctx, servers.Env(), settings) })
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

	s := ops.Serve(ln, ops.NewServer(svc.Handler(), log), svc.Run)
	log.Info("listening", "addr", ln.Addr().String(), "backend", *backend)

	err = s.WaitOrRun(ctx)
	log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), ops.ShutdownTimeout)
	defer cancel()
	err = errors.Join(err, s.Shutdown(sctx), s.StopRun(), stack.Close())
	return ops.Stopped(log, err)
}
