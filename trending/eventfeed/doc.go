// Package eventfeed feeds a [trending.Tracker] from the events block: each
// message is a text (a tweet, a search query, a post) whose terms are
// counted at the message's time, in the region named by a header.
//
// Counting is idempotent per message only as far as the events block
// delivers once: a redelivered message counts again. For trending terms
// that is an acceptable, bounded error (a rebalance redelivers at most the
// uncommitted tail), which is why the handler is a plain
// [events.Handler] for an [events.Subscriber].
package eventfeed
