// Package storetest is the conformance suite for [cache.Store]
// implementations. An adapter runs it in a few lines:
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, storetest.Config{
//			New: func(tb testing.TB, now func() time.Time) cache.Store {
//				return memstore.New(&memstore.Options{Now: now})
//			},
//		})
//	}
//
// Run checks the Store contract itself (absence, overwrite, delete, slice
// ownership, distinct keys, expiry at the boundary, cancellation,
// concurrent writers) and then runs a [cache.Cache] on the store to check
// that the cache behaves the same on every backend: one load for a
// stampede, a cancelled caller not failing the others, negative entries
// and their expiry, error caching, invalidation, and recovery from
// undecodable bytes.
package storetest
