// Package membus is an in-memory [events] adapter with Kafka's semantics:
// topics split into partitions, a key always maps to the same partition
// (with Kafka's murmur2 partitioner, see [events.Partition]), consumer
// groups whose members share the partitions (Kafka's range assignment),
// offsets committed per group and partition, and, whenever a member joins,
// leaves or dies (see Options.SessionTimeout), redelivery from the
// committed offsets of everything not yet committed.
//
// A [Bus] lives in one process and is gone when the process ends: use it
// for tests, examples and single-process programs. Messages are copied on
// the way in and on the way out, so callers may reuse and modify buffers
// as they would with Kafka.
package membus
