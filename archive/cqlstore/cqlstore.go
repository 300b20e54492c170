package cqlstore

import (
	"context"
	_ "embed"
	"fmt"
	"math"
	"regexp"
	"strings"
	"sync"
	"time"

	gocql "github.com/apache/cassandra-gocql-driver/v2"

	"github.com/sysblocks/sysblocks/archive"
)

//go:embed schema.cql
var schema string

// DefaultTable is the table of a Store whose Options.Table is empty.
const DefaultTable = "archive_records"

// DefaultParallelism is the number of INSERTs a Put keeps in flight when
// Options.Parallelism is zero.
const DefaultParallelism = 16

// Options configures a [Store]. A nil *Options means all defaults.
type Options struct {
	// Table is the table name (letters, digits and underscores, starting
	// with a letter, at most 48 characters), so that several kinds of
	// records can share a keyspace. Empty means DefaultTable.
	Table string
	// Consistency of reads and writes. Zero means gocql.Quorum.
	Consistency gocql.Consistency
	// Parallelism is how many INSERTs one Put keeps in flight. Zero means
	// DefaultParallelism.
	Parallelism int
}

// Store is an [archive.Store] on a Cassandra table. It is safe for
// concurrent use, and any number of Stores may share the table.
type Store struct {
	s      *gocql.Session
	table  string
	cl     gocql.Consistency
	par    int
	insert string
	list   string
	listAt string
}

var tableName = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]{0,47}$`)

// New returns a Store on session. opts may be nil.
func New(session *gocql.Session, opts *Options) (*Store, error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	if session == nil {
		return nil, fmt.Errorf("cqlstore: new: nil session: %w", archive.ErrInvalid)
	}
	if o.Table == "" {
		o.Table = DefaultTable
	}
	if !tableName.MatchString(o.Table) {
		return nil, fmt.Errorf("cqlstore: new: table name %q: %w", o.Table, archive.ErrInvalid)
	}
	if o.Consistency == 0 {
		o.Consistency = gocql.Quorum
	}
	if o.Parallelism < 0 {
		return nil, fmt.Errorf("cqlstore: new: Parallelism %d: %w", o.Parallelism, archive.ErrInvalid)
	}
	if o.Parallelism == 0 {
		o.Parallelism = DefaultParallelism
	}
	t := o.Table
	return &Store{
		s: session, table: t, cl: o.Consistency, par: o.Parallelism,
		insert: "INSERT INTO " + t + " (owner, at, id, data) VALUES (?, ?, ?, ?)",
		list:   "SELECT at, id, data FROM " + t + " WHERE owner = ? LIMIT ?",
		listAt: "SELECT at, id, data FROM " + t + " WHERE owner = ? AND (at, id) < (?, ?) LIMIT ?",
	}, nil
}

// Schema returns the CREATE TABLE statement that CreateSchema runs.
func (s *Store) Schema() string {
	return strings.ReplaceAll(schema, DefaultTable, s.table)
}

// CreateSchema creates the table in the session's keyspace if it does not
// exist.
func (s *Store) CreateSchema(ctx context.Context) error {
	var stmt []string
	for _, line := range strings.Split(s.Schema(), "\n") {
		if l := strings.TrimSpace(line); l != "" && !strings.HasPrefix(l, "--") {
			stmt = append(stmt, line)
		}
	}
	q := strings.TrimSuffix(strings.TrimSpace(strings.Join(stmt, "\n")), ";")
	if err := s.s.Query(q).ExecContext(ctx); err != nil {
		return fmt.Errorf("cqlstore: create schema: %w", err)
	}
	return nil
}

var (
	minAt = time.Unix(0, math.MinInt64)
	maxAt = time.Unix(0, math.MaxInt64)
)

func inRange(t time.Time) bool { return !t.Before(minAt) && !t.After(maxAt) }

// Put implements [archive.Store]. A record whose At is outside the years
// 1678 to 2262 is refused with [archive.ErrInvalid], and then nothing is
// written.
func (s *Store) Put(ctx context.Context, recs []archive.Record) error {
	for _, r := range recs {
		if r.Owner == "" || r.ID == "" || r.At.IsZero() || !inRange(r.At) {
			return fmt.Errorf("cqlstore: put record %q of owner %q at %v: %w", r.ID, r.Owner, r.At, archive.ErrInvalid)
		}
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("cqlstore: put: %w", err)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		wg    sync.WaitGroup
		once  sync.Once
		first error
		sem   = make(chan struct{}, s.par)
	)
	for _, r := range recs {
		sem <- struct{}{}
		if ctx.Err() != nil {
			break
		}
		wg.Go(func() {
			defer func() { <-sem }()
			data := r.Data
			if data == nil {
				data = []byte{}
			}
			if err := s.s.Query(s.insert, r.Owner, r.At.UnixNano(), r.ID, data).Consistency(s.cl).ExecContext(ctx); err != nil {
				once.Do(func() {
					first = fmt.Errorf("cqlstore: put record %q of owner %q: %w", r.ID, r.Owner, err)
					cancel()
				})
			}
		})
	}
	wg.Wait()
	if first == nil && ctx.Err() != nil {
		first = fmt.Errorf("cqlstore: put: %w", context.Cause(ctx))
	}
	return first
}

// List implements [archive.Lister].
func (s *Store) List(ctx context.Context, owner string, after archive.Cursor, limit int) ([]archive.Record, error) {
	if limit < 1 {
		return nil, fmt.Errorf("cqlstore: list %q: limit %d: %w", owner, limit, archive.ErrInvalid)
	}
	var q *gocql.Query
	switch {
	case after.IsZero() || after.At.After(maxAt):
		q = s.s.Query(s.list, owner, limit)
	case after.At.Before(minAt):
		return nil, nil
	default:
		q = s.s.Query(s.listAt, owner, after.At.UnixNano(), after.ID, limit)
	}
	iter := q.Consistency(s.cl).PageSize(min(limit, 5000)).IterContext(ctx)
	var (
		out  []archive.Record
		at   int64
		id   string
		data []byte
	)
	for iter.Scan(&at, &id, &data) {
		out = append(out, archive.Record{Owner: owner, ID: id, At: time.Unix(0, at).UTC(), Data: data})
		data = nil
	}
	if err := iter.Close(); err != nil {
		return nil, fmt.Errorf("cqlstore: list %q: %w", owner, err)
	}
	return out, nil
}
