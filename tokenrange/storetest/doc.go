// Package storetest is the conformance suite for [tokenrange.Store]
// implementations. An adapter runs it in a few lines:
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, storetest.Config{
//			Open: func(tb testing.TB) tokenrange.Store { return newHandleOnSharedBackend(tb) },
//		})
//	}
//
// Open must return a new handle (its own client or pool) on the same
// backend each time it is called, as separate processes would have: the
// suite runs many allocators on many handles at once and checks that the
// ranges they get are disjoint and, with no crash in between, cover the
// counter with no gap. It also checks the sequence of ranges, the end of the
// space, cancellation and, for stores that implement
// [tokenrange.Auditor], the audit log.
//
// [RunProcesses] adds the checks that need real processes: several child
// processes allocating at once, and child processes killed with SIGKILL
// while leasing, with no token printed twice. [Benchmark] measures Reserve
// and Leaser.Next on the store.
package storetest
