// Package backends assembles the storage of the rides example in its two
// modes: everything in process memory, or the real setup of the design
// notes (driver positions and dispatch claims in Redis, current trips in
// MariaDB, archived trips and location history in Cassandra, location pings and trip
// events through Kafka). It creates what it needs on the servers (table,
// keyspace and tables, topics) idempotently.
package backends

import (
	"context"
	"database/sql"
	"errors"
	"time"

	gocql "github.com/apache/cassandra-gocql-driver/v2"
	"github.com/redis/go-redis/v9"
	"github.com/segmentio/kafka-go"

	"github.com/sysblocks/sysblocks/archive"
	archcql "github.com/sysblocks/sysblocks/archive/cqlstore"
	archmem "github.com/sysblocks/sysblocks/archive/memstore"
	"github.com/sysblocks/sysblocks/events"
	"github.com/sysblocks/sysblocks/events/kafkabus"
	"github.com/sysblocks/sysblocks/events/membus"
	"github.com/sysblocks/sysblocks/examples/rides/rides"
	"github.com/sysblocks/sysblocks/examples/rides/rides/cqlstore"
	"github.com/sysblocks/sysblocks/examples/rides/rides/memstore"
	"github.com/sysblocks/sysblocks/examples/rides/rides/sqlstore"
	"github.com/sysblocks/sysblocks/geogrid"
	"github.com/sysblocks/sysblocks/geogrid/memindex"
	"github.com/sysblocks/sysblocks/geogrid/redisindex"
	"github.com/sysblocks/sysblocks/internal/dial"
	"github.com/sysblocks/sysblocks/internal/ops"
)

// Names and sizes used when the corresponding Settings field is zero.
const (
	DefaultKeyspace    = "rides"
	DefaultGroup       = "rides-location-history"
	DefaultRedisPrefix = "{rides}:grid"
	DefaultPartitions  = 6
	// ArchiveTable is the Cassandra table of archived trips
	// (archive/cqlstore).
	ArchiveTable = "rides_trips_archive"
)

// DefaultSegmentation is the grid of the example: the geogrid defaults
// (root cells of level 6, about 100 km across) but leaves that split above
// 8 drivers, so that a city view shows cells splitting where drivers
// gather. (memindex allocates one lock per root cell up front, 6*4^MinLevel
// of them: a finer MinLevel costs memory, 400 MB at level 10.)
var DefaultSegmentation = geogrid.Segmentation{MaxPerCell: 8}

// Settings names what the backends create and use. The zero value is
// valid.
type Settings struct {
	// LocationTopic and TripTopic are the event topics; empty means the
	// rides defaults. Group is the consumer group of the location-history
	// writer. Partitions is the partition count of topics created here.
	LocationTopic string
	TripTopic     string
	Group         string
	Partitions    int
	// RedisPrefix prefixes the grid's Redis keys.
	RedisPrefix string
	// Segmentation is the adaptive grid. The zero value means
	// DefaultSegmentation. Every process sharing a Redis prefix must use
	// the same one.
	Segmentation *geogrid.Segmentation
	// LocationTTL, if positive, expires location history rows in
	// Cassandra after it.
	LocationTTL time.Duration
	// Now is the clock of membus. Nil means time.Now.
	Now func() time.Time
}

func (s *Settings) defaults() {
	if s.LocationTopic == "" {
		s.LocationTopic = rides.DefaultLocationTopic
	}
	if s.TripTopic == "" {
		s.TripTopic = rides.DefaultTripTopic
	}
	if s.Group == "" {
		s.Group = DefaultGroup
	}
	if s.Partitions <= 0 {
		s.Partitions = DefaultPartitions
	}
	if s.RedisPrefix == "" {
		s.RedisPrefix = DefaultRedisPrefix
	}
	if s.Segmentation == nil {
		seg := DefaultSegmentation
		s.Segmentation = &seg
	}
	if s.Now == nil {
		s.Now = time.Now
	}
}

// Stack is the storage of one rides process.
type Stack struct {
	Index     geogrid.Index
	Claims    geogrid.Claims
	Trips     rides.TripStore
	Archive   archive.Store
	Locations rides.Locations
	Events    events.Sender
	Receiver  events.Receiver
	// Topics, as given to rides.Config.
	LocationTopic, TripTopic string
	// Checks are the health checks of the servers in use.
	Checks map[string]ops.Check

	closers dial.Closers
}

// Apply copies the stack into cfg and registers its health checks with
// cfg.Ops when set.
func (st *Stack) Apply(cfg *rides.Config) {
	cfg.Index, cfg.Claims, cfg.Trips, cfg.Archive, cfg.Locations = st.Index, st.Claims, st.Trips, st.Archive, st.Locations
	cfg.Events, cfg.LocationReceiver = st.Events, st.Receiver
	cfg.LocationTopic, cfg.TripTopic = st.LocationTopic, st.TripTopic
	cfg.Ops.AddChecks(st.Checks)
}

// Close closes what the stack opened, last opened first.
func (st *Stack) Close() error { return st.closers.Close() }

// Memory returns the in-memory stack: memindex for positions and claims,
// rides/memstore for current trips and locations, archive/memstore for
// archived trips, membus for events.
func Memory(s Settings) (*Stack, error) {
	s.defaults()
	idx, err := memindex.New(&memindex.Options{Segmentation: *s.Segmentation})
	if err != nil {
		return nil, err
	}
	bus := membus.New(&membus.Options{Partitions: s.Partitions, Now: s.Now, Retention: 100_000})
	return &Stack{
		Index: idx, Claims: idx,
		Trips: memstore.NewTrips(), Archive: archmem.New(), Locations: memstore.NewLocations(),
		Events: bus, Receiver: bus.Receiver(s.LocationTopic, s.Group),
		LocationTopic: s.LocationTopic, TripTopic: s.TripTopic,
		Checks: map[string]ops.Check{},
	}, nil
}

// Clients are connections to the real servers, owned by the caller.
type Clients struct {
	Redis     redis.UniversalClient // positions and claims (geogrid/redisindex)
	MySQL     *sql.DB               // current trips (sqlstore)
	Cassandra *gocql.Session        // archived trips (archive/cqlstore) and location history (cqlstore), on its keyspace
	Brokers   []string              // Kafka (events/kafkabus)
}

// Real returns the real stack on c: it creates the trips table, the
// Cassandra tables and the Kafka topics if they do not exist. Close closes
// the Kafka writer, not c.
func Real(ctx context.Context, c Clients, s Settings) (*Stack, error) {
	s.defaults()
	if c.MySQL == nil || c.Redis == nil || c.Cassandra == nil || len(c.Brokers) == 0 {
		return nil, errors.New("backends: real mode needs Redis, MariaDB, Cassandra and Kafka")
	}
	idx, err := redisindex.New(c.Redis, s.RedisPrefix, &redisindex.Options{Segmentation: *s.Segmentation})
	if err != nil {
		return nil, err
	}
	trips := sqlstore.New(c.MySQL)
	if err := trips.CreateSchema(ctx); err != nil {
		return nil, err
	}
	locs := cqlstore.New(c.Cassandra, &cqlstore.Options{LocationTTL: s.LocationTTL})
	if err := locs.CreateSchema(ctx); err != nil {
		return nil, err
	}
	arch, err := archcql.New(c.Cassandra, &archcql.Options{Table: ArchiveTable})
	if err != nil {
		return nil, err
	}
	if err := arch.CreateSchema(ctx); err != nil {
		return nil, err
	}
	for _, topic := range []string{s.LocationTopic, s.TripTopic} {
		if err := dial.CreateTopic(ctx, c.Brokers, topic, s.Partitions); err != nil {
			return nil, err
		}
	}
	tr := &kafka.Transport{}
	w := kafkabus.NewWriter(c.Brokers...)
	w.Transport = tr
	sender, err := kafkabus.NewSender(w)
	if err != nil {
		return nil, err
	}
	rc := kafkabus.NewReaderConfig(c.Brokers, s.LocationTopic, s.Group)
	rc.MaxWait = 500 * time.Millisecond
	recv, err := kafkabus.NewReceiver(rc)
	if err != nil {
		return nil, err
	}
	return &Stack{
		Index: idx, Claims: idx,
		Trips: trips, Archive: arch, Locations: locs.Locations(),
		Events: sender, Receiver: recv,
		LocationTopic: s.LocationTopic, TripTopic: s.TripTopic,
		Checks:  dial.Checks(c.Redis, c.MySQL, c.Cassandra, &dial.KafkaTopic{Brokers: c.Brokers, Transport: tr, Topic: s.LocationTopic}),
		closers: dial.Closers{dial.CloseWriter(w, tr)},
	}, nil
}

// Env is where the real servers are, from the SYSBLOCKS_* variables; an
// empty Keyspace means DefaultKeyspace.
type Env = dial.Env

// Dial connects to the servers of e, creates the keyspace if needed and
// returns the real stack; its Close also closes the connections.
func Dial(ctx context.Context, e Env, s Settings) (*Stack, error) {
	return dial.Stack(ctx, e, DefaultKeyspace, nil, func(c *dial.Conns) (*Stack, error) {
		st, err := Real(ctx, Clients{Redis: c.Redis, MySQL: c.MySQL, Cassandra: c.Cassandra, Brokers: e.KafkaBrokers}, s)
		if err == nil {
			st.closers = append(dial.Closers{c.Close}, st.closers...)
		}
		return st, err
	})
}
