// Package geogrid implements the location layer of a ride-hailing system:
// moving objects (drivers) on an adaptive grid of cells over the whole
// sphere, fast position updates, nearest-k queries by exact great-circle
// distance, supply and demand per cell for surge pricing, and dispatch
// (the best driver for premium riders; a broadcast where the first driver
// to accept wins for everyone else), with a fraud check for drivers who book
// their own rides.
//
// # The grid
//
// The sphere is divided into S2 cells ([Cell]): six cube faces, each the
// root of a quadtree, so every cell has one parent, four children and eight
// neighbours (seven at a cube corner). S2 was chosen over a latitude and
// longitude grid (geohash, or a planar quadtree such as
// github.com/paulmach/orb/quadtree) because its cells have nearly equal
// areas at every latitude, it has no seam at the antimeridian and no
// degenerate cells at the poles, a cell contains exactly the cells whose ids
// fall in its id range, and github.com/golang/geo gives exact cell geometry
// (bounding caps, coverings) to prune a search soundly. orb works in planar
// degrees; it serves here as a benchmark baseline, not as the index.
//
// The grid is adaptive, as the "segment management" of the design notes
// asks: a leaf cell splits into its four children when it holds more than
// [Segmentation].MaxPerCell objects and a subtree merges back into one leaf
// when it holds fewer than MinPerCell. A dense city block ends up in small
// cells and a desert in one large one, so a query reads about the same
// number of objects anywhere. Every object is in exactly one leaf, the one
// containing its position; splits and merges never lose or double-count it.
//
// # Invariants
//
//   - An [Index] keeps the newest fix of each id: a fix older than the stored
//     one is ignored, so reordered updates never move a driver back.
//   - A fix older than the TTL is never returned by [Grid.Nearby] or
//     [Grid.Get]. Staleness is a predicate on the stored time (Redis GEO has
//     no per-member expiry), so correctness never waits for a sweeper;
//     [Grid.Run] prunes stale entries only to reclaim space.
//   - Nearby returns exact great-circle (haversine) distances on a sphere of
//     radius [EarthRadiusMeters], nearest first, ties broken by id; the
//     index only narrows the candidates.
//   - Of any number of concurrent claims on a trip, exactly one wins
//     ([Claims]); a driver holds at most one trip. The winner of a
//     broadcast may accept again and gets the same assignment; the other
//     drivers offered the trip get [ErrClaimed], also after
//     [Dispatcher.Assign] returned (for DispatchOptions.Remember).
//   - Invalid input (NaN, infinities, latitude beyond ±90, longitude beyond
//     ±180, negative radius or k, empty id) returns an [*InputError]
//     matching [ErrInvalidInput] and changes nothing.
//
// # What it does not guarantee
//
// Distances are on a sphere, not the WGS84 ellipsoid (up to 0.5% apart).
// Times are kept to the microsecond. A [Market] and a [Fraud] check live in
// the memory of one process. Offers made by a [Dispatcher], and the
// outcomes of its settled broadcasts, live in that Dispatcher: a driver's
// accept must be routed to it; the claims, which [Dispatcher.Holder]
// reads, are in the shared [Claims] store. The ETA of [StraightLine]
// ignores roads; a router can implement [ETA].
//
// # Observability
//
// [Grid.Stats], [Market.Stats] and [Dispatcher.Stats] return counters
// (updates, queries, stale fixes excluded; supply and demand counted;
// offers, claims won and lost, rounds timed out), and [Grid.Stats] includes
// the index's own (moves between cells, splits, merges) when it implements
// [StatsIndex]. [Cell.Vertices] and [Cell.Bounds] give the geometry a map
// needs to draw the segments of [Grid.Segments].
//
// # Adapters
//
// memindex is the in-memory index: a quadtree of cells per root cell with
// one read-write lock per root and an id map split in shards; a root exists
// only while it holds entries, so memory follows what is stored whatever
// the root level, and updates that stay in their cell allocate nothing. redisindex keeps the same adaptive
// grid in Redis (one set per leaf cell, a hash of positions, a sorted set of
// last-seen times) and moves objects, splits and merges cells in Lua
// scripts, so each Update is atomic on the server. Both implement [Claims].
// indextest is the conformance suite every adapter runs.
package geogrid
