// Package storetest is the conformance suite for the adapters of package
// wsregistry. An adapter runs it in a few lines:
//
//	func TestConformance(t *testing.T) {
//		storetest.RunStore(t, func(tb testing.TB) wsregistry.Store { return newStoreOnSharedBackend(tb) })
//	}
//
// Each Open function must return a new handle on the same backend each
// time it is called, as separate processes would have. Every case uses its
// own users and conversations ([Unique]), so a backend may be shared.
//
// [RunStore] checks the lease contract: the expiry predicate at the exact
// deadline (expired leases are never returned), renewal by the holding
// host only, takeover of a device by another host, deletion by the holder
// only, several devices per user on several hosts, many goroutines
// registering and renewing at once, and cancellation. [RunInbox] checks
// ordering, paging, replacement, deletion and concurrent appends;
// [RunSequencer] checks that concurrent Next calls hand out 1..N exactly
// once; [RunLastSeen] checks that the latest time wins in any order.
package storetest
