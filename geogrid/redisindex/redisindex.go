package redisindex

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/golang/geo/s1"
	"github.com/golang/geo/s2"
	"github.com/redis/go-redis/v9"

	"github.com/sysblocks/sysblocks/geogrid"
)

//go:embed grid.lua
var lib string

var (
	updateScript = redis.NewScript(lib + `
local pos, seen, kind, cnt = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local id, q, at = ARGV[1], ARGV[2], tonumber(ARGV[5])
local maxn, minn = tonumber(ARGV[6]), tonumber(ARGV[7])
local rootLen, maxLen, cp = tonumber(ARGV[8]), tonumber(ARGV[9]), ARGV[10]
local val = q .. ' ' .. ARGV[3] .. ' ' .. ARGV[4] .. ' ' .. ARGV[5]
local old = redis.call('HGET', pos, id)
if old then
  local oq, oat = string.match(old, '^(%S+) %S+ %S+ (%S+)$')
  if tonumber(oat) > at then return {0, 0, 0} end
  local leaf = leafOf(kind, oq, rootLen, maxLen)
  if string.sub(q, 1, #leaf) == leaf then
    redis.call('HSET', pos, id, val)
    redis.call('ZADD', seen, at, id)
    return {1, 0, 0}
  end
  local merges = del(pos, kind, cnt, cp, id, oq, rootLen, maxLen, minn)
  redis.call('HSET', pos, id, val)
  redis.call('ZADD', seen, at, id)
  return {2, add(pos, kind, cnt, cp, id, q, rootLen, maxLen, maxn), merges}
end
redis.call('HSET', pos, id, val)
redis.call('ZADD', seen, at, id)
return {3, add(pos, kind, cnt, cp, id, q, rootLen, maxLen, maxn), 0}
`)
	removeScript = redis.NewScript(lib + `
local pos, seen, kind, cnt = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local minn, rootLen, maxLen, cp = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4]), ARGV[5]
local merges = 0
local function remove(id)
  local old = redis.call('HGET', pos, id)
  if not old then return 0 end
  local oq = string.match(old, '^(%S+) ')
  merges = merges + del(pos, kind, cnt, cp, id, oq, rootLen, maxLen, minn)
  redis.call('HDEL', pos, id)
  redis.call('ZREM', seen, id)
  return 1
end
if ARGV[6] == 'prune' then
  local ids = redis.call('ZRANGEBYSCORE', seen, '-inf', ARGV[1], 'LIMIT', 0, 512)
  for _, id in ipairs(ids) do remove(id) end
  return {#ids, merges}
end
return {remove(ARGV[1]), merges}
`)
	searchScript = redis.NewScript(lib + `
local pos, kind = KEYS[1], KEYS[2]
local after, rootLen, cp = tonumber(ARGV[1]), tonumber(ARGV[2]), ARGV[3]
local done, out = {}, {}
local function addLeaf(p)
  if done[p] then return end
  done[p] = true
  local ids = redis.call('SMEMBERS', cp .. p)
  for i = 1, #ids, 1000 do
    local chunk = {}
    for j = i, math.min(i + 999, #ids) do chunk[#chunk + 1] = ids[j] end
    local vals = redis.call('HMGET', pos, unpack(chunk))
    for j = 1, #chunk do
      local v = vals[j]
      if v and tonumber(string.match(v, '(%S+)$')) > after then
        out[#out + 1] = chunk[j]
        out[#out + 1] = v
      end
    end
  end
end
for i = 4, #ARGV do
  local cov = ARGV[i]
  local found
  for l = rootLen, #cov do
    local p = string.sub(cov, 1, l)
    if redis.call('HGET', kind, p) ~= 's' then found = p break end
  end
  if found then
    addLeaf(found)
  else
    local ls = {}
    collectLeaves(kind, cov, ls)
    for _, l in ipairs(ls) do addLeaf(l) end
  end
end
return out
`)
	releaseScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`)
)

// Options configures an [Index]. A nil *Options means all defaults.
type Options struct {
	// Segmentation sets the adaptive grid; zero fields take the defaults
	// of [geogrid.Segmentation]. Every client of one prefix must use the
	// same Segmentation.
	Segmentation geogrid.Segmentation
}

// Index is a [geogrid.Index] and [geogrid.Claims] in Redis. It is safe for
// concurrent use; it never closes the client.
type Index struct {
	c    redis.UniversalClient
	p    string
	seg  geogrid.Segmentation
	keys []string // pos, seen, kind, cnt
	args []any    // max, min, rootLen, maxLen, cell prefix

	moves, splits, merges atomic.Uint64 // what this Index's calls did
}

// New returns an Index storing under prefix in c. It returns an error
// matching [geogrid.ErrInvalidInput] for an empty prefix or a contradictory
// Segmentation.
func New(c redis.UniversalClient, prefix string, opts *Options) (*Index, error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	if prefix == "" {
		return nil, &geogrid.InputError{Op: "redisindex", Field: "prefix", Reason: "empty"}
	}
	seg, err := o.Segmentation.Normalize()
	if err != nil {
		return nil, err
	}
	return &Index{
		c: c, p: prefix, seg: seg,
		keys: []string{prefix + ":pos", prefix + ":seen", prefix + ":kind", prefix + ":cnt"},
		args: []any{seg.MaxPerCell, seg.MinPerCell, seg.MinLevel + 1, seg.MaxLevel + 1, prefix + ":c:"},
	}, nil
}

func fmtFloat(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }

// Update implements [geogrid.Index].
func (x *Index) Update(ctx context.Context, e geogrid.Entry) error {
	if err := geogrid.CheckPoint("update", e.Lat, e.Lng); err != nil {
		return err
	}
	if e.ID == "" {
		return &geogrid.InputError{Op: "update", Field: "id", Reason: "empty"}
	}
	leaf := geogrid.Cell(s2.CellIDFromLatLng(s2.LatLngFromDegrees(e.Lat, e.Lng)))
	args := append([]any{e.ID, leaf.QuadKey(), fmtFloat(e.Lat), fmtFloat(e.Lng), e.At}, x.args...)
	r, err := updateScript.Run(ctx, x.c, x.keys, args...).Int64Slice()
	if err == nil && len(r) != 3 {
		err = fmt.Errorf("unexpected reply %v", r)
	}
	if err != nil {
		return fmt.Errorf("redisindex: update %q: %w", e.ID, err)
	}
	if r[0] == 2 {
		x.moves.Add(1)
	}
	x.count(r[1], r[2])
	return nil
}

// count adds the splits and merges a script reported.
func (x *Index) count(splits, merges int64) {
	if splits > 0 {
		x.splits.Add(uint64(splits))
	}
	if merges > 0 {
		x.merges.Add(uint64(merges))
	}
}

// remove runs the remove script: one id, or the stale entries up to 512.
// It returns how many entries it removed.
func (x *Index) remove(ctx context.Context, target any, mode string) (int, error) {
	r, err := removeScript.Run(ctx, x.c, x.keys, target, x.args[1], x.args[2], x.args[3], x.args[4], mode).Int64Slice()
	if err == nil && len(r) != 2 {
		err = fmt.Errorf("unexpected reply %v", r)
	}
	if err != nil {
		return 0, err
	}
	x.count(0, r[1])
	return int(r[0]), nil
}

// Remove implements [geogrid.Index].
func (x *Index) Remove(ctx context.Context, id string) error {
	n, err := x.remove(ctx, id, "one")
	if err != nil {
		return fmt.Errorf("redisindex: remove %q: %w", id, err)
	}
	if n == 0 {
		return fmt.Errorf("redisindex: remove %q: %w", id, geogrid.ErrNotFound)
	}
	return nil
}

// Prune implements [geogrid.Index].
func (x *Index) Prune(ctx context.Context, before int64) (int, error) {
	total := 0
	for {
		n, err := x.remove(ctx, before, "prune")
		total += n
		if err != nil {
			return total, fmt.Errorf("redisindex: prune: %w", err)
		}
		if n < 512 {
			return total, nil
		}
	}
}

// Stats implements [geogrid.StatsIndex]: the moves, splits and merges
// done by this Index's own calls since New (other clients of the same
// prefix count theirs). Entries and StaleSkipped, which would take a round
// trip, are zero.
func (x *Index) Stats() geogrid.IndexStats {
	return geogrid.IndexStats{Moves: x.moves.Load(), Splits: x.splits.Load(), Merges: x.merges.Load()}
}

func parseEntry(id, v string) (geogrid.Entry, error) {
	f := strings.Fields(v)
	if len(f) != 4 {
		return geogrid.Entry{}, fmt.Errorf("redisindex: entry %q: malformed value %q", id, v)
	}
	lat, err1 := strconv.ParseFloat(f[1], 64)
	lng, err2 := strconv.ParseFloat(f[2], 64)
	at, err3 := strconv.ParseInt(f[3], 10, 64)
	if err := errors.Join(err1, err2, err3); err != nil {
		return geogrid.Entry{}, fmt.Errorf("redisindex: entry %q: %w", id, err)
	}
	return geogrid.Entry{ID: id, Lat: lat, Lng: lng, At: at}, nil
}

// Get implements [geogrid.Index].
func (x *Index) Get(ctx context.Context, id string) (geogrid.Entry, error) {
	v, err := x.c.HGet(ctx, x.keys[0], id).Result()
	if errors.Is(err, redis.Nil) {
		return geogrid.Entry{}, fmt.Errorf("redisindex: get %q: %w", id, geogrid.ErrNotFound)
	}
	if err != nil {
		return geogrid.Entry{}, fmt.Errorf("redisindex: get %q: %w", id, err)
	}
	return parseEntry(id, v)
}

// Search implements [geogrid.Index]. It covers the circle with at most 16
// cells (more for wide circles, never coarser than MinLevel), reads the
// leaves under them in one script and filters stale entries there.
func (x *Index) Search(ctx context.Context, q geogrid.Query, visit func(geogrid.Entry) bool) error {
	if err := geogrid.CheckPoint("search", q.Lat, q.Lng); err != nil {
		return err
	}
	if math.IsNaN(q.Meters) || q.Meters < 0 {
		return &geogrid.InputError{Op: "search", Field: "radius", Value: q.Meters, Reason: "must be >= 0"}
	}
	theta := math.Min(math.Pi, q.Meters/geogrid.EarthRadiusMeters*(1+1e-9)+1e-12)
	c := s2.CapFromCenterAngle(s2.PointFromLatLng(s2.LatLngFromDegrees(q.Lat, q.Lng)), s1.Angle(theta))
	rc := &s2.RegionCoverer{MinLevel: x.seg.MinLevel, MaxLevel: x.seg.MaxLevel, MaxCells: 16}
	cov := rc.Covering(c)
	args := make([]any, 0, 3+len(cov))
	args = append(args, q.After, x.seg.MinLevel+1, x.args[4])
	for _, id := range cov {
		args = append(args, geogrid.Cell(id).QuadKey())
	}
	res, err := searchScript.Run(ctx, x.c, []string{x.keys[0], x.keys[2]}, args...).StringSlice()
	if err != nil {
		return fmt.Errorf("redisindex: search: %w", err)
	}
	for i := 0; i+1 < len(res); i += 2 {
		e, err := parseEntry(res[i], res[i+1])
		if err != nil {
			return err
		}
		if !visit(e) {
			return nil
		}
	}
	return nil
}

// Segments implements [geogrid.Index].
func (x *Index) Segments(ctx context.Context, visit func(geogrid.Segment) bool) error {
	split, err := x.c.HGetAll(ctx, x.keys[2]).Result()
	if err != nil {
		return fmt.Errorf("redisindex: segments: %w", err)
	}
	counts, err := x.c.HGetAll(ctx, x.keys[3]).Result()
	if err != nil {
		return fmt.Errorf("redisindex: segments: %w", err)
	}
	for k, v := range counts {
		if split[k] == "s" {
			continue
		}
		cell, err := geogrid.CellFromQuadKey(k)
		if err != nil {
			return fmt.Errorf("redisindex: segments: cell %q: %w", k, err)
		}
		n, err := strconv.Atoi(v)
		if err != nil {
			return fmt.Errorf("redisindex: segments: count of %q: %w", k, err)
		}
		if !visit(geogrid.Segment{Cell: cell, Count: n}) {
			return nil
		}
	}
	return nil
}

func (x *Index) claimKey(key string) string { return x.p + ":claim:" + key }

// Claim implements [geogrid.Claims] with SET NX PX GET: one atomic command.
// now is ignored; the claim expires by the server's clock.
func (x *Index) Claim(ctx context.Context, key, owner string, _ time.Time, ttl time.Duration) (string, error) {
	ttl = max(ttl, time.Millisecond)
	old, err := x.c.SetArgs(ctx, x.claimKey(key), owner, redis.SetArgs{Mode: "NX", TTL: ttl, Get: true}).Result()
	if errors.Is(err, redis.Nil) {
		return owner, nil // the key was free and is now ours
	}
	if err != nil {
		return "", fmt.Errorf("redisindex: claim %q: %w", key, err)
	}
	return old, nil
}

// Holder implements [geogrid.Claims].
func (x *Index) Holder(ctx context.Context, key string, _ time.Time) (string, error) {
	v, err := x.c.Get(ctx, x.claimKey(key)).Result()
	if errors.Is(err, redis.Nil) {
		return "", fmt.Errorf("redisindex: holder %q: %w", key, geogrid.ErrNotFound)
	}
	if err != nil {
		return "", fmt.Errorf("redisindex: holder %q: %w", key, err)
	}
	return v, nil
}

// Release implements [geogrid.Claims].
func (x *Index) Release(ctx context.Context, key, owner string, _ time.Time) error {
	n, err := releaseScript.Run(ctx, x.c, []string{x.claimKey(key)}, owner).Int()
	if err != nil {
		return fmt.Errorf("redisindex: release %q: %w", key, err)
	}
	if n == 0 {
		return fmt.Errorf("redisindex: release %q by %q: %w", key, owner, geogrid.ErrNotFound)
	}
	return nil
}

var (
	_ geogrid.Index      = (*Index)(nil)
	_ geogrid.Claims     = (*Index)(nil)
	_ geogrid.StatsIndex = (*Index)(nil)
)
