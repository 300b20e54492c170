// Package sysblocks is a Go SDK of the mechanisms that classic system-design
// case studies are built from, each one tested against the real servers it
// is meant for, plus runnable programs under examples/ that wire the blocks
// into those case studies.
//
// # Blocks
//
//	shortid      base62 fixed-width codes: capacity math, reversible scrambling, alias rules
//	tokenrange   disjoint ID ranges from a durable counter; an in-memory Leaser with a double buffer
//	cache        cache-aside with singleflight, TTL jitter and negative caching
//	events       publish/subscribe with keys, consumer groups and at-least-once delivery; a lossy batching publisher
//	reservation  inventory holds with a TTL, idempotency keys and a late-payment policy; never oversells
//	geogrid      moving objects on an adaptive grid: nearby-k queries, supply and demand per cell, dispatch claims
//	search       fuzzy full-text search (typo tolerance by edit distance) fed from change events
//	trending     top-k terms over sliding windows with a count-min sketch
//	archive      moves finished records from SQL to Cassandra, crash-safe; a merged, paginated reader
//	wsregistry   which gateway holds each user's sockets; store-then-forward routing with resync; a websocket gateway
//
// More blocks (saga, fanout, routing, transcode, rtc, ratelimit, notify)
// follow the same shape.
//
// # Shape of a block
//
// Each block is a concrete type that holds all policy (validation, retries,
// time, idempotency) and talks to storage through a small interface defined
// in the block's package. Adapters live in sub-packages, one per backend:
// memstore (standard library only, the default), redisstore, sqlstore,
// cqlstore, membus and kafkabus. An adapter takes the caller's client and
// never dials or closes it. Every adapter runs the block's exported
// conformance suite (storetest, eventstest) against its real server, so that
// memory and production backends are held to one contract.
//
// A block's root package imports only the standard library (and the library
// that is its subject, such as a geometry package); `make check` enforces it.
//
// # Case studies
//
// examples/urlshortener wires shortid, tokenrange, cache and events into a
// URL shortener that runs with `go run ./examples/urlshortener`, on memory
// backends by default and on MariaDB, Redis, Cassandra and Kafka with
// -backend=real. examples/rides wires geogrid, archive and events into a
// ride-hailing service with drivers on websockets and a live map.
// examples/booking wires reservation, archive, search and cache into a hotel
// booking API; examples/chat wires wsregistry, its gateway, events and
// blob storage into a chat service with a web page.
//
// # Tests
//
// `make test` installs and starts Redis, MariaDB, Kafka, Cassandra, coturn,
// ffmpeg and Chromium on loopback (scripts/services), then runs the whole
// suite with the race detector; no integration test may skip there. `make
// test-unit` runs without servers, and every integration test then skips and
// names the variable to set.
package sysblocks
