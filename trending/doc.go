// Package trending implements top-k and trending terms over sliding
// windows: the "trending topics" of the Twitter case study, where the words
// of the last hour (stop words removed) are counted, globally and per
// region, and the ones rising fastest against their usual rate are shown.
//
// # How it counts
//
// A [Tracker] keeps, per region, a ring of buckets (by default the last
// hour in one-minute buckets). Each bucket is a [Sketch]: a count-min
// sketch with conservative update for the counts and a min-heap of its
// largest terms as candidates. The window's counts are the running sum of
// its buckets (count-min sketches add counter by counter), so a query
// costs one estimate per candidate instead of a merge of every bucket;
// when a bucket leaves the window it is subtracted from the sum and added
// to the baseline, the windows before (six by default), which gives each
// term's usual rate and so its velocity ([Trend]).
//
// Sketches with the same dimensions and seed merge ([Sketch.Merge]):
// shards of one stream each track their part, and [Tracker.Window] returns
// a shard's window for a coordinator to add up. Options.Exact replaces the
// sketches with maps, exact and unbounded, for small data and as a
// reference.
//
// # Guarantees and limits
//
// Estimated counts never undercount; they overcount by a small multiple of
// total/Width with high probability. A term is reported only if it was
// among some bucket's Options.Candidates largest; on skewed (Zipf-like)
// streams this finds the top terms with high recall at a small fraction of
// an exact map's memory (see bench/search). Observations older than the
// window are dropped (Stats.Late). Counts live in memory only.
//
// The package imports only the standard library. The sub-package eventfeed
// feeds a Tracker from the events block (Kafka or in-process).
package trending
