package redisstore

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sysblocks/sysblocks/wsregistry"
)

// Options configures a [Store] or a [Sequencer]. The zero value is valid.
type Options struct {
	// Prefix starts every key. Empty means "wsr:".
	Prefix string
}

func prefix(o *Options) string {
	if o == nil || o.Prefix == "" {
		return "wsr:"
	}
	return o.Prefix
}

// Store is a wsregistry.Store on Redis. It is safe for concurrent use.
type Store struct {
	c      redis.UniversalClient
	prefix string
}

var _ wsregistry.Store = (*Store)(nil)

// New returns a Store on the caller's client.
func New(c redis.UniversalClient, opts *Options) (*Store, error) {
	if c == nil {
		return nil, fmt.Errorf("redisstore: nil client: %w", wsregistry.ErrInvalid)
	}
	return &Store{c: c, prefix: prefix(opts)}, nil
}

func (s *Store) keys(user string) []string {
	k := s.prefix + "{" + user + "}"
	return []string{k + ":hosts", k + ":leases"}
}

// housekeeping drops the expired leases of the user (KEYS[1] hosts,
// KEYS[2] leases; ARGV[4] now in ms) and sets both keys to expire a
// minute after the last lease.
const housekeeping = `
local function prune(now)
  local expired = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now)
  for i = 1, #expired, 500 do
    redis.call('HDEL', KEYS[1], unpack(expired, i, math.min(i + 499, #expired)))
  end
  redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
end
local function keep(now)
  local top = redis.call('ZRANGE', KEYS[2], -1, -1, 'WITHSCORES')
  if #top == 0 then return end
  local ttl = math.max(tonumber(top[2]) - tonumber(now), 0) + 60000
  redis.call('PEXPIRE', KEYS[1], ttl)
  redis.call('PEXPIRE', KEYS[2], ttl)
end
`

// ARGV: device, host, expires ms, now ms.
var putScript = redis.NewScript(housekeeping + `
prune(ARGV[4])
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1])
keep(ARGV[4])
return 1
`)

// ARGV: device, host, expires ms, now ms. Returns 0 if the lease is not
// held by host or is not live at now.
var renewScript = redis.NewScript(housekeeping + `
local host = redis.call('HGET', KEYS[1], ARGV[1])
local score = redis.call('ZSCORE', KEYS[2], ARGV[1])
if host ~= ARGV[2] or not score or tonumber(score) <= tonumber(ARGV[4]) then return 0 end
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1])
prune(ARGV[4])
keep(ARGV[4])
return 1
`)

// ARGV: device, host. Returns 0 if host does not hold the device.
var deleteScript = redis.NewScript(`
if redis.call('HGET', KEYS[1], ARGV[1]) ~= ARGV[2] then return 0 end
redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('ZREM', KEYS[2], ARGV[1])
return 1
`)

// ARGV: now ms. Returns device, expiry, host triples of live leases.
var listScript = redis.NewScript(`
local live = redis.call('ZRANGEBYSCORE', KEYS[2], '(' .. ARGV[1], '+inf', 'WITHSCORES')
if #live == 0 then return {} end
local devs = {}
for i = 1, #live, 2 do devs[#devs + 1] = live[i] end
local hosts = redis.call('HMGET', KEYS[1], unpack(devs))
local out = {}
for i, d in ipairs(devs) do
  if hosts[i] then
    out[#out + 1] = d
    out[#out + 1] = live[2 * i]
    out[#out + 1] = hosts[i]
  end
end
return out
`)

// Put creates or replaces the lease of (c.User, c.Device).
func (s *Store) Put(ctx context.Context, c wsregistry.Conn, now time.Time) error {
	err := putScript.Run(ctx, s.c, s.keys(c.User), c.Device, c.Host, c.Expires.UnixMilli(), now.UnixMilli()).Err()
	if err != nil {
		return fmt.Errorf("redisstore: put %s/%s: %w", c.User, c.Device, err)
	}
	return nil
}

// Renew extends the lease of (user, device) if host holds it and it is
// live at now.
func (s *Store) Renew(ctx context.Context, user, device, host string, expires, now time.Time) error {
	n, err := renewScript.Run(ctx, s.c, s.keys(user), device, host, expires.UnixMilli(), now.UnixMilli()).Int()
	if err != nil {
		return fmt.Errorf("redisstore: renew %s/%s: %w", user, device, err)
	}
	if n == 0 {
		return fmt.Errorf("redisstore: renew %s/%s on %s: %w", user, device, host, wsregistry.ErrNotFound)
	}
	return nil
}

// Delete removes the lease of (user, device) if host holds it.
func (s *Store) Delete(ctx context.Context, user, device, host string) error {
	n, err := deleteScript.Run(ctx, s.c, s.keys(user), device, host).Int()
	if err != nil {
		return fmt.Errorf("redisstore: delete %s/%s: %w", user, device, err)
	}
	if n == 0 {
		return fmt.Errorf("redisstore: delete %s/%s on %s: %w", user, device, host, wsregistry.ErrNotFound)
	}
	return nil
}

// List returns the leases of user live at now, sorted by device.
func (s *Store) List(ctx context.Context, user string, now time.Time) ([]wsregistry.Conn, error) {
	vals, err := listScript.Run(ctx, s.c, s.keys(user), now.UnixMilli()).StringSlice()
	if err != nil {
		return nil, fmt.Errorf("redisstore: list %s: %w", user, err)
	}
	out := make([]wsregistry.Conn, 0, len(vals)/3)
	for i := 0; i+2 < len(vals); i += 3 {
		msec, err := strconv.ParseInt(vals[i+1], 10, 64)
		if err != nil {
			return nil, fmt.Errorf("redisstore: list %s: bad expiry %q", user, vals[i+1])
		}
		out = append(out, wsregistry.Conn{User: user, Device: vals[i], Host: vals[i+2], Expires: time.UnixMilli(msec).UTC()})
	}
	slices.SortFunc(out, func(a, b wsregistry.Conn) int { return cmp.Compare(a.Device, b.Device) })
	return out, nil
}

// Sequencer is a wsregistry.Sequencer on Redis: one INCR key per
// conversation. It is safe for concurrent use.
type Sequencer struct {
	c      redis.UniversalClient
	prefix string
}

var (
	_ wsregistry.Sequencer      = (*Sequencer)(nil)
	_ wsregistry.BatchSequencer = (*Sequencer)(nil)
)

// NewSequencer returns a Sequencer on the caller's client.
func NewSequencer(c redis.UniversalClient, opts *Options) (*Sequencer, error) {
	if c == nil {
		return nil, fmt.Errorf("redisstore: nil client: %w", wsregistry.ErrInvalid)
	}
	return &Sequencer{c: c, prefix: prefix(opts)}, nil
}

func (q *Sequencer) key(conv string) string { return q.prefix + "seq:{" + conv + "}" }

// Next returns the next sequence number of conv.
func (q *Sequencer) Next(ctx context.Context, conv string) (uint64, error) {
	n, err := q.c.Incr(ctx, q.key(conv)).Uint64()
	if err != nil {
		return 0, fmt.Errorf("redisstore: next %s: %w", conv, err)
	}
	return n, nil
}

// Last returns the last number handed out for conv, or 0.
func (q *Sequencer) Last(ctx context.Context, conv string) (uint64, error) {
	n, err := q.c.Get(ctx, q.key(conv)).Uint64()
	if errors.Is(err, redis.Nil) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("redisstore: last %s: %w", conv, err)
	}
	return n, nil
}

// LastMany returns Last of each conversation, in the order given, with
// one GET per conversation in a single pipeline (keys of different
// conversations may live on different cluster slots).
func (q *Sequencer) LastMany(ctx context.Context, convs []string) ([]uint64, error) {
	cmds := make([]*redis.StringCmd, len(convs))
	_, err := q.c.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, c := range convs {
			cmds[i] = p.Get(ctx, q.key(c))
		}
		return nil
	})
	if err != nil && !errors.Is(err, redis.Nil) {
		return nil, fmt.Errorf("redisstore: last of %d conversations: %w", len(convs), err)
	}
	out := make([]uint64, len(convs))
	for i, cmd := range cmds {
		n, err := cmd.Uint64()
		if errors.Is(err, redis.Nil) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("redisstore: last %s: %w", convs[i], err)
		}
		out[i] = n
	}
	return out, nil
}
