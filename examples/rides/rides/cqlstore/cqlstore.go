// Package cqlstore is the Apache Cassandra adapter of rides.Locations
// (github.com/apache/cassandra-gocql-driver/v2). Archived trips are in the
// archive block's cqlstore.
//
// Location pings live in driver_locations, partitioned by driver and UTC
// day, so no partition grows without bound. A write is a plain INSERT
// keyed by (driver, day, time), so a redelivered event overwrites its own
// row: writes are idempotent.
//
// The store takes the caller's session and never closes it. CreateSchema
// creates the table in the session's keyspace (IF NOT EXISTS).
package cqlstore

import (
	"context"
	_ "embed"
	"fmt"
	"strings"
	"time"

	gocql "github.com/apache/cassandra-gocql-driver/v2"

	"github.com/sysblocks/sysblocks/examples/rides/rides"
)

//go:embed schema.cql
var schema string

// Options configures a Store. A nil *Options means all defaults.
type Options struct {
	// Consistency of reads and writes. Zero means gocql.Quorum.
	Consistency gocql.Consistency
	// LocationTTL, if positive, expires location rows after it (rounded
	// up to a second). Zero keeps them for good.
	LocationTTL time.Duration
}

// Store holds the session and options. It is safe for concurrent use.
type Store struct {
	s      *gocql.Session
	cl     gocql.Consistency
	locTTL int
}

// Locations is the location history of a Store, a rides.Locations.
type Locations struct{ *Store }

// Locations returns the location history.
func (s *Store) Locations() Locations { return Locations{s} }

// New returns a Store on session.
func New(session *gocql.Session, opts *Options) *Store {
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.Consistency == 0 {
		o.Consistency = gocql.Quorum
	}
	ttl := 0
	if o.LocationTTL > 0 {
		ttl = int((o.LocationTTL + time.Second - 1) / time.Second)
	}
	return &Store{s: session, cl: o.Consistency, locTTL: ttl}
}

// CreateSchema creates the table if it does not exist.
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

// Truncate empties the table. It is meant for tests.
func (s *Store) Truncate(ctx context.Context) error {
	if err := s.s.Query(`TRUNCATE driver_locations`).ExecContext(ctx); err != nil {
		return fmt.Errorf("cqlstore: truncate driver_locations: %w", err)
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

func day(t time.Time) time.Time {
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// Append implements rides.Locations.
func (s Locations) Append(ctx context.Context, p rides.Ping) error {
	at := p.At.Truncate(time.Millisecond)
	err := s.s.Query(`INSERT INTO driver_locations (driver, day, at, lat, lng) VALUES (?, ?, ?, ?, ?) USING TTL ?`,
		p.Driver, day(at), at, p.Lat, p.Lng, s.locTTL).Consistency(s.cl).ExecContext(ctx)
	if err != nil {
		return fmt.Errorf("cqlstore: append ping of %s: %w", p.Driver, err)
	}
	return nil
}

// List implements rides.Locations.
func (s Locations) List(ctx context.Context, driver string, d time.Time, limit int) ([]rides.Ping, error) {
	if limit == 0 {
		return nil, nil
	}
	if limit < 0 {
		limit = 1 << 30
	}
	iter := s.s.Query(`SELECT at, lat, lng FROM driver_locations WHERE driver = ? AND day = ? LIMIT ?`,
		driver, day(d), limit).Consistency(s.cl).IterContext(ctx)
	var (
		out []rides.Ping
		p   = rides.Ping{Driver: driver}
	)
	for iter.Scan(&p.At, &p.Lat, &p.Lng) {
		p.At = p.At.UTC()
		out = append(out, p)
	}
	if err := iter.Close(); err != nil {
		return nil, fmt.Errorf("cqlstore: locations of %s: %w", driver, err)
	}
	return out, nil
}
