package rides

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"

	"github.com/sysblocks/sysblocks/archive"
	"github.com/sysblocks/sysblocks/events"
	"github.com/sysblocks/sysblocks/geogrid"
	"github.com/sysblocks/sysblocks/internal/ops"
)

// Defaults of Config fields left at zero.
const (
	DefaultLocationTopic   = "rides.locations"
	DefaultTripTopic       = "rides.trips"
	DefaultArchiveAge      = 10 * time.Minute
	DefaultArchiveInterval = time.Minute
	DefaultMapLat          = 12.9716 // Bengaluru, MG Road
	DefaultMapLng          = 77.5946
	DefaultMapRadius       = 5000.0
	DefaultCabsRadius      = 3000.0
	DefaultCabsK           = 10
	MaxRadius              = 50000.0 // meters, for cabs and the map
	MaxK                   = 100
)

// Config wires a Service. Index, Claims, Trips, Archive, Locations and
// Events are required; every other zero field means the default it
// documents.
type Config struct {
	// Index keeps driver positions on the adaptive grid: memindex, or
	// redisindex in the real setup.
	Index geogrid.Index
	// Claims decides which driver gets a trip (an atomic claim): the
	// memindex or redisindex value again.
	Claims geogrid.Claims
	// Trips keeps current trips (MariaDB in the real setup): those in
	// progress and those that ended less than ArchiveAge ago.
	Trips TripStore
	// Archive is the cold store ended trips move to (archive/cqlstore on
	// Cassandra in the real setup, archive/memstore in memory): one
	// partition per rider, newest first.
	Archive archive.Store
	// Locations keeps every ping (Cassandra in the real setup).
	Locations Locations

	// Events carries location pings and trip events (membus, or Kafka
	// through events/kafkabus).
	Events events.Sender
	// LocationReceiver is the consumer group that writes pings into
	// Locations. Nil runs no writer in this process (another may).
	LocationReceiver events.Receiver
	// LocationTopic and TripTopic name the topics. Empty means
	// DefaultLocationTopic and DefaultTripTopic.
	LocationTopic string
	TripTopic     string
	// EventBatch and EventDelay are M and T of the batching publisher of
	// events: a flush at M records or after T. Zero means 500 and 200ms.
	EventBatch int
	EventDelay time.Duration

	// TTL is how long a driver's last ping keeps it on the map and
	// eligible for trips. Zero means 30 seconds.
	TTL time.Duration
	// Dispatch configures the geogrid Dispatcher (Radius, K, OfferTimeout,
	// Rounds, ClaimTTL, Rating, Available). Now and Fraud are set by the
	// service; Available is combined with "connected here and not on a
	// trip".
	Dispatch geogrid.DispatchOptions
	// Market configures supply and demand counting. Zero fields take the
	// geogrid defaults (level-12 cells, one-minute windows).
	Market geogrid.MarketOptions
	// Fraud configures the check for drivers who book their own rides.
	// Nil means the geogrid defaults.
	Fraud *geogrid.FraudOptions
	// ETA estimates driving times. Nil means geogrid.StraightLine{}: the
	// great-circle distance times 1.3 at 30 km/h. There is no road routing
	// yet.
	ETA geogrid.ETA
	// Pricing sets fares and surge.
	Pricing Pricing

	// ArchiveAge is how long an ended trip stays in Trips (for the
	// rider's and driver's apps, GET /v1/trips/{id}) before the archiver
	// moves it to Archive: the archive block's Options.Age. The rider's
	// history lists it from the moment it ends, from either store. Zero
	// means DefaultArchiveAge.
	ArchiveAge time.Duration
	// ArchiveInterval is the period of the archiver (Options.Interval),
	// and of the check for trips whose dispatching process died. Zero
	// means DefaultArchiveInterval.
	ArchiveInterval time.Duration

	// MapLat, MapLng and MapRadius are the default view of the map page.
	// Zero means Bengaluru and DefaultMapRadius.
	MapLat, MapLng, MapRadius float64

	// Now is the clock. Nil means time.Now.
	Now func() time.Time
	// Logger receives the service's records. Nil discards them.
	Logger *slog.Logger
	// Ops serves /healthz and /metrics and receives the counters. Nil
	// makes a private one.
	Ops *ops.Ops
}

// Service is the ride-hailing service: rider API, driver websocket, trip
// service, location-history writer and map. It is safe for concurrent use.
// Serve Handler and run Run.
type Service struct {
	grid      *geogrid.Grid
	market    *geogrid.Market
	fraud     *geogrid.Fraud
	disp      *geogrid.Dispatcher
	claims    geogrid.Claims
	eta       geogrid.ETA
	pricing   Pricing
	trips     TripStore
	src       *TripSource // trips seen by the archive block
	cold      archive.Store
	arch      *archive.Archiver
	locations Locations
	batch     *events.BatchPublisher
	sub       *events.Subscriber
	hub       *hub
	locks     keyedMutex

	locTopic, tripTopic string
	window              time.Duration // market window
	every               time.Duration // ArchiveInterval
	stuckAfter          time.Duration
	quoteRadius         float64 // the dispatch radius, for quotes
	mapLat, mapLng      float64
	mapRadius           float64
	clock               func() time.Time
	log                 *slog.Logger
	ops                 *ops.Ops
	handler             http.Handler

	mu         sync.Mutex
	running    bool
	wg         sync.WaitGroup                // dispatches and driver sessions
	dispatches map[string]context.CancelFunc // trip -> cancel of its dispatch
	busy       map[string]string             // driver -> trip it is on

	c counters
}

type counters struct {
	pings, pingsInvalid, bookings, bookingsRefused                           atomic.Uint64
	offers, offersFailed, acceptsWon, acceptsLost, acceptsNoOffer            atomic.Uint64
	started, completed, cancelled, noDriver, fraudFlagged                    atomic.Uint64
	recovered                                                                atomic.Uint64
	locationsWritten, locationEventsBad, framesMalformed, sessions, replaced atomic.Uint64
}

// New checks cfg and returns a Service. It starts nothing: call Run and
// serve Handler.
func New(cfg Config) (*Service, error) {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("rides: config: "+format, args...)
	}
	switch {
	case cfg.Index == nil:
		return nil, bad("Index is required")
	case cfg.Claims == nil:
		return nil, bad("Claims is required")
	case cfg.Trips == nil:
		return nil, bad("Trips is required")
	case cfg.Archive == nil:
		return nil, bad("Archive is required")
	case cfg.Locations == nil:
		return nil, bad("Locations is required")
	case cfg.Events == nil:
		return nil, bad("Events is required")
	case cfg.ArchiveAge < 0 || cfg.ArchiveInterval < 0 || cfg.EventDelay < 0 || cfg.EventBatch < 0:
		return nil, bad("negative ArchiveAge, ArchiveInterval, EventBatch or EventDelay")
	case cfg.MapRadius < 0 || cfg.MapRadius > MaxRadius:
		return nil, bad("MapRadius %v: want 0 to %v meters", cfg.MapRadius, MaxRadius)
	}
	if cfg.MapLat == 0 && cfg.MapLng == 0 {
		cfg.MapLat, cfg.MapLng = DefaultMapLat, DefaultMapLng
	}
	if err := geogrid.CheckPoint("map", cfg.MapLat, cfg.MapLng); err != nil {
		return nil, bad("%v", err)
	}
	if cfg.MapRadius == 0 {
		cfg.MapRadius = DefaultMapRadius
	}
	if cfg.LocationTopic == "" {
		cfg.LocationTopic = DefaultLocationTopic
	}
	if cfg.TripTopic == "" {
		cfg.TripTopic = DefaultTripTopic
	}
	if cfg.EventBatch == 0 {
		cfg.EventBatch = 500
	}
	if cfg.EventDelay == 0 {
		cfg.EventDelay = 200 * time.Millisecond
	}
	if cfg.ArchiveAge == 0 {
		cfg.ArchiveAge = DefaultArchiveAge
	}
	if cfg.ArchiveInterval == 0 {
		cfg.ArchiveInterval = DefaultArchiveInterval
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Ops == nil {
		cfg.Ops = ops.New("rides")
		cfg.Ops.Logger = cfg.Logger
	}
	if cfg.ETA == nil {
		cfg.ETA = geogrid.StraightLine{}
	}
	market, err := geogrid.NewMarket(&cfg.Market)
	if err != nil {
		return nil, bad("Market: %v", err)
	}
	grid, err := geogrid.New(cfg.Index, &geogrid.Options{TTL: cfg.TTL, Now: cfg.Now, Market: market, Logger: cfg.Logger})
	if err != nil {
		return nil, bad("TTL: %v", err)
	}
	fraud, err := geogrid.NewFraud(cfg.Fraud)
	if err != nil {
		return nil, bad("Fraud: %v", err)
	}
	s := &Service{
		grid: grid, market: market, fraud: fraud, claims: cfg.Claims, eta: cfg.ETA, pricing: cfg.Pricing.withDefaults(),
		trips: cfg.Trips, src: NewTripSource(cfg.Trips), cold: cfg.Archive, locations: cfg.Locations,
		hub:      newHub(),
		locTopic: cfg.LocationTopic, tripTopic: cfg.TripTopic,
		window: cfg.Market.Window, every: cfg.ArchiveInterval,
		mapLat: cfg.MapLat, mapLng: cfg.MapLng, mapRadius: cfg.MapRadius,
		clock: cfg.Now, log: cfg.Logger, ops: cfg.Ops,
		dispatches: map[string]context.CancelFunc{}, busy: map[string]string{},
	}
	if s.window == 0 {
		s.window = time.Minute
	}
	s.arch, err = archive.New(s.src, s.cold, &archive.Options{
		Age: cfg.ArchiveAge, Interval: cfg.ArchiveInterval, Now: cfg.Now, Logger: cfg.Logger,
	})
	if err != nil {
		return nil, bad("archive: %v", err)
	}
	do := cfg.Dispatch
	do.Now, do.Fraud = cfg.Now, fraud
	userAvailable := do.Available
	do.Available = func(driver string) bool {
		return s.available(driver) && (userAvailable == nil || userAvailable(driver))
	}
	s.disp, err = geogrid.NewDispatcher(grid, cfg.Claims, cfg.ETA, geogrid.OfferFunc(s.offer), &do)
	if err != nil {
		return nil, bad("Dispatch: %v", err)
	}
	// The Dispatcher does not report its resolved options: these repeat
	// the geogrid defaults (15 s offers, 3 rounds, 3 km).
	offerTimeout, rounds := cmp.Or(do.OfferTimeout, 15*time.Second), cmp.Or(do.Rounds, 3)
	s.quoteRadius = min(cmp.Or(do.Radius, 3000), MaxRadius)
	s.stuckAfter = offerTimeout*time.Duration(rounds) + time.Minute

	s.batch = events.NewBatchPublisher(cfg.Events, &events.BatchOptions{
		MaxRecords: cfg.EventBatch, MaxDelay: cfg.EventDelay, Now: cfg.Now, Logger: cfg.Logger,
	})
	if cfg.LocationReceiver != nil {
		s.sub = events.NewSubscriber(cfg.LocationReceiver, s.writeLocation, &events.SubscriberOptions{
			Concurrency: 4, Logger: cfg.Logger,
		})
	}
	s.registerOps()
	s.handler = s.routes()
	return s, nil
}

// now is the service clock to the millisecond, in UTC: the precision the
// stores keep.
func (s *Service) now() time.Time { return s.clock().UTC().Truncate(time.Millisecond) }

func (s *Service) registerOps() {
	s.ops.AddCheck("rides", func(context.Context) error {
		s.mu.Lock()
		defer s.mu.Unlock()
		if !s.running {
			return ErrNotRunning
		}
		return nil
	})
	s.ops.AddStats("rides", "ride-hailing service", s.Stats,
		"pings", "pings_invalid", "bookings", "bookings_refused", "offers", "offers_failed",
		"accepts_won", "accepts_lost", "accepts_no_offer", "trips_started", "trips_completed", "trips_cancelled",
		"trips_no_driver", "fraud_flagged", "archive_passes", "archive_errors", "archived", "recovered",
		"locations_written", "location_events_bad", "frames_malformed", "driver_sessions", "driver_sessions_replaced")
	s.ops.AddStats("rides_events", "batching publisher of location and trip events", func() map[string]float64 {
		st := s.batch.Stats()
		return map[string]float64{"queued": float64(st.Queued), "sending": float64(st.Sending),
			"published": float64(st.Published), "failed": float64(st.Failed), "dropped": float64(st.Dropped)}
	}, "published", "failed", "dropped")
	if s.sub != nil {
		s.ops.AddStats("rides_location_writer", "consumer writing pings into the location history", func() map[string]float64 {
			st := s.sub.Stats()
			return map[string]float64{"fetched": float64(st.Fetched), "handled": float64(st.Handled),
				"failures": float64(st.Failures), "committed": float64(st.Committed), "commit_errors": float64(st.CommitErrors)}
		}, "fetched", "handled", "failures", "committed", "commit_errors")
	}
}

// Stats returns a snapshot of the service's counters and gauges.
func (s *Service) Stats() map[string]float64 {
	c := &s.c
	as := s.arch.Stats()
	s.mu.Lock()
	dispatching, busy := len(s.dispatches), len(s.busy)
	s.mu.Unlock()
	return map[string]float64{
		"pings":                    float64(c.pings.Load()),
		"pings_invalid":            float64(c.pingsInvalid.Load()),
		"bookings":                 float64(c.bookings.Load()),
		"bookings_refused":         float64(c.bookingsRefused.Load()),
		"offers":                   float64(c.offers.Load()),
		"offers_failed":            float64(c.offersFailed.Load()),
		"accepts_won":              float64(c.acceptsWon.Load()),
		"accepts_lost":             float64(c.acceptsLost.Load()),
		"accepts_no_offer":         float64(c.acceptsNoOffer.Load()),
		"trips_started":            float64(c.started.Load()),
		"trips_completed":          float64(c.completed.Load()),
		"trips_cancelled":          float64(c.cancelled.Load()),
		"trips_no_driver":          float64(c.noDriver.Load()),
		"fraud_flagged":            float64(c.fraudFlagged.Load()),
		"archive_passes":           float64(as.Passes),
		"archive_errors":           float64(as.Errors),
		"archived":                 float64(as.Moved),
		"recovered":                float64(c.recovered.Load()),
		"locations_written":        float64(c.locationsWritten.Load()),
		"location_events_bad":      float64(c.locationEventsBad.Load()),
		"frames_malformed":         float64(c.framesMalformed.Load()),
		"driver_sessions":          float64(c.sessions.Load()),
		"driver_sessions_replaced": float64(c.replaced.Load()),
		"drivers_online":           float64(s.hub.len()),
		"dispatching":              float64(dispatching),
		"drivers_busy":             float64(busy),
	}
}

// Handler returns the HTTP API, the driver websocket, the map page,
// /healthz and /metrics.
func (s *Service) Handler() http.Handler { return s.handler }

// ErrRunning is returned by Run when the service is already running.
var ErrRunning = errors.New("rides: already running")

// Run runs the background work until ctx ends: the grid's pruning, the
// event publisher, the location-history writer and the archiver. Bookings
// and driver connections are accepted only while Run runs. When ctx ends,
// Run closes every driver websocket (1001, going away), stops every
// dispatch in flight (its trip is cancelled as "interrupted"), flushes the
// queued events and returns nil once every goroutine it or the handlers
// started has stopped.
func (s *Service) Run(ctx context.Context) error {
	s.mu.Lock()
	if s.running {
		s.mu.Unlock()
		return ErrRunning
	}
	s.running = true
	s.hub.open()
	s.mu.Unlock()

	batchCtx, stopBatch := context.WithCancel(context.WithoutCancel(ctx))
	defer stopBatch()
	var bg sync.WaitGroup
	bg.Go(func() { _ = s.grid.Run(ctx) })
	bg.Go(func() { _ = s.batch.Run(batchCtx) })
	if s.sub != nil {
		bg.Go(func() { s.consume(ctx) })
	}
	bg.Go(func() { _ = s.arch.Run(ctx) }) // errors are logged and counted (archive_errors)
	bg.Go(func() { s.recoverLoop(ctx) })
	s.log.Info("rides running")

	<-ctx.Done()
	s.mu.Lock()
	s.running = false
	cancels := make([]context.CancelFunc, 0, len(s.dispatches))
	for _, c := range s.dispatches {
		cancels = append(cancels, c)
	}
	s.mu.Unlock()
	for _, c := range cancels {
		c()
	}
	s.hub.closeAll(websocket.StatusGoingAway, "server shutting down")
	s.wg.Wait()
	stopBatch() // after the sessions and dispatches: their last events are flushed
	bg.Wait()
	s.log.Info("rides stopped")
	return nil
}

// enter registers one unit of work (a driver session or a dispatch) that
// Run waits for. It fails when Run is not running.
func (s *Service) enter() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.running {
		return false
	}
	s.wg.Add(1)
	return true
}

func (s *Service) consume(ctx context.Context) {
	for {
		err := s.sub.Run(ctx)
		if ctx.Err() != nil {
			return
		}
		s.log.Error("location writer stopped; restarting in 1s", "err", err)
		t := time.NewTimer(time.Second)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}

func (s *Service) recoverLoop(ctx context.Context) {
	t := time.NewTicker(s.every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := s.recoverLost(ctx); err != nil && ctx.Err() == nil {
				s.log.Error("recover lost dispatches", "err", err)
			}
		}
	}
}

func newTripID() string {
	var b [10]byte
	_, _ = rand.Read(b[:])
	return "t_" + hex.EncodeToString(b[:])
}

// validID reports whether id is a usable rider, driver or trip id: 1 to 64
// bytes of letters, digits, '.', '_' and '-'.
func validID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c == '.' || c == '_' || c == '-' || '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z') {
			return false
		}
	}
	return true
}

// keyedMutex is one mutex per key, created on demand and dropped when
// nobody holds or waits for it.
type keyedMutex struct {
	mu sync.Mutex
	m  map[string]*keyLock
}

type keyLock struct {
	sync.Mutex
	n int
}

func (k *keyedMutex) lock(key string) (unlock func()) {
	k.mu.Lock()
	if k.m == nil {
		k.m = map[string]*keyLock{}
	}
	l := k.m[key]
	if l == nil {
		l = &keyLock{}
		k.m[key] = l
	}
	l.n++
	k.mu.Unlock()
	l.Lock()
	return func() {
		l.Unlock()
		k.mu.Lock()
		if l.n--; l.n == 0 {
			delete(k.m, key)
		}
		k.mu.Unlock()
	}
}
