// Package bench holds the side-by-side benchmark programs of sysblocks.
// It is a module of its own so that the baselines it measures against
// (bleve, plain client loops and so on) never become dependencies of the SDK.
//
// Each program prints its figures as ratios against a named baseline
// measured in the same run:
//
//	go run ./events          kafkabus against a plain kafka-go Writer; BatchPublisher cost; Subscriber against a Reader loop
//	go run ./tokenrange      Leaser against a one-UPDATE-per-ID ticket server on MariaDB and INCR per ID on Redis
//	go run ./cache           cache hits against a bare GET and go-redis/cache; stampede loader calls
//	go run ./urlshortener    redirects against a bare net/http 302 handler (-real: Redis and Cassandra behind it)
//	go run ./booking         holds on MariaDB against a naive select-then-update; expiry lag
//	go run ./rides           geogrid memindex against Redis GEOSEARCH, an orb quadtree and brute force (make data first)
//	go run ./search          fuzzy lookup against bleve's FuzzyQuery on the misspell pairs (make data first)
//	go run ./archive         records moved per second against one-by-one moves; merged history pages against live-only pages
//	go run ./chat/conns      idle websocket connections per gateway and memory per connection, against a two-goroutine pump
//	go run ./chat/messages   messages/s and p50/p99 user to user across two chat gateways, against bare Redis pub/sub
//
// Run them from this folder with the services up (`make services-up` at the
// repository root), or all at once with `make bench`.
package bench
