// Package redisindex is the Redis adapter of geogrid: the same adaptive
// grid of S2 cells as memindex, kept in Redis so that many processes share
// it, and a [geogrid.Claims] on SET NX.
//
// Layout, all keys under the caller's prefix P:
//
//	P:pos      HASH  id -> "<leaf quad key> <lat> <lng> <at µs>"
//	P:seen     ZSET  id -> last fix time (µs), for pruning stale entries
//	P:kind     HASH  cell quad key -> "s" when the cell is split
//	P:cnt      HASH  cell quad key -> entries in the cell's subtree
//	P:c:<cell> SET   ids in the leaf cell
//	P:claim:<key>    STRING owner, with a TTL
//
// What is atomic: each Update, Remove and Search is one Lua script, so an
// entry is moved between cell sets, counted and (when its leaf overflows or
// its subtree empties) split or merged in one step that no other client can
// observe half done. Prune removes up to 512 entries per script. Claim is
// one SET NX PX GET command; Release is a compare-and-delete script.
// Staleness is a predicate evaluated inside Search on the stored time, so a
// stale entry is never returned even before Prune runs.
//
// Cell quad keys ([geogrid.Cell.QuadKey]) let Lua, which has no 64-bit
// integers, find ancestors by string prefix. The scripts touch keys they
// compute from the prefix; on Redis Cluster, give the prefix a hash tag
// ("{rides}:grid") so that all keys of one index live in one slot. Claim
// expiry uses the Redis server's clock; the now passed to Claims is
// ignored.
package redisindex
