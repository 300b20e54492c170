// Package querycache connects the cache block's stores to a search index
// as its query cache (search.Options.Cache), as the twitter case study
// does for trending searches: a result is kept in Redis for a short time
// and served from there to everyone asking the same query.
//
// The cache block's stores already have the method set of
// [search.QueryCache]; this package only names the two usual choices and
// checks at compile time that they fit.
package querycache
