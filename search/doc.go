// Package search implements an in-process full-text index with typo
// tolerance, kept in step with a database by change events: the search
// service of the booking, shop, social and video case studies, where
// "airprot" must find "Airport Inn".
//
// # The problem
//
// The database is the source of truth; a search index is a derived copy
// that can be lost and rebuilt. Changes reach it as events (created,
// updated, deleted) from a stream such as Kafka, which delivers at least
// once and, across partitions or after a rebuild, not necessarily in order.
// Users mistype, type a word half-way (search as you type), and expect the
// best match first.
//
// # What the index guarantees
//
// Every [Document] carries a version. [Index.Apply] applies a
// [ChangeEvent] only when its version is greater than the one the index
// holds for that ID, deleted IDs included, so once every entity's newest
// event has been applied, the index holds exactly the newest state of
// every entity, whatever duplicates and reorderings came before: it equals
// a rebuild from the database ([Index.Rebuild] with a [Source]). Rebuild
// runs beside live traffic: events applied during the scan are replayed
// onto the new index before it takes over. [Index.Snapshot] and
// [Index.Restore] write and read the whole index in one consistent cut,
// with marks ([Index.SetMark]) recording where in the event stream it
// stands, for a fast restart.
//
// It does not guarantee read-your-writes across the stream: a search sees
// an event only once it has been applied. A cached result
// (Options.Cache) may be up to Options.CacheTTL old.
//
// # Matching and ranking
//
// Text is split into words, lower-cased, with Latin diacritics removed
// ([Tokenize]). A query word may differ from a dictionary word by a number
// of typos that grows with its length (by default none under 3 runes, one
// for 3 to 5, two from 6), where a typo is an insertion, deletion,
// substitution or transposition of adjacent runes ([Distance], optimal
// string alignment, counted in runes) and a typo on the first rune costs
// double. When a query finds fewer hits within that budget than its page
// needs, it looks again with one typo more per whole word of two runes or
// more (up to two by default) and first-rune typos counted as ordinary
// ones, so "ahve" finds "have" and "neconstitutional" finds
// "unconstitutional"; hits only this second look finds rank after all the
// others (Options.StrictTypos turns it off). Typo candidates come from a
// symmetric-delete index (the deletes of every term's first runes in a hash
// table, as SymSpell does) or from a walk of the sorted dictionary driving
// the edit-distance table as a Levenshtein automaton; the last word of a
// prefix query is completed by the same walk. Hits must match every word
// (or Query.MinWords of them) and are ranked by words matched, typos,
// proximity of the words, weight of the fields matched and popularity
// (Options.Ranking), then by the likelier misspelling (a typo model in
// which a doubled letter, a vowel for a vowel, a neighbouring key, two
// swapped letters, a letter typed two places off and a repeated pair of
// letters typed once weigh less than other edits), then shorter documents.
// Filters on tags, numeric ranges and a predicate, and offset pagination,
// apply to every query.
//
// # Adapters
//
// The package imports only the standard library. Sub-packages connect it:
// sqlsource reads a [Source] from a SQL table (MariaDB in its tests);
// eventfeed applies change events from the events block (Kafka through
// events/kafkabus), committing offsets only once a snapshot holds them;
// querycache plugs the cache block's Redis or memory store in as the
// [QueryCache]. [Index.Stats] reports the memory each structure holds.
package search
