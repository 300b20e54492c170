// Package tokenrange implements the token-range service of a URL shortener: every
// server draws disjoint blocks of integer tokens from one durable counter and
// hands them out from memory, so that two servers never produce the same
// short code and the counter is touched once per block, not once per link.
//
// # Pieces
//
// A [Store] holds one counter per namespace and advances it atomically:
// [Store.Reserve] returns the half-open range [lo, hi) of the next n tokens
// and marks it as taken; no later call, from this process or any other one
// using the same backend, returns any of those tokens again. Adapters:
//
//   - memstore: in process, for tests and single-process programs.
//   - sqlstore: MariaDB/MySQL. One counter row per namespace, advanced with
//     SELECT ... FOR UPDATE and UPDATE in one transaction that also writes an
//     audit row per issued range (so the table answers "who got what").
//   - redisstore: Redis INCRBY. Only as durable as the server's persistence:
//     a Redis restarted from an old snapshot hands out ranges again. Use
//     appendonly with appendfsync always, or sqlstore, when that matters.
//
// An [Allocator] wraps a Store with the policy: argument checks, the end of
// the token space ([AllocatorOptions.Limit], for example 62^7 for 7-character
// codes) and retries of transient conflicts (deadlocks, lock wait timeouts),
// which adapters report as [ErrConflict].
//
// A [Leaser] serves single tokens from memory, after Meituan Leaf's segment
// mode: it holds a current range and a next one; when the current range is
// partly used (LeaserOptions.RefillAt) it fetches the next in the background
// ([Leaser.Run]), so callers wait on the store only when both are empty. The
// size of each range adapts to the rate of consumption so that a range lasts
// about LeaserOptions.Target, within [LeaserOptions.MinSize,
// LeaserOptions.MaxSize]. [Leaser.Next] is an atomic add on the current
// range in the common case: no lock and no allocation.
//
// # Running a Leaser
//
//	alloc, err := tokenrange.NewAllocator(store, &tokenrange.AllocatorOptions{Limit: codec.Space()})
//	l, err := tokenrange.NewLeaser(alloc, "links", nil)
//	go l.Run(ctx)            // background refill; stops when ctx ends or on Close
//	defer l.Close()
//	tok, err := l.Next(ctx)  // then code, err := codec.Encode(tok)
//
// Neither constructor starts a goroutine. The background refill is
// [Leaser.Run], which blocks until ctx ends or [Leaser.Close] is called and
// starts no goroutine itself. Run is optional: without it a Leaser still
// works, but the Next call that finds both ranges used up fetches the next
// range itself and waits for the store.
//
// # Guarantees
//
// No token is ever returned twice, across goroutines, Leasers, Allocators
// and processes sharing a store, including after a crash, as long as the
// store keeps what it committed. Tokens are not dense: a crash, Close or a
// lost reply forfeits the unused part of the ranges held at that moment (at
// most the current and the next range of each Leaser, so at most
// 2*MaxSize tokens), and those tokens are never handed out by anyone. This
// is the trade-off of the design notes: "we don't require to keep track of
// those tokens which are lost". Tokens from one Leaser increase over time;
// tokens from different Leasers interleave.
//
// At the end of the space, Reserve returns a final partial range and then
// [ErrExhausted]; Next returns ErrExhausted once its ranges are used up.
package tokenrange
