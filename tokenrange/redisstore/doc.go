// Package redisstore implements [tokenrange.Store] on Redis with INCRBY, the
// first design of the notes: the URL shortener servers are clients of one
// Redis that auto-increments the count.
//
// Reserve is a single INCRBY key n: the reply is hi, and lo = hi - n. INCRBY
// is atomic, so concurrent reservations from any number of processes get
// disjoint ranges in one round trip each. At the end of the space the
// counter passes the limit: the call that crosses it gets [lo, limit), and
// later calls, which find lo >= limit, get [tokenrange.ErrExhausted]; the
// counter then keeps growing harmlessly (Counter may exceed the limit).
// Because limits are at most [tokenrange.MaxLimit] (2^62) and ranges at most
// [tokenrange.MaxRangeSize], the crossing call cannot overflow Redis's
// signed 64-bit integer; a later overflow error also means exhaustion.
//
// Durability is Redis's: with RDB snapshots or appendfsync everysec, a
// crash of the Redis server can roll the counter back and ranges already
// handed out are then handed out again. Run Redis with appendonly yes and
// appendfsync always for this store, or use sqlstore. A single Redis is also
// a single point of failure, as the notes say; this store does not hide that.
//
// The store takes the caller's client and never closes it. It keeps no
// audit log.
package redisstore
