// Package backends assembles the chat example in its two modes: everything
// in one process's memory, or the real setup of the design notes
// (connection registry, sequence numbers, member-list cache and the
// host-to-host transport on Redis, users and groups on MariaDB, group
// messages through Kafka, the offline inbox and last seen on Cassandra,
// media in a gocloud.dev/blob bucket on the file system). It creates what it
// needs on the servers idempotently.
package backends

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	gocql "github.com/apache/cassandra-gocql-driver/v2"
	"github.com/redis/go-redis/v9"
	"github.com/segmentio/kafka-go"
	"gocloud.dev/blob"
	"gocloud.dev/blob/fileblob"
	"gocloud.dev/blob/memblob"

	"github.com/sysblocks/sysblocks/cache"
	cachemem "github.com/sysblocks/sysblocks/cache/memstore"
	cacheredis "github.com/sysblocks/sysblocks/cache/redisstore"
	"github.com/sysblocks/sysblocks/events"
	"github.com/sysblocks/sysblocks/events/kafkabus"
	"github.com/sysblocks/sysblocks/events/membus"
	"github.com/sysblocks/sysblocks/examples/chat/chat"
	chatmem "github.com/sysblocks/sysblocks/examples/chat/chat/memstore"
	"github.com/sysblocks/sysblocks/examples/chat/chat/sqlstore"
	"github.com/sysblocks/sysblocks/internal/dial"
	"github.com/sysblocks/sysblocks/internal/ops"
	"github.com/sysblocks/sysblocks/wsregistry"
	"github.com/sysblocks/sysblocks/wsregistry/cqlstore"
	"github.com/sysblocks/sysblocks/wsregistry/gateway"
	"github.com/sysblocks/sysblocks/wsregistry/lastseen"
	wsrmem "github.com/sysblocks/sysblocks/wsregistry/memstore"
	"github.com/sysblocks/sysblocks/wsregistry/redisbus"
	"github.com/sysblocks/sysblocks/wsregistry/redisstore"
)

// Defaults used when the corresponding Settings field is empty.
const (
	DefaultKeyspace    = "chat"
	DefaultRedisPrefix = "{chat}:"
	DefaultFanoutGroup = "chat-group-fanout"
	DefaultSeenTopic   = "chat-last-seen"
	DefaultSeenGroup   = "chat-last-seen-writer"
	DefaultPartitions  = 6
)

// Settings names what the backends create and use. The zero value is
// valid.
type Settings struct {
	// RedisPrefix starts every Redis key and channel.
	RedisPrefix string
	// GroupTopic is the Kafka topic of group messages; FanoutGroup the
	// consumer group of the group handlers; Partitions the partition count
	// of the topic when it is created here.
	GroupTopic  string
	FanoutGroup string
	Partitions  int
	// SeenTopic carries last-seen updates from the registries to the
	// consumer group SeenGroup, which writes them to the LastSeen store.
	SeenTopic string
	SeenGroup string
	// MediaDir is the directory of the media bucket (created if missing).
	// Empty means an in-memory bucket.
	MediaDir string
	// Now is the clock of the in-memory adapters. Nil means time.Now.
	Now func() time.Time
}

func (s *Settings) defaults() {
	if s.RedisPrefix == "" {
		s.RedisPrefix = DefaultRedisPrefix
	}
	if s.GroupTopic == "" {
		s.GroupTopic = chat.DefaultGroupTopic
	}
	if s.FanoutGroup == "" {
		s.FanoutGroup = DefaultFanoutGroup
	}
	if s.SeenTopic == "" {
		s.SeenTopic = DefaultSeenTopic
	}
	if s.SeenGroup == "" {
		s.SeenGroup = DefaultSeenGroup
	}
	if s.Partitions <= 0 {
		s.Partitions = DefaultPartitions
	}
	if s.Now == nil {
		s.Now = time.Now
	}
}

// Stack is the storage shared by the gateways of one deployment. Node
// builds a gateway on it.
type Stack struct {
	Leases    wsregistry.Store
	Inbox     wsregistry.Inbox
	Seq       wsregistry.Sequencer
	Transport wsregistry.Transport
	LastSeen  wsregistry.LastSeenStore
	Users     chat.Store
	Cache     cache.Store
	Bucket    *blob.Bucket
	// Events publishes group messages and last-seen updates.
	Events events.Sender
	// Receiver returns a consumer of topic in the consumer group.
	Receiver func(topic, group string) (events.Receiver, error)
	// Listen subscribes host to the transport; run delivers until its
	// context ends.
	Listen func(ctx context.Context, host string, h wsregistry.Handler) (run func(context.Context) error, err error)
	// Checks are the health checks of the servers in use.
	Checks   map[string]ops.Check
	settings Settings
	closers  dial.Closers
}

// Close closes what the stack opened, last opened first.
func (st *Stack) Close() error { return st.closers.Close() }

func openBucket(dir string) (*blob.Bucket, error) {
	if dir == "" {
		return memblob.OpenBucket(nil), nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("backends: media dir: %w", err)
	}
	return fileblob.OpenBucket(dir, &fileblob.Options{NoTempDir: true})
}

// Memory returns the in-memory stack: every gateway built on it lives in
// this process.
func Memory(s Settings) (*Stack, error) {
	s.defaults()
	bucket, err := openBucket(s.MediaDir)
	if err != nil {
		return nil, err
	}
	tr := wsrmem.NewTransport()
	bus := membus.New(&membus.Options{Partitions: 3, Now: s.Now, Retention: 100_000})
	return &Stack{
		Leases: wsrmem.New(), Inbox: wsrmem.NewInbox(), Seq: wsrmem.NewSequencer(), Transport: tr,
		LastSeen: wsrmem.NewLastSeen(), Users: chatmem.New(), Cache: cachemem.New(nil), Bucket: bucket,
		Events:   bus,
		Receiver: func(topic, group string) (events.Receiver, error) { return bus.Receiver(topic, group), nil },
		Listen: func(_ context.Context, host string, h wsregistry.Handler) (func(context.Context) error, error) {
			stop := tr.Listen(host, h)
			return func(ctx context.Context) error { <-ctx.Done(); stop(); return nil }, nil
		},
		Checks: map[string]ops.Check{}, settings: s,
		closers: dial.Closers{bucket.Close},
	}, nil
}

// Clients are connections to the real servers, owned by the caller.
type Clients struct {
	Redis     redis.UniversalClient
	MySQL     *sql.DB
	Cassandra *gocql.Session // on its keyspace
	Brokers   []string
}

// Real returns the stack on the real servers: it creates the MariaDB
// tables, the Cassandra tables and the Kafka topic if they do not exist.
// Close closes the Kafka writer and the bucket, not c.
func Real(ctx context.Context, c Clients, s Settings) (*Stack, error) {
	s.defaults()
	if c.MySQL == nil || c.Redis == nil || c.Cassandra == nil || len(c.Brokers) == 0 {
		return nil, errors.New("backends: real mode needs Redis, MariaDB, Cassandra and Kafka")
	}
	p := s.RedisPrefix
	leases, err := redisstore.New(c.Redis, &redisstore.Options{Prefix: p + "wsr:"})
	if err != nil {
		return nil, err
	}
	seq, err := redisstore.NewSequencer(c.Redis, &redisstore.Options{Prefix: p + "wsr:"})
	if err != nil {
		return nil, err
	}
	bus, err := redisbus.New(c.Redis, &redisbus.Options{Prefix: p + "host:"})
	if err != nil {
		return nil, err
	}
	inbox, err := cqlstore.New(c.Cassandra, nil)
	if err != nil {
		return nil, err
	}
	if err := inbox.CreateSchema(ctx); err != nil {
		return nil, err
	}
	users := sqlstore.New(c.MySQL)
	if err := users.CreateSchema(ctx); err != nil {
		return nil, err
	}
	for _, topic := range []string{s.GroupTopic, s.SeenTopic} {
		if err := dial.CreateTopic(ctx, c.Brokers, topic, s.Partitions); err != nil {
			return nil, err
		}
	}
	bucket, err := openBucket(s.MediaDir)
	if err != nil {
		return nil, err
	}
	tr := &kafka.Transport{}
	w := kafkabus.NewWriter(c.Brokers...)
	w.Transport = tr
	w.BatchTimeout = 2 * time.Millisecond
	sender, err := kafkabus.NewSender(w)
	if err != nil {
		return nil, err
	}
	return &Stack{
		Leases: leases, Inbox: inbox, Seq: seq, Transport: bus, LastSeen: inbox, Users: users,
		Cache: cacheredis.New(c.Redis, &cacheredis.Options{Prefix: p + "cache:"}), Bucket: bucket, Events: sender,
		Receiver: func(topic, group string) (events.Receiver, error) {
			rc := kafkabus.NewReaderConfig(c.Brokers, topic, group)
			rc.MaxWait = 100 * time.Millisecond
			return kafkabus.NewReceiver(rc)
		},
		Listen: func(ctx context.Context, host string, h wsregistry.Handler) (func(context.Context) error, error) {
			l, err := bus.Listen(ctx, host, h)
			if err != nil {
				return nil, err
			}
			return l.Run, nil
		},
		Checks:   dial.Checks(c.Redis, c.MySQL, c.Cassandra, nil),
		settings: s,
		closers:  dial.Closers{bucket.Close, dial.CloseWriter(w, tr)},
	}, nil
}

// NodeOptions configures one gateway.
type NodeOptions struct {
	// Secret signs login tokens; every gateway of a deployment must use
	// the same one. At least 16 bytes.
	Secret []byte
	// TokenTTL is the lifetime of a login token. Zero means 24 hours.
	TokenTTL time.Duration
	// Gateway tunes the websocket gateway (rate limit, queue, origins).
	Gateway *gateway.Options
	// Lease is the registry lease. Zero means the wsregistry default.
	Lease time.Duration
	// MaxMedia is the upload limit. Zero means chat.DefaultMaxMedia.
	MaxMedia int64
	Logger   *slog.Logger
	Now      func() time.Time
}

// Node is one chat gateway host on a Stack.
type Node struct {
	Service  *chat.Service
	Fanout   *chat.GroupFanout
	Registry *wsregistry.Registry
	Router   *wsregistry.Router
	run      []func(context.Context) error
}

// Node builds gateway host on the stack; Run it to deliver, heartbeat and
// fan out group messages.
func (st *Stack) Node(ctx context.Context, host string, o NodeOptions) (*Node, error) {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = st.settings.Now
	}
	// Last seen: the registry publishes through a lossy batch publisher
	// (a dropped update is superseded by the next heartbeat) and a consumer
	// group writes the updates to the LastSeen store.
	seenPub := events.NewBatchPublisher(st.Events, &events.BatchOptions{Topic: st.settings.SeenTopic,
		MaxRecords: 500, MaxDelay: 200 * time.Millisecond, Logger: o.Logger})
	reg, err := wsregistry.New(st.Leases, &wsregistry.Options{Lease: o.Lease, LastSeen: st.LastSeen, Now: o.Now,
		OnSeen: lastseen.Hook(seenPub)})
	if err != nil {
		return nil, err
	}
	router, err := wsregistry.NewRouter(reg, st.Inbox, st.Seq, st.Transport, &wsregistry.RouterOptions{Now: o.Now})
	if err != nil {
		return nil, err
	}
	dir, err := chat.NewDirectory(st.Users, st.Cache, &cache.Options{Now: o.Now, Logger: o.Logger})
	if err != nil {
		return nil, err
	}
	tokens, err := gateway.NewTokens(o.Secret, o.TokenTTL)
	if err != nil {
		return nil, err
	}
	svc, err := chat.New(chat.Config{Host: host, Registry: reg, Router: router, Directory: dir,
		Media: chat.NewMedia(st.Bucket, o.MaxMedia), Tokens: tokens, Groups: st.Events,
		GroupTopic: st.settings.GroupTopic, Gateway: o.Gateway, Logger: o.Logger, Now: o.Now})
	if err != nil {
		return nil, err
	}
	listen, err := st.Listen(ctx, host, svc.Deliver)
	if err != nil {
		return nil, err
	}
	recv, err := st.Receiver(st.settings.GroupTopic, st.settings.FanoutGroup)
	if err != nil {
		return nil, err
	}
	fan := chat.NewGroupFanout(dir, router, o.Logger)
	sub := events.NewSubscriber(recv, fan.Handle, &events.SubscriberOptions{Concurrency: 3, Logger: o.Logger})
	seenRecv, err := st.Receiver(st.settings.SeenTopic, st.settings.SeenGroup)
	if err != nil {
		return nil, err
	}
	seenSub := events.NewSubscriber(seenRecv, lastseen.NewConsumer(st.LastSeen).Handle,
		&events.SubscriberOptions{CommitInterval: time.Second, Logger: o.Logger})
	return &Node{Service: svc, Fanout: fan, Registry: reg, Router: router,
		run: []func(context.Context) error{svc.Run, listen, sub.Run, seenPub.Run, seenSub.Run}}, nil
}

// Run runs the node's background work (registry heartbeats, deliveries
// from the transport, the group fan-out consumer, the last-seen publisher
// and writer) until ctx ends.
func (n *Node) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errs := make(chan error, len(n.run))
	for _, f := range n.run {
		go func() { errs <- f(ctx) }()
	}
	var first error
	for range n.run {
		if err := <-errs; err != nil && first == nil && ctx.Err() == nil {
			first = err
			cancel()
		}
	}
	return first
}

// Env is where the real servers are, from the SYSBLOCKS_* variables; an
// empty Keyspace means DefaultKeyspace.
type Env = dial.Env

// EnvFromOS reads the SYSBLOCKS_* variables.
func EnvFromOS() Env { return dial.EnvFromOS() }

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
