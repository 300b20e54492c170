// Package sqlsource reads the documents of a search index from a SQL
// database, the source of truth, for [search.Index.Rebuild].
//
// The query is the caller's, so any schema works: it selects one row per
// live entity, including the entity's version, and Scan turns a row into a
// [search.Document]. The package uses only database/sql; the caller brings
// the driver and the *sql.DB, and Source never closes it.
package sqlsource
