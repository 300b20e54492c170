package sqlsource

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/sysblocks/sysblocks/search"
)

// Source is a [search.Source] over a SQL query. It is safe for concurrent
// use if the scan function is.
type Source struct {
	db    *sql.DB
	query string
	args  []any
	scan  func(*sql.Rows) (search.Document, error)
}

// New returns a Source that runs query with args on db and turns each row
// into a document with scan. scan must call rows.Scan once and must not
// call rows.Next.
//
//	src := sqlsource.New(db, "SELECT id, version, name, city, price FROM hotels", nil,
//		func(rows *sql.Rows) (search.Document, error) { ... })
func New(db *sql.DB, query string, args []any, scan func(*sql.Rows) (search.Document, error)) *Source {
	return &Source{db: db, query: query, args: args, scan: scan}
}

// Scan runs the query and calls fn with every row's document. Rows are
// streamed, not loaded at once. For a consistent cut on a busy table, run
// it in a REPEATABLE READ transaction or accept that rows changed during
// the scan are corrected by the change events the index replays (Rebuild
// does).
func (s *Source) Scan(ctx context.Context, fn func(search.Document) error) error {
	rows, err := s.db.QueryContext(ctx, s.query, s.args...)
	if err != nil {
		return fmt.Errorf("sqlsource: query: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		d, err := s.scan(rows)
		if err != nil {
			return fmt.Errorf("sqlsource: scan: %w", err)
		}
		if err := fn(d); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("sqlsource: rows: %w", err)
	}
	return nil
}
