// Package memstore implements [cache.Store] in process memory: a bounded
// map with per-key expiry on a clock passed in, and least-recently-used
// eviction when full.
//
// The store is split into shards by key hash, each a map plus an LRU list
// under its own mutex, so that concurrent Gets of different keys rarely
// contend. Eviction is LRU within a shard, which approximates LRU over the
// whole store ("LRU-ish"); stores with MaxEntries below 1024 use a single
// shard and are exact LRU. Expired entries are removed when read and
// otherwise age out through eviction.
package memstore
