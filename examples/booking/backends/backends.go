// Package backends assembles the storage of the booking example in its
// two modes: everything in process memory, or the real setup of the
// design notes (hotels and room availability in MariaDB, holds' alarms,
// the management view cache and hot search results in Redis, hotel and
// booking events through Kafka, the booking history in Cassandra). It
// creates what it needs on the servers (tables, topics) idempotently.
package backends

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"time"

	gocql "github.com/apache/cassandra-gocql-driver/v2"
	"github.com/go-sql-driver/mysql"
	"github.com/redis/go-redis/v9"
	"github.com/segmentio/kafka-go"

	"github.com/sysblocks/sysblocks/archive"
	"github.com/sysblocks/sysblocks/archive/cqlstore"
	archmem "github.com/sysblocks/sysblocks/archive/memstore"
	"github.com/sysblocks/sysblocks/cache"
	cachemem "github.com/sysblocks/sysblocks/cache/memstore"
	"github.com/sysblocks/sysblocks/cache/redisstore"
	"github.com/sysblocks/sysblocks/events"
	"github.com/sysblocks/sysblocks/events/kafkabus"
	"github.com/sysblocks/sysblocks/events/membus"
	"github.com/sysblocks/sysblocks/examples/booking/booking"
	"github.com/sysblocks/sysblocks/examples/booking/booking/memstore"
	"github.com/sysblocks/sysblocks/examples/booking/booking/sqlstore"
	"github.com/sysblocks/sysblocks/internal/dial"
	"github.com/sysblocks/sysblocks/internal/ops"
	"github.com/sysblocks/sysblocks/reservation"
	resmem "github.com/sysblocks/sysblocks/reservation/memstore"
	"github.com/sysblocks/sysblocks/reservation/redisnotify"
	ressql "github.com/sysblocks/sysblocks/reservation/sqlstore"
	"github.com/sysblocks/sysblocks/search"
	"github.com/sysblocks/sysblocks/search/querycache"
)

// Names and sizes used when the corresponding Settings field is zero.
const (
	DefaultKeyspace    = "booking"
	DefaultViewGroup   = "booking-views"
	DefaultRedisPrefix = "booking:"
	DefaultPartitions  = 3
)

// Settings names what the backends create and use. The zero value is
// valid.
type Settings struct {
	// HotelTopic and BookingTopic are the event topics; empty means the
	// booking defaults. Partitions is the partition count of topics
	// created here.
	HotelTopic, BookingTopic string
	Partitions               int
	// SearchGroup is this process's consumer group on the hotel topic
	// (each search index needs every event). Empty means
	// "booking-search-" and the host name.
	SearchGroup string
	// ViewGroup is the consumer group that invalidates management views
	// on booking events; one group for all processes, since the view
	// cache is shared. Empty means DefaultViewGroup.
	ViewGroup string
	// RedisPrefix prefixes every Redis key of the example (view cache,
	// query cache, hold alarms).
	RedisPrefix string
	// Now is the clock of membus and of the in-memory caches. Nil means
	// time.Now.
	Now func() time.Time
}

func (s *Settings) defaults() {
	if s.HotelTopic == "" {
		s.HotelTopic = booking.DefaultHotelTopic
	}
	if s.BookingTopic == "" {
		s.BookingTopic = booking.DefaultBookingTopic
	}
	if s.Partitions <= 0 {
		s.Partitions = DefaultPartitions
	}
	if s.SearchGroup == "" {
		host, _ := os.Hostname()
		s.SearchGroup = "booking-search-" + host
	}
	if s.ViewGroup == "" {
		s.ViewGroup = DefaultViewGroup
	}
	if s.RedisPrefix == "" {
		s.RedisPrefix = DefaultRedisPrefix
	}
	if s.Now == nil {
		s.Now = time.Now
	}
}

// Stack is the storage of one booking process.
type Stack struct {
	Hotels          booking.HotelStore
	Reservations    reservation.Store
	Alarm           reservation.Alarm
	Events          events.Sender
	HotelReceiver   events.Receiver
	BookingReceiver events.Receiver
	SearchSource    search.Source
	QueryCache      search.QueryCache
	ViewCache       cache.Store
	Archive         archive.Store
	// Cassandra is the session of the booking history (real mode only).
	Cassandra *gocql.Session
	// Topics, as given to booking.Config.
	HotelTopic, BookingTopic string
	// Checks are the health checks of the servers in use.
	Checks map[string]ops.Check

	closers dial.Closers
}

// Apply copies the stack into cfg and registers its health checks with
// cfg.Ops when set.
func (st *Stack) Apply(cfg *booking.Config) {
	cfg.Hotels, cfg.Reservations, cfg.Alarm = st.Hotels, st.Reservations, st.Alarm
	cfg.Events, cfg.HotelReceiver, cfg.BookingReceiver = st.Events, st.HotelReceiver, st.BookingReceiver
	cfg.SearchSource, cfg.QueryCache, cfg.ViewCache = st.SearchSource, st.QueryCache, st.ViewCache
	cfg.HotelTopic, cfg.BookingTopic = st.HotelTopic, st.BookingTopic
	cfg.Archive = st.Archive
	cfg.Ops.AddChecks(st.Checks)
}

// Close closes what the stack opened, last opened first.
func (st *Stack) Close() error { return st.closers.Close() }

// Memory returns the in-memory stack.
func Memory(s Settings) (*Stack, error) {
	s.defaults()
	hotels := memstore.New()
	bus := membus.New(&membus.Options{Partitions: s.Partitions, Now: s.Now, Retention: 100_000})
	return &Stack{
		Hotels: hotels, Reservations: resmem.New(),
		Events: bus, HotelReceiver: bus.Receiver(s.HotelTopic, s.SearchGroup),
		BookingReceiver: bus.Receiver(s.BookingTopic, s.ViewGroup),
		SearchSource:    hotels.SearchSource(), QueryCache: querycache.Memory(10_000),
		Archive:    archmem.New(),
		ViewCache:  cachemem.New(&cachemem.Options{Now: s.Now, MaxEntries: 10_000}),
		HotelTopic: s.HotelTopic, BookingTopic: s.BookingTopic,
		Checks: map[string]ops.Check{},
	}, nil
}

// Clients are connections to the real servers, owned by the caller.
type Clients struct {
	Redis     redis.UniversalClient // view cache, query cache, hold alarms
	MySQL     *sql.DB               // hotels and availability
	Cassandra *gocql.Session        // booking history, on its keyspace
	Brokers   []string              // Kafka
}

// Real returns the real stack on c: it creates the tables and the Kafka
// topics if they do not exist and turns on Redis expiry notifications for
// the hold alarms. Close closes the Kafka writer, not c.
func Real(ctx context.Context, c Clients, s Settings) (*Stack, error) {
	s.defaults()
	if c.MySQL == nil || c.Redis == nil || c.Cassandra == nil || len(c.Brokers) == 0 {
		return nil, errors.New("backends: real mode needs Redis, MariaDB, Cassandra and Kafka")
	}
	hotels := sqlstore.New(c.MySQL)
	if err := hotels.CreateSchema(ctx); err != nil {
		return nil, err
	}
	res := ressql.New(c.MySQL, nil)
	if err := res.CreateSchema(ctx); err != nil {
		return nil, err
	}
	cold, err := cqlstore.New(c.Cassandra, &cqlstore.Options{Table: "booking_history"})
	if err != nil {
		return nil, err
	}
	if err := cold.CreateSchema(ctx); err != nil {
		return nil, err
	}
	alarm := redisnotify.New(c.Redis, &redisnotify.Options{Prefix: s.RedisPrefix + "hold:"})
	if err := alarm.Enable(ctx); err != nil {
		return nil, fmt.Errorf("backends: redis notifications: %w", err)
	}
	for _, topic := range []string{s.HotelTopic, s.BookingTopic} {
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
	receiver := func(topic, group string) (*kafkabus.Receiver, error) {
		rc := kafkabus.NewReaderConfig(c.Brokers, topic, group)
		rc.MaxWait = 500 * time.Millisecond
		return kafkabus.NewReceiver(rc)
	}
	hotelRecv, err := receiver(s.HotelTopic, s.SearchGroup)
	if err != nil {
		return nil, err
	}
	bookingRecv, err := receiver(s.BookingTopic, s.ViewGroup)
	if err != nil {
		return nil, err
	}
	return &Stack{
		Hotels: hotels, Reservations: res, Alarm: alarm,
		Events: sender, HotelReceiver: hotelRecv, BookingReceiver: bookingRecv,
		SearchSource: hotels.SearchSource(),
		QueryCache:   querycache.Redis(c.Redis, s.RedisPrefix+"search:"),
		ViewCache:    redisstore.New(c.Redis, &redisstore.Options{Prefix: s.RedisPrefix}),
		Cassandra:    c.Cassandra, Archive: cold,
		HotelTopic: s.HotelTopic, BookingTopic: s.BookingTopic,
		Checks:  dial.Checks(c.Redis, c.MySQL, c.Cassandra, &dial.KafkaTopic{Brokers: c.Brokers, Transport: tr, Topic: s.HotelTopic}),
		closers: dial.Closers{dial.CloseWriter(w, tr)},
	}, nil
}

// Env is where the real servers are, from the SYSBLOCKS_* variables; an
// empty Keyspace means DefaultKeyspace.
type Env = dial.Env

// Dial connects to the servers of e, creates the keyspace if needed and
// returns the real stack; its Close also closes the connections.
func Dial(ctx context.Context, e Env, s Settings) (*Stack, error) {
	return dial.Stack(ctx, e, DefaultKeyspace, func(cfg *mysql.Config) { cfg.InterpolateParams = true }, func(c *dial.Conns) (*Stack, error) {
		st, err := Real(ctx, Clients{Redis: c.Redis, MySQL: c.MySQL, Cassandra: c.Cassandra, Brokers: e.KafkaBrokers}, s)
		if err == nil {
			st.closers = append(dial.Closers{c.Close}, st.closers...)
		}
		return st, err
	})
}
