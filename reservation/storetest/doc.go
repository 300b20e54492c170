// Package storetest is the conformance suite for [reservation.Store]
// implementations. An adapter runs it in a few lines:
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, storetest.Config{
//			Open: func(tb testing.TB) reservation.Store { return newHandleOnSharedBackend(tb) },
//		})
//	}
//
// Open must return a new handle (its own client or pool, where the backend
// has one) on the same backend each time it is called, as separate
// processes would have. Every case uses its own room IDs and keys, so a
// backend may be shared with other tests.
//
// The suite checks the store contract (inventory, all-or-nothing holds,
// the expiry predicate at the exact deadline, lazy release, transitions and
// their capacity effects, compare-and-set conflicts, idempotency records,
// listings, pruning, cancellation, a user's bookings by page, a room's
// current bookings, the
// archiving primitives) and, through a [reservation.Service] on
// the store, the races the block exists for: many goroutines holding the
// last rooms of a night or of overlapping stays (exactly the capacity
// wins), one key sent by many goroutines (one booking), duplicate and
// reordered payment callbacks, late payments both ways, and a random
// concurrent workload whose end state is checked against the invariant.
// [RunProcesses] adds processes killed with SIGKILL between Hold and
// Confirm. [Benchmark] measures holds on one hot room and on many rooms.
package storetest
