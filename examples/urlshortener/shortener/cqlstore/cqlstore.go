// Package cqlstore implements the URL shortener's stores on Apache
// Cassandra (github.com/apache/cassandra-gocql-driver/v2): links in a table
// partitioned by code, and clicks per code per day in a counter table.
//
// Generated codes are unique by construction (they come from token ranges),
// so Put is a plain INSERT. A custom alias is claimed with INSERT ... IF NOT
// EXISTS, a Paxos lightweight transaction, so that exactly one of concurrent
// claimants wins. When the outcome of a claim is unknown (a CAS write
// timeout under contention), Claim retries and recognises its own earlier
// win by a random token stored in the row. Delete is DELETE ... IF EXISTS,
// which tells a missing link apart without a read; mixing it with the plain
// INSERT of generated codes assumes client and server clocks roughly agree.
//
// Expiry is a column checked by the service on every read, so it is exact.
// Rows of expiring links carry a TTL of (expires_at - created_at) +
// Options.Retention, which only reclaims space; rows whose TTL would end
// past 2038-01-19 (beyond what Cassandra 4-compatible storage can express)
// or exceed Cassandra's 20-year maximum get no TTL.
//
// Counter updates are not idempotent: a click event delivered twice is
// counted twice. The consumer is at-least-once and click analytics is
// lossy by design, so this is accepted.
//
// The store takes the caller's session and never closes it. CreateSchema
// creates the tables in the session's keyspace (IF NOT EXISTS).
package cqlstore

import (
	"context"
	crand "crypto/rand"
	_ "embed"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"time"

	gocql "github.com/apache/cassandra-gocql-driver/v2"

	"github.com/sysblocks/sysblocks/examples/urlshortener/shortener"
)

//go:embed schema.cql
var schema string

// Schema returns the CQL that CreateSchema runs.
func Schema() string { return schema }

// Cassandra's limits on TTLs: at most 20 years, and with storage
// compatible with Cassandra 4 (the 5.0 default) no expiry past 2038-01-19.
const maxTTL = 20 * 365 * 24 * 60 * 60

var lastExpiry = time.Date(2038, 1, 18, 0, 0, 0, 0, time.UTC)

// Options configures a Store. The zero value is valid.
type Options struct {
	// Consistency of reads and writes. Zero means gocql.Quorum.
	Consistency gocql.Consistency
	// Retention is how long an expired link's row lives before its TTL
	// removes it. Zero means shortener.ExpiredRetention.
	Retention time.Duration
	// ClaimAttempts is how many times Claim and Delete try a lightweight
	// transaction whose outcome was unknown. Zero means 5.
	ClaimAttempts int
}

// Store is a shortener.LinkStore and shortener.ClickCounts on Cassandra.
// It is safe for concurrent use.
type Store struct {
	s *gocql.Session
	o Options
}

// New returns a Store on session. opts may be nil.
func New(session *gocql.Session, opts *Options) *Store {
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.Consistency == 0 {
		o.Consistency = gocql.Quorum
	}
	if o.Retention <= 0 {
		o.Retention = shortener.ExpiredRetention
	}
	if o.ClaimAttempts <= 0 {
		o.ClaimAttempts = 5
	}
	return &Store{s: session, o: o}
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

// ttl returns the TTL in seconds of l's row, 0 for none.
func (s *Store) ttl(l *shortener.Link) int {
	if l.Expires.IsZero() {
		return 0
	}
	secs := math.Ceil((l.Expires.Sub(l.Created) + s.o.Retention).Seconds())
	if secs < 1 {
		secs = 1
	}
	if secs > maxTTL || time.Now().Add(time.Duration(secs)*time.Second).After(lastExpiry) {
		return 0
	}
	return int(secs)
}

func nullTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t
}

// Put implements shortener.LinkStore with a plain INSERT.
func (s *Store) Put(ctx context.Context, l shortener.Link) error {
	err := s.s.Query(`INSERT INTO links (code, target, created_at, expires_at, alias) VALUES (?, ?, ?, ?, ?) USING TTL ?`,
		l.Code, l.Target, l.Created, nullTime(l.Expires), l.Alias, s.ttl(&l)).
		Consistency(s.o.Consistency).Idempotent(true).ExecContext(ctx)
	if err != nil {
		return fmt.Errorf("cqlstore: put %q: %w", l.Code, err)
	}
	return nil
}

// Claim implements shortener.LinkStore with INSERT ... IF NOT EXISTS.
func (s *Store) Claim(ctx context.Context, l shortener.Link) error {
	token := randomToken()
	var err error
	for attempt := 1; attempt <= s.o.ClaimAttempts; attempt++ {
		if attempt > 1 && !pause(ctx, attempt) {
			break
		}
		row := map[string]any{}
		var applied bool
		applied, err = s.s.Query(`INSERT INTO links (code, target, created_at, expires_at, alias, claim) VALUES (?, ?, ?, ?, ?, ?) IF NOT EXISTS USING TTL ?`,
			l.Code, l.Target, l.Created, nullTime(l.Expires), true, token, s.ttl(&l)).
			Consistency(s.o.Consistency).SerialConsistency(gocql.Serial).MapScanCASContext(ctx, row)
		if err == nil {
			if applied || row["claim"] == token { // ours, from an attempt whose reply was lost
				return nil
			}
			return fmt.Errorf("cqlstore: claim %q: %w", l.Code, shortener.ErrExists)
		}
		if !uncertain(err) {
			break
		}
	}
	return fmt.Errorf("cqlstore: claim %q: %w", l.Code, err)
}

// Get implements shortener.LinkStore.
func (s *Store) Get(ctx context.Context, code string) (shortener.Link, error) {
	l := shortener.Link{Code: code}
	err := s.s.Query(`SELECT target, created_at, expires_at, alias FROM links WHERE code = ?`, code).
		Consistency(s.o.Consistency).Idempotent(true).ScanContext(ctx, &l.Target, &l.Created, &l.Expires, &l.Alias)
	if errors.Is(err, gocql.ErrNotFound) {
		return shortener.Link{}, fmt.Errorf("cqlstore: get %q: %w", code, shortener.ErrNotFound)
	}
	if err != nil {
		return shortener.Link{}, fmt.Errorf("cqlstore: get %q: %w", code, err)
	}
	return l, nil
}

// Delete implements shortener.LinkStore with DELETE ... IF EXISTS.
func (s *Store) Delete(ctx context.Context, code string) error {
	var err error
	for attempt := 1; attempt <= s.o.ClaimAttempts; attempt++ {
		if attempt > 1 && !pause(ctx, attempt) {
			break
		}
		var applied bool
		applied, err = s.s.Query(`DELETE FROM links WHERE code = ? IF EXISTS`, code).
			Consistency(s.o.Consistency).SerialConsistency(gocql.Serial).MapScanCASContext(ctx, map[string]any{})
		switch {
		case err == nil && (applied || attempt > 1):
			// After an attempt with an unknown outcome, "not there" may
			// mean that attempt deleted it: either way it is gone.
			return nil
		case err == nil:
			return fmt.Errorf("cqlstore: delete %q: %w", code, shortener.ErrNotFound)
		case !uncertain(err):
			return fmt.Errorf("cqlstore: delete %q: %w", code, err)
		}
	}
	return fmt.Errorf("cqlstore: delete %q: %w", code, err)
}

// uncertain reports whether a lightweight transaction failed with an
// unknown outcome (it may or may not have been applied) or lost to
// contention, so that trying again is the right move.
func uncertain(err error) bool {
	var wt *gocql.RequestErrWriteTimeout
	var cu *gocql.RequestErrCASWriteUnknown
	var rt *gocql.RequestErrReadTimeout
	return errors.As(err, &wt) || errors.As(err, &cu) || errors.As(err, &rt)
}

// pause waits a random backoff before attempt, or returns false when ctx
// ends first.
func pause(ctx context.Context, attempt int) bool {
	d := time.Duration(rand.Int64N(int64(10*time.Millisecond)<<min(attempt, 6))) + time.Millisecond
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

func randomToken() string {
	var b [16]byte
	_, _ = crand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// Add implements shortener.ClickCounts with a counter update.
func (s *Store) Add(ctx context.Context, code string, day time.Time, n int64) error {
	err := s.s.Query(`UPDATE link_clicks SET clicks = clicks + ? WHERE code = ? AND day = ?`, n, code, shortener.Day(day)).
		Consistency(s.o.Consistency).ExecContext(ctx)
	if err != nil {
		return fmt.Errorf("cqlstore: add clicks %q: %w", code, err)
	}
	return nil
}

// Days implements shortener.ClickCounts.
func (s *Store) Days(ctx context.Context, code string) ([]shortener.DayCount, error) {
	iter := s.s.Query(`SELECT day, clicks FROM link_clicks WHERE code = ?`, code).
		Consistency(s.o.Consistency).Idempotent(true).IterContext(ctx)
	var out []shortener.DayCount
	var d shortener.DayCount
	for iter.Scan(&d.Day, &d.Clicks) {
		if d.Clicks != 0 {
			d.Day = d.Day.UTC()
			out = append(out, d)
		}
	}
	if err := iter.Close(); err != nil {
		return nil, fmt.Errorf("cqlstore: clicks %q: %w", code, err)
	}
	if out == nil {
		out = []shortener.DayCount{}
	}
	return out, nil
}
