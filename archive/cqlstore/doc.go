// Package cqlstore implements [archive.Store] on Apache Cassandra
// (github.com/apache/cassandra-gocql-driver/v2): the design notes'
// historical store.
//
// # Table
//
// One table (archive_records by default, see [Options.Table]):
//
//	CREATE TABLE archive_records (
//	    owner text, at bigint, id text, data blob,
//	    PRIMARY KEY ((owner), at, id)
//	) WITH CLUSTERING ORDER BY (at DESC, id DESC);
//
// partitioned by owner, never by date, and clustered newest first, so a
// page of a user's history is one slice of one partition. at holds
// nanoseconds since the Unix epoch, which keeps any Go time between the
// years 1678 and 2262 exactly (Cassandra's timestamp type keeps
// milliseconds, which would reorder records of the same millisecond and
// break cursors taken from the live store). Create it with
// [Store.CreateSchema]; [Store.Schema] returns the statement.
//
// # Writes
//
// Put writes each record with a plain INSERT, which overwrites the row of
// the same (owner, at, id): writing a batch again after a crash leaves one
// copy. Records are written Options.Parallelism at a time, not in a CQL
// batch (a batch over 50 KiB is refused, and batches across partitions
// cost more than they save).
//
// The store takes the caller's session and never closes it.
package cqlstore
