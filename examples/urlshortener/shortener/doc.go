// Package shortener implements the URL shortener service of the design
// notes: an HTTP API that turns long URLs into short codes, redirects codes
// to their targets, and counts clicks.
//
// # Wiring
//
// Generated codes are tokens from a tokenrange.Leaser (disjoint ranges from
// one durable counter, so servers never hand out the same token) encoded by
// a shortid.Codec of fixed length with keyed scrambling, so consecutive
// links do not get consecutive codes. Links live in a LinkStore (memstore,
// or cqlstore on Cassandra, partitioned by code). The redirect path reads
// through an optional cache.Cache (Redis in the real setup). Every redirect
// publishes a Click through an events.BatchPublisher, which never blocks
// and drops clicks when its queue is full; a consumer (events.Subscriber)
// skips bots, sums clicks per code and UTC day in memory and writes the sums
// to ClickCounts every Config.CountFlush.
//
// # Codes and aliases never collide
//
// A generated code is exactly Codec.Length() characters of base62. A custom
// alias must pass shortid's alias rules with CodeLength set to that length,
// which refuse every string of that length made only of base62 characters
// (shortid.ErrCodeLike), plus reserved words such as api, healthz and
// metrics. The two sets are disjoint, so a code issued in the future can
// never equal an alias claimed today, and one table holds both. A path that
// is neither a valid code nor a valid alias is answered 400 without a store
// or cache lookup.
//
// # Invariants
//
//   - Among concurrent claims of one alias exactly one wins (201); the others
//     get 409 and change nothing (LinkStore.Claim: a mutex in memory,
//     INSERT ... IF NOT EXISTS in Cassandra).
//   - Expiry is a predicate checked on every redirect against Config.Now, so
//     a link answers 410 from its expiry on, whatever the cache or the
//     store's cleanup does. Stores drop expired links ExpiredRetention after
//     expiry (a Cassandra TTL), after which the code answers 404.
//   - Bad input (URL, alias, expiry, code) is refused with 400 before any
//     token is drawn or anything is stored.
//
// # Failure modes
//
// Click analytics is lossy by design: clicks queued when the process dies,
// clicks dropped by a full queue, and sums not yet flushed are lost, and a
// click event delivered twice after a consumer restart is counted twice.
// Creation is limited per client address by an in-process token bucket, so
// N servers allow N times the rate. A Redis outage makes redirects read the
// link store directly (the cache bypasses a failing store); a link store
// outage answers 503. Permanent redirects (301, 308) are cached by browsers,
// which then stop reporting clicks.
package shortener
