// Package redisstore implements [cache.Store] on Redis with go-redis: one
// GET, SET PX or DEL per call, under an optional key prefix.
//
// The store takes the caller's client (any redis.UniversalClient: a
// single node, a cluster or a failover client) and never closes it. Keys
// expire on the Redis clock; the [cache.Cache] in front also writes the
// expiry into every entry and checks it on its own clock, so the Redis TTL
// only reclaims memory.
package redisstore
