// Package cqlstore implements the offline inbox and the last-seen store
// of package wsregistry on Apache Cassandra
// (github.com/apache/cassandra-gocql-driver/v2).
//
// The inbox table wsr_inbox is partitioned by recipient and clustered by
// (conversation, sequence): a resync reads one partition in order from a
// position with a tuple comparison, an acknowledgement deletes one row
// or a clustering range, and a re-appended message overwrites its own
// row. The last-seen table wsr_last_seen is written with USING TIMESTAMP
// equal to the time seen, so Cassandra's last-write-wins keeps the latest
// time whatever order updates arrive in and however often they repeat
// (as they do from an at-least-once Kafka consumer). Times are kept to
// the millisecond.
//
// Acknowledged rows leave tombstones until the table's gc_grace_seconds
// has passed and a compaction ran; a resync reads the recipient's
// partition from its start and so reads through the tombstones of recent
// acknowledgements. Lower gc_grace_seconds on wsr_inbox for very busy
// recipients (within the repair schedule).
//
// The store takes the caller's session and never closes it.
// [Store.CreateSchema] creates the tables in the session's keyspace.
package cqlstore
