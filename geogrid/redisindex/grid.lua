-- Adaptive cell grid in Redis. Cells are quad keys: a face digit 0-5, then
-- one digit 0-3 per level, so an ancestor's key is a prefix of its
-- descendants' keys. Keys (all under one prefix):
--   pos   HASH id -> "<leaf quad key> <lat> <lng> <at>"
--   seen  ZSET id -> at (Unix microseconds)
--   kind  HASH cell -> "s" for a split cell; absent for a leaf
--   cnt   HASH cell -> entries in the cell's subtree
--   c:<cell> SET of the ids in leaf <cell>
-- Every script runs atomically: no client ever sees a half-moved entry or a
-- half-split cell.

local function leafOf(kind, q, rootLen, maxLen)
  for l = rootLen, maxLen do
    local p = string.sub(q, 1, l)
    if redis.call('HGET', kind, p) ~= 's' then return p end
  end
  return string.sub(q, 1, maxLen)
end

-- split splits leaf p while it is over maxn and returns how many cells it
-- split.
local function split(pos, kind, cnt, cp, p, maxn, maxLen)
  if #p >= maxLen then return 0 end
  local n = tonumber(redis.call('HGET', cnt, p) or '0')
  if n <= maxn then return 0 end
  local ids = redis.call('SMEMBERS', cp .. p)
  local c = {0, 0, 0, 0}
  for _, m in ipairs(ids) do
    local v = redis.call('HGET', pos, m)
    local d = string.sub(v, #p + 1, #p + 1)
    redis.call('SADD', cp .. p .. d, m)
    c[tonumber(d) + 1] = c[tonumber(d) + 1] + 1
  end
  redis.call('DEL', cp .. p)
  redis.call('HSET', kind, p, 's')
  for d = 0, 3 do redis.call('HSET', cnt, p .. d, c[d + 1]) end
  local splits = 1
  for d = 0, 3 do splits = splits + split(pos, kind, cnt, cp, p .. d, maxn, maxLen) end
  return splits
end

-- add puts id (leaf quad key q) into its leaf and splits it if needed. It
-- returns the number of splits.
local function add(pos, kind, cnt, cp, id, q, rootLen, maxLen, maxn)
  local leaf
  for l = rootLen, maxLen do
    local p = string.sub(q, 1, l)
    redis.call('HINCRBY', cnt, p, 1)
    if redis.call('HGET', kind, p) ~= 's' then leaf = p break end
  end
  redis.call('SADD', cp .. leaf, id)
  return split(pos, kind, cnt, cp, leaf, maxn, maxLen)
end

local function collectLeaves(kind, p, out)
  if redis.call('HGET', kind, p) == 's' then
    for d = 0, 3 do collectLeaves(kind, p .. d, out) end
  else
    table.insert(out, p)
  end
end

local function dropSubtree(kind, cnt, cp, p)
  if redis.call('HGET', kind, p) == 's' then
    for d = 0, 3 do dropSubtree(kind, cnt, cp, p .. d) end
    redis.call('HDEL', kind, p)
  else
    redis.call('DEL', cp .. p)
  end
  redis.call('HDEL', cnt, p)
end

-- del takes id (leaf quad key q) out of its leaf and collapses the highest
-- split cell on the path that fell below minn. It returns 1 if it merged a
-- subtree, else 0.
local function del(pos, kind, cnt, cp, id, q, rootLen, maxLen, minn)
  local merge, leaf
  for l = rootLen, maxLen do
    local p = string.sub(q, 1, l)
    local n = redis.call('HINCRBY', cnt, p, -1)
    local split = redis.call('HGET', kind, p) == 's'
    if not split then leaf = p break end
    if merge == nil and n < minn then merge = p end
  end
  redis.call('SREM', cp .. leaf, id)
  if merge then
    local leaves = {}
    collectLeaves(kind, merge, leaves)
    local keys = {}
    for i, l in ipairs(leaves) do keys[i] = cp .. l end
    local tmp = cp .. merge .. ':merge'
    redis.call('SUNIONSTORE', tmp, unpack(keys))
    local n = redis.call('HGET', cnt, merge)
    for d = 0, 3 do dropSubtree(kind, cnt, cp, merge .. d) end
    redis.call('HDEL', kind, merge)
    redis.call('HSET', cnt, merge, n)
    if redis.call('EXISTS', tmp) == 1 then
      redis.call('RENAME', tmp, cp .. merge)
    end
    return 1
  end
  return 0
end
