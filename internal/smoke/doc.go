// Package smoke holds tests that prove each real service the SDK is tested
// against is the real thing and behaves as the blocks rely on: Redis expiry
// events, MariaDB row locks, Kafka consumer-group commits, Cassandra
// lightweight transactions, TURN allocations on coturn, ffmpeg encodes and a
// headless Chromium that runs a page's script.
package smoke
