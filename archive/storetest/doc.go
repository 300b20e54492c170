// Package storetest is the conformance suite for [archive.Store]
// implementations. An adapter runs it in a few lines:
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, storetest.Config{Open: func(tb testing.TB) archive.Store { return newStore(tb) }})
//	}
//
// Open may return the same store each time or a new handle on the same
// backend; every case uses its own owners, so a backend may be shared with
// other tests.
//
// The suite checks: listing order (At descending, ties by ID descending)
// and strict cursors over pages of every size from 1 to 7; owners kept
// apart; Data and At (to the nanosecond, in any zone) surviving the store;
// Put as an idempotent upsert (again, with new Data, concurrently from
// many goroutines); invalid records and limits refused with
// [archive.ErrInvalid] and nothing written; cancelled contexts.
package storetest
