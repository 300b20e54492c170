// Package archive implements the archival service of the order, booking
// and trip case studies: records that reached a terminal state (an order
// delivered, a booking cancelled or completed, a trip ended) move on a
// schedule from the SQL database, which must stay small to stay fast, to
// Cassandra, which keeps history for good, and a merged reader shows a
// user's live and archived records as one list.
//
// # Moving records
//
// An [Archiver] reads a batch of due records from a [Source] (records
// whose terminal state is older than Options.Age), writes the batch to a
// cold [Store], and only then deletes it from the source; it repeats until
// nothing is due and does that every Options.Interval ([Archiver.Run]).
// Cold stores partition records by Owner (the user), never by date, and
// cluster them newest first, so a user's history is one partition read
// and no partition is hot for a day.
//
// # Why a crash loses nothing and duplicates nothing visible
//
// Four rules, each checked by a test:
//
//  1. Put before Delete. A batch is in the cold store before any of it
//     leaves the source, so at every instant a record is in the source,
//     in the store, or in both; never in neither.
//  2. Put is idempotent: an upsert keyed by (Owner, At, ID). A pass that
//     dies during or after Put is repeated by the next pass, which writes
//     the same rows again and leaves one copy each.
//  3. Delete is idempotent and only deletes terminal records: deleting a
//     record already deleted does nothing, and a live record (a hold, an
//     open order) is never deleted, whatever IDs the call names. With a
//     [RecordDeleter] source, a record changed since it was copied is not
//     deleted either; the next pass copies its new version.
//  4. [Merge] dedups by ID. While a record is in both places (the window
//     between Put and Delete, or after a crash in it), a reader sees it
//     once, as its live copy.
//
// So a process killed with SIGKILL at any point, then restarted, ends with
// every record exactly once across the two stores, and no reader ever
// sees a record twice or misses one. Several Archivers may run at once on
// the same source and store: they may copy the same batch twice, which
// rule 2 absorbs, and delete it twice, which rule 3 absorbs.
//
// What it does not do: it does not move records back, and it does not
// delete from the cold store (set a table TTL for retention). A record's
// Owner and At must never change once it is due; a store would keep the
// old copy beside the new one.
//
// # Adapters
//
//   - memstore: a cold store in memory, for tests and examples.
//   - cqlstore: Apache Cassandra (gocql), one partition per owner,
//     clustered by (at DESC, id DESC).
//   - storetest: the conformance suite every cold store runs.
//   - reservation/archivesource (in the reservation block): bookings as a
//     [Source] and a live [Lister].
package archive
