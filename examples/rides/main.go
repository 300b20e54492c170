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
	"net"
	"time"

	"github.com/sysblocks/sysblocks/examples/rides/backends"
	"github.com/sysblocks/sysblocks/examples/rides/rides"
	"github.com/sysblocks/sysblocks/geogrid"
	"github.com/sysblocks/sysblocks/internal/dial"
	"github.com/sysblocks/sysblocks/internal/ops"
)

func main() { ops.Main("rides", run) }

func run(ctx context.Context, args []string) error {
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
		redisPrefix  = fs.String("redis-prefix", backends.DefaultRedisPrefix, "real mode: prefix of the grid's Redis keys")
	)
	servers := dial.AddFlags(fs, backends.DefaultKeyspace, dial.Usage{Redis: "Redis for positions and claims", MySQL: "MariaDB/MySQL DSN for current trips"})
	if err := fs.Parse(args); err != nil {
		return err
	}
	o, err := ops.Setup("rides", *logLevel)
	if err != nil {
		return err
	}
	log := o.Logger

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	defer ln.Close()

	settings := backends.Settings{RedisPrefix: *redisPrefix}
	stack, err := dial.Backend(ctx, *backend, "memory",
		func() (*backends.Stack, error) { return backends.Memory(settings) },
		func(ctx context.Context) (*backends.Stack, error) { return backends.Dial(ctx, servers.Env(), settings) })
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

	s := ops.Serve(ln, ops.NewServer(svc.Handler(), log), svc.Run)
	log.Info("listening", "addr", ln.Addr().String(), "backend", *backend, "map", "http://"+ln.Addr().String()+"/map")

	err = s.Wait(ctx)
	log.Info("shutting down")
	_ = s.StopRun() // closes driver websockets (1001) and stops dispatches
	sctx, cancel := context.WithTimeout(context.Background(), ops.ShutdownTimeout)
	defer cancel()
	err = errors.Join(err, s.Shutdown(sctx), stack.Close())
	return ops.Stopped(log, err)
}
