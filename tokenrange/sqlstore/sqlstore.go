package sqlstore

import (
	"context"
	"database/sql"
	_ "embed"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/go-sql-driver/mysql"

	"github.com/sysblocks/sysblocks/tokenrange"
)

//go:embed schema.sql
var schema string

// Options configures a [Store]. The zero value is valid.
type Options struct {
	// Owner is recorded with every issued range in tokenrange_issued. Empty
	// means "hostname:pid".
	Owner string
}

// Store is a [tokenrange.Store] and [tokenrange.Auditor] on a MySQL-protocol
// database. It is safe for concurrent use.
type Store struct {
	db    *sql.DB
	owner string
}

// New returns a Store on db. opts may be nil.
func New(db *sql.DB, opts *Options) *Store {
	owner := ""
	if opts != nil {
		owner = opts.Owner
	}
	if owner == "" {
		host, _ := os.Hostname()
		owner = host + ":" + strconv.Itoa(os.Getpid())
	}
	if len(owner) > 128 {
		owner = owner[:128]
	}
	return &Store{db: db, owner: owner}
}

// Schema returns the CREATE TABLE statements that CreateSchema runs.
func Schema() string { return schema }

// CreateSchema creates the tables if they do not exist.
func (s *Store) CreateSchema(ctx context.Context) error {
	for _, stmt := range strings.Split(schema, ";") {
		if !hasSQL(stmt) {
			continue
		}
		if _, err := s.db.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("sqlstore: create schema: %w", err)
		}
	}
	return nil
}

// hasSQL reports whether stmt holds more than comments and blanks.
func hasSQL(stmt string) bool {
	for _, line := range strings.Split(stmt, "\n") {
		line = strings.TrimSpace(line)
		if line != "" && !strings.HasPrefix(line, "--") {
			return true
		}
	}
	return false
}

// Reserve implements [tokenrange.Store]. The counter row of a namespace is
// created on first use.
func (s *Store) Reserve(ctx context.Context, namespace string, n, limit uint64) (tokenrange.Range, error) {
	if n == 0 || n > tokenrange.MaxRangeSize || limit == 0 || limit > tokenrange.MaxLimit {
		return tokenrange.Range{}, fmt.Errorf("sqlstore: reserve %q: n %d, limit %d: %w", namespace, n, limit, tokenrange.ErrInvalid)
	}
	for created := false; ; created = true {
		r, found, err := s.reserve(ctx, namespace, n, limit)
		if err != nil {
			return tokenrange.Range{}, wrap("reserve", namespace, err)
		}
		if found {
			return r, nil
		}
		if created {
			return tokenrange.Range{}, fmt.Errorf("sqlstore: reserve %q: counter row missing after insert", namespace)
		}
		// INSERT IGNORE: when processes race to create the row, one insert
		// wins and the others change nothing.
		if _, err := s.db.ExecContext(ctx,
			"INSERT IGNORE INTO tokenrange_counter (namespace, next_token) VALUES (?, 0)", namespace); err != nil {
			return tokenrange.Range{}, wrap("create counter", namespace, err)
		}
	}
}

// reserve runs the reservation transaction. found is false when the
// namespace has no counter row yet.
func (s *Store) reserve(ctx context.Context, namespace string, n, limit uint64) (r tokenrange.Range, found bool, err error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return r, false, err
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	var lo uint64
	err = tx.QueryRowContext(ctx,
		"SELECT next_token FROM tokenrange_counter WHERE namespace = ? FOR UPDATE", namespace).Scan(&lo)
	if errors.Is(err, sql.ErrNoRows) {
		_ = tx.Rollback()
		return r, false, nil
	}
	if err != nil {
		return r, false, err
	}
	if lo >= limit {
		return r, true, fmt.Errorf("counter %d, limit %d: %w", lo, limit, tokenrange.ErrExhausted)
	}
	hi := limit
	if limit-lo > n {
		hi = lo + n
	}
	if _, err = tx.ExecContext(ctx,
		"UPDATE tokenrange_counter SET next_token = ? WHERE namespace = ?", hi, namespace); err != nil {
		return r, true, err
	}
	if _, err = tx.ExecContext(ctx,
		"INSERT INTO tokenrange_issued (namespace, lo, hi, owner) VALUES (?, ?, ?, ?)",
		namespace, lo, hi, s.owner); err != nil {
		var me *mysql.MySQLError
		if errors.As(err, &me) && me.Number == 1062 {
			err = fmt.Errorf("range starting at %d was issued before: the counter moved backwards; refusing to reissue: %w", lo, err)
		}
		return r, true, err
	}
	if err = tx.Commit(); err != nil {
		return r, true, err
	}
	return tokenrange.Range{Lo: lo, Hi: hi}, true, nil
}

// Counter implements [tokenrange.Store].
func (s *Store) Counter(ctx context.Context, namespace string) (uint64, error) {
	var c uint64
	err := s.db.QueryRowContext(ctx,
		"SELECT next_token FROM tokenrange_counter WHERE namespace = ?", namespace).Scan(&c)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, wrap("counter", namespace, err)
	}
	return c, nil
}

// Issued implements [tokenrange.Auditor].
func (s *Store) Issued(ctx context.Context, namespace string) ([]tokenrange.Range, error) {
	rows, err := s.db.QueryContext(ctx,
		"SELECT lo, hi FROM tokenrange_issued WHERE namespace = ? ORDER BY lo", namespace)
	if err != nil {
		return nil, wrap("issued", namespace, err)
	}
	defer rows.Close()
	var out []tokenrange.Range
	for rows.Next() {
		var r tokenrange.Range
		if err := rows.Scan(&r.Lo, &r.Hi); err != nil {
			return nil, wrap("issued", namespace, err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, wrap("issued", namespace, err)
	}
	return out, nil
}

// wrap prefixes err and maps contention errors to ErrConflict.
func wrap(op, namespace string, err error) error {
	var me *mysql.MySQLError
	if errors.As(err, &me) && (me.Number == 1213 || me.Number == 1205) {
		return fmt.Errorf("sqlstore: %s %q: %w: %w", op, namespace, tokenrange.ErrConflict, err)
	}
	return fmt.Errorf("sqlstore: %s %q: %w", op, namespace, err)
}
