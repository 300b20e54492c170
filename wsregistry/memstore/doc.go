// Package memstore implements the adapters of package wsregistry in
// memory: the connection [Store], the offline [Inbox], the [Sequencer], a
// [Transport] between hosts of one process, and [LastSeen]. They are for
// tests, examples and single-process programs; all are safe for
// concurrent use and honour context cancellation.
package memstore
