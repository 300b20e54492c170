// Package backends assembles the storage of the URL shortener in its two
// modes: everything in process memory, or the real setup of the design
// notes (token ranges in MariaDB, links and click counts in Cassandra, a
// Redis cache in front of redirects, click events through Kafka). It
// creates what it needs on the servers (tables, keyspace, topic) idempotently.
package backends

import (
	"context"
	"database/sql"
	"errors"
	"github.com/sysblocks/sysblocks/internal/dial"
	"log/slog"
	"time"

	gocql "github.com/apache/cassandra-gocql-driver/v2"
	"github.com/go-sql-driver/mysql"
	"github.com/redis/go-redis/v9"
	"github.com/segmentio/kafka-go"

	"github.com/sysblocks/sysblocks/cache"
	cachemem "github.com/sysblocks/sysblocks/cache/memstore"
	"github.com/sysblocks/sysblocks/cache/redisstore"
	"github.com/sysblocks/sysblocks/events"
	"github.com/sysblocks/sysblocks/events/kafkabus"
	"github.com/sysblocks/sysblocks/events/membus"
	"github.com/sysblocks/sysblocks/examples/urlshortener/shortener"
	"github.com/sysblocks/sysblocks/examples/urlshortener/shortener/cqlstore"
	"github.com/sysblocks/sysblocks/examples/urlshortener/shortener/memstore"
	"github.com/sysblocks/sysblocks/internal/ops"
	"github.com/sysblocks/sysblocks/tokenrange"
	trmem "github.com/sysblocks/sysblocks/tokenrange/memstore"
	"github.com/sysblocks/sysblocks/tokenrange/sqlstore"
)

// Names used when the corresponding Settings field is empty.
const (
	DefaultNamespace   = "urlshortener.links"
	DefaultKeyspace    = "urlshortener"
	DefaultTopic       = shortener.DefaultClickTopic
	DefaultGroup       = "urlshortener-clicks"
	DefaultRedisPrefix = "urlshortener:link:"
	DefaultPartitions  = 3
	// MemoryRetention is how many click events the in-memory bus keeps
	// per partition; a consumer further behind loses the older ones.
	MemoryRetention = 100_000
)

// Settings names what the backends create and use. The zero value is valid.
type Settings struct {
	// Namespace is the token-range counter of generated codes.
	Namespace string
	// Limit is the end of the token space: the codec's Space(). Zero means
	// tokenrange.MaxLimit.
	Limit uint64
	// Topic and Group are the Kafka topic of click events and the consumer
	// group that counts them; Partitions is the topic's partition count
	// when it is created.
	Topic      string
	Group      string
	Partitions int
	// RedisPrefix prefixes the cache's keys.
	RedisPrefix string
	// Leaser tunes the Leaser; nil means the defaults.
	Leaser *tokenrange.LeaserOptions
	// Now is the clock of the in-memory stores. Nil means time.Now.
	Now func() time.Time
	// CacheInMemory puts an in-process cache in front of the link store in
	// memory mode (off by default: the memory link store is as fast).
	CacheInMemory bool
	// Logger receives the blocks' records. Nil discards them.
	Logger *slog.Logger
}

func (s *Settings) defaults() {
	if s.Namespace == "" {
		s.Namespace = DefaultNamespace
	}
	if s.Topic == "" {
		s.Topic = DefaultTopic
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
	if s.Now == nil {
		s.Now = time.Now
	}
	if s.Logger == nil {
		s.Logger = slog.New(slog.DiscardHandler)
	}
}

// Stack is the storage of one shortener process.
type Stack struct {
	Leaser *tokenrange.Leaser
	Links  shortener.LinkStore
	Counts shortener.ClickCounts
	// Cache is the redirect cache's store, or nil.
	Cache    cache.Store
	Clicks   events.Sender
	Receiver events.Receiver
	Topic    string
	// Checks are the health checks of the servers in use.
	Checks map[string]ops.Check

	closers dial.Closers
}

// Apply copies the stack into cfg.
func (st *Stack) Apply(cfg *shortener.Config) {
	cfg.Leaser, cfg.Links, cfg.Counts, cfg.Cache = st.Leaser, st.Links, st.Counts, st.Cache
	cfg.Clicks, cfg.ClickReceiver, cfg.ClickTopic = st.Clicks, st.Receiver, st.Topic
	cfg.Ops.AddChecks(st.Checks)
}

// Close closes the Leaser and whatever the stack opened, last opened
// first.
func (st *Stack) Close() error { return st.closers.Close() }

// Memory returns the in-memory stack: tokenrange memstore, shortener
// memstore, membus for click events.
func Memory(s Settings) (*Stack, error) {
	s.defaults()
	alloc, err := tokenrange.NewAllocator(trmem.New(), &tokenrange.AllocatorOptions{Limit: s.Limit, Logger: s.Logger})
	if err != nil {
		return nil, err
	}
	lo := leaserOptions(s)
	l, err := tokenrange.NewLeaser(alloc, s.Namespace, &lo)
	if err != nil {
		return nil, err
	}
	// The bus keeps the last MemoryRetention click events per partition,
	// not every click since start.
	bus := membus.New(&membus.Options{Partitions: 1, Retention: MemoryRetention, Now: s.Now})
	st := &Stack{
		Leaser:   l,
		Links:    memstore.NewLinks(&memstore.Options{Now: s.Now}),
		Counts:   memstore.NewClicks(),
		Clicks:   bus,
		Receiver: bus.Receiver(s.Topic, s.Group),
		Topic:    s.Topic,
		Checks:   map[string]ops.Check{},
		closers:  dial.Closers{l.Close},
	}
	if s.CacheInMemory {
		st.Cache = cachemem.New(&cachemem.Options{Now: s.Now})
	}
	return st, nil
}

func leaserOptions(s Settings) tokenrange.LeaserOptions {
	var o tokenrange.LeaserOptions
	if s.Leaser != nil {
		o = *s.Leaser
	}
	if o.Logger == nil {
		o.Logger = s.Logger
	}
	return o
}

// Clients are connections to the real servers, owned by the caller.
type Clients struct {
	MySQL     *sql.DB               // token ranges (tokenrange/sqlstore)
	Redis     redis.UniversalClient // redirect cache (cache/redisstore)
	Cassandra *gocql.Session        // links and click counts (cqlstore), on its keyspace
	Brokers   []string              // Kafka, for click events (events/kafkabus)
}

// Real returns the real stack on c: it creates the token-range tables, the
// Cassandra tables and the Kafka topic if they do not exist. Close closes
// the Kafka writer and the Leaser, not c.
func Real(ctx context.Context, c Clients, s Settings) (*Stack, error) {
	s.defaults()
	if c.MySQL == nil || c.Redis == nil || c.Cassandra == nil || len(c.Brokers) == 0 {
		return nil, errors.New("backends: real mode needs MySQL, Redis, Cassandra and Kafka")
	}
	trs := sqlstore.New(c.MySQL, nil)
	if err := trs.CreateSchema(ctx); err != nil {
		return nil, err
	}
	links := cqlstore.New(c.Cassandra, nil)
	if err := links.CreateSchema(ctx); err != nil {
		return nil, err
	}
	if err := dial.CreateTopic(ctx, c.Brokers, s.Topic, s.Partitions); err != nil {
		return nil, err
	}
	alloc, err := tokenrange.NewAllocator(trs, &tokenrange.AllocatorOptions{Limit: s.Limit, Logger: s.Logger})
	if err != nil {
		return nil, err
	}
	lo := leaserOptions(s)
	l, err := tokenrange.NewLeaser(alloc, s.Namespace, &lo)
	if err != nil {
		return nil, err
	}
	tr := &kafka.Transport{}
	w := kafkabus.NewWriter(c.Brokers...)
	w.Transport = tr
	sender, err := kafkabus.NewSender(w)
	if err != nil {
		return nil, err
	}
	rc := kafkabus.NewReaderConfig(c.Brokers, s.Topic, s.Group)
	rc.MaxWait = 500 * time.Millisecond
	// Commits are flushed once a second rather than once per click: click
	// counting is lossy by design and sums clicks in memory anyway, and a
	// synchronous commit per message would cap the consumer at one broker
	// round trip per click.
	rc.CommitInterval = time.Second
	recv, err := kafkabus.NewReceiver(rc)
	if err != nil {
		return nil, err
	}
	return &Stack{
		Leaser:   l,
		Links:    links,
		Counts:   links,
		Cache:    redisstore.New(c.Redis, &redisstore.Options{Prefix: s.RedisPrefix}),
		Clicks:   sender,
		Receiver: recv,
		Topic:    s.Topic,
		Checks:   dial.Checks(c.Redis, c.MySQL, c.Cassandra, &dial.KafkaTopic{Brokers: c.Brokers, Transport: tr, Topic: s.Topic}),
		closers: dial.Closers{
			dial.CloseWriter(w, tr),
			l.Close,
		},
	}, nil
}

// Env is where the real servers are, from the SYSBLOCKS_* variables; an
// empty Keyspace means DefaultKeyspace.
type Env = dial.Env

// EnvFromOS reads the SYSBLOCKS_* variables.
func EnvFromOS() Env { return dial.EnvFromOS() }

// Dial connects to the servers of e, creates the keyspace if needed and
// returns the real stack; its Close also closes the connections.
func Dial(ctx context.Context, e Env, s Settings) (*Stack, error) {
	return dial.Stack(ctx, e, DefaultKeyspace, func(cfg *mysql.Config) { cfg.ParseTime = true }, func(c *dial.Conns) (*Stack, error) {
		st, err := Real(ctx, Clients{Redis: c.Redis, MySQL: c.MySQL, Cassandra: c.Cassandra, Brokers: e.KafkaBrokers}, s)
		if err == nil {
			st.closers = append(dial.Closers{c.Close}, st.closers...)
		}
		return st, err
	})
}

// CassandraSession creates keyspace (SimpleStrategy, replication factor 1)
// if it does not exist and returns a session on it.
func CassandraSession(ctx context.Context, hosts []string, keyspace string) (*gocql.Session, error) {
	return dial.CassandraSession(ctx, hosts, keyspace)
}
