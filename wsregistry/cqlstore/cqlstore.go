package cqlstore

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"strings"
	"time"

	gocql "github.com/apache/cassandra-gocql-driver/v2"

	"github.com/sysblocks/sysblocks/wsregistry"
)

//go:embed schema.cql
var schema string

// Options configures a [Store]. The zero value is valid.
type Options struct {
	// Consistency of reads and writes. Zero means gocql.Quorum.
	Consistency gocql.Consistency
}

// Store is a wsregistry.Inbox and a wsregistry.LastSeenStore on
// Cassandra. It is safe for concurrent use.
type Store struct {
	s  *gocql.Session
	cl gocql.Consistency
}

var (
	_ wsregistry.Inbox         = (*Store)(nil)
	_ wsregistry.LastSeenStore = (*Store)(nil)
)

// New returns a Store on the caller's session.
func New(session *gocql.Session, opts *Options) (*Store, error) {
	if session == nil {
		return nil, fmt.Errorf("cqlstore: nil session: %w", wsregistry.ErrInvalid)
	}
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.Consistency == 0 {
		o.Consistency = gocql.Quorum
	}
	return &Store{s: session, cl: o.Consistency}, nil
}

// CreateSchema creates the tables if they do not exist.
func (s *Store) CreateSchema(ctx context.Context) error {
	for _, stmt := range strings.Split(schema, ";") {
		if !hasCQL(stmt) {
			continue
		}
		if err := s.s.Query(stmt).ExecContext(ctx); err != nil {
			return fmt.Errorf("cqlstore: create schema: %w", err)
		}
	}
	return nil
}

func hasCQL(stmt string) bool {
	for _, line := range strings.Split(stmt, "\n") {
		if line = strings.TrimSpace(line); line != "" && !strings.HasPrefix(line, "--") {
			return true
		}
	}
	return false
}

// Append stores m under (m.To, m.Conv, m.Seq).
func (s *Store) Append(ctx context.Context, m wsregistry.Message) error {
	body := m.Body
	if body == nil {
		body = []byte{}
	}
	err := s.s.Query(`INSERT INTO wsr_inbox (recipient, conv, seq, id, sender, kind, body, sent_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, m.To, m.Conv, int64(m.Seq), m.ID, m.From, m.Kind, body, m.At).
		Consistency(s.cl).ExecContext(ctx)
	if err != nil {
		return fmt.Errorf("cqlstore: append %s/%s/%d: %w", m.To, m.Conv, m.Seq, err)
	}
	return nil
}

// Scan returns up to limit messages of user strictly after the position.
func (s *Store) Scan(ctx context.Context, user string, after wsregistry.Position, limit int) ([]wsregistry.Message, error) {
	if limit <= 0 {
		return nil, nil
	}
	iter := s.s.Query(`SELECT conv, seq, id, sender, kind, body, sent_at FROM wsr_inbox
		WHERE recipient = ? AND (conv, seq) > (?, ?) LIMIT ?`, user, after.Conv, int64(after.Seq), limit).
		Consistency(s.cl).IterContext(ctx)
	var (
		out []wsregistry.Message
		m   wsregistry.Message
		seq int64
	)
	for iter.Scan(&m.Conv, &seq, &m.ID, &m.From, &m.Kind, &m.Body, &m.At) {
		m.To, m.Seq, m.At = user, uint64(seq), m.At.UTC()
		out = append(out, m)
		m = wsregistry.Message{}
	}
	if err := iter.Close(); err != nil {
		return nil, fmt.Errorf("cqlstore: scan %s: %w", user, err)
	}
	return out, nil
}

// Delete removes user's messages of conv with lo <= Seq <= hi.
func (s *Store) Delete(ctx context.Context, user, conv string, lo, hi uint64) error {
	var q *gocql.Query
	if lo == hi {
		q = s.s.Query(`DELETE FROM wsr_inbox WHERE recipient = ? AND conv = ? AND seq = ?`, user, conv, int64(lo))
	} else {
		q = s.s.Query(`DELETE FROM wsr_inbox WHERE recipient = ? AND conv = ? AND seq >= ? AND seq <= ?`,
			user, conv, int64(lo), int64(hi))
	}
	if err := q.Consistency(s.cl).ExecContext(ctx); err != nil {
		return fmt.Errorf("cqlstore: delete %s/%s/%d-%d: %w", user, conv, lo, hi, err)
	}
	return nil
}

// SetLastSeen records that user was seen at at; the latest time wins.
func (s *Store) SetLastSeen(ctx context.Context, user string, at time.Time) error {
	at = at.Truncate(time.Millisecond)
	err := s.s.Query(`INSERT INTO wsr_last_seen (user_id, seen_at) VALUES (?, ?) USING TIMESTAMP ?`,
		user, at, at.UnixMicro()).Consistency(s.cl).ExecContext(ctx)
	if err != nil {
		return fmt.Errorf("cqlstore: set last seen %s: %w", user, err)
	}
	return nil
}

// LastSeen returns the time user was last seen.
func (s *Store) LastSeen(ctx context.Context, user string) (time.Time, error) {
	var at time.Time
	err := s.s.Query(`SELECT seen_at FROM wsr_last_seen WHERE user_id = ?`, user).
		Consistency(s.cl).ScanContext(ctx, &at)
	if errors.Is(err, gocql.ErrNotFound) {
		return time.Time{}, fmt.Errorf("cqlstore: last seen %s: %w", user, wsregistry.ErrNotFound)
	}
	if err != nil {
		return time.Time{}, fmt.Errorf("cqlstore: last seen %s: %w", user, err)
	}
	return at.UTC(), nil
}
