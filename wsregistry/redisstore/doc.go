// Package redisstore implements the connection registry and the
// sequencer of package wsregistry on Redis.
//
// The registry keeps, per user, a hash device -> host and a sorted set
// device -> lease expiry (Unix milliseconds), both under one hash tag so
// that a Redis Cluster keeps them on one slot. Each operation is one Lua
// script, so a renewal that races a takeover by another host never
// renews the new lease or resurrects the old one. Reads apply the expiry
// predicate (expiry > now) in the script: expired leases are never
// returned, whether or not they were deleted yet. Writes remove the
// user's expired leases and set both keys to expire a minute after the
// user's last lease, so idle users leave nothing behind without a
// sweeper. Lease times are kept to the millisecond, rounded down.
//
// The sequencer is one INCR key per conversation.
//
// Adapters take the caller's client and never close it.
package redisstore
