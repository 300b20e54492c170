// Package eventstest is the conformance suite of [events] adapters. Every
// adapter runs it against its real backend in a few lines:
//
//	func TestConformance(t *testing.T) {
//		eventstest.Run(t, func(t *testing.T) eventstest.Harness { return newHarness(t) },
//			eventstest.Features{KafkaPartitioner: true})
//	}
//
// The suite checks the contract of [events.Sender], [events.Receiver] and
// [events.Member] through the concrete [events.Publisher] and
// [events.Subscriber]: fields survive the round trip, per-key order,
// partitioning by key, members of one group sharing partitions, groups
// being independent, redelivery after a handler error, giving up after
// MaxAttempts, no loss when a subscriber stops in the middle of a handler
// or restarts, and, for adapters whose bus outlives a process
// ([Features].Process), no loss when a member in another process is
// killed with SIGKILL mid-stream.
//
// Each check has a deadline (see [Timeout]) so that a lost message fails
// the test instead of hanging it; the deadline is never a performance
// assertion.
package eventstest
