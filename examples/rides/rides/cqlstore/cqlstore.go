// Package cqlstore is the Apache Cassandra adapter of rides.History and
// rides.Locations (github.com/apache/cassandra-gocql-driver/v2).
//
// Trip history lives in trips_by_rider, partitioned by rider and clustered
// by end time (latest first), so a rider's history is one partition read.
// Location pings live in driver_locations, partitioned by driver and UTC
// day, so no partition grows without bound. Both writes are plain INSERTs
// keyed by what identifies the record, so a redelivered event or a retried
// archive overwrites its own row: writes are idempotent.
//
// The store takes the caller's session and never closes it. CreateSchema
// creates the tables in the session's keyspace (IF NOT EXISTS).
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

// Store holds the session and options of both tables. It is safe for
// concurrent use.
type Store struct {
	s      *gocql.Session
	cl     gocql.Consistency
	locTTL int
}

// History is the trip history of a Store, a rides.History.
type History struct{ *Store }

// Locations is the location history of a Store, a rides.Locations.
type Locations struct{ *Store }

// History returns the trip history.
func (s *Store) History() History { return History{s} }

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

// Truncate empties both tables. It is meant for tests.
func (s *Store) Truncate(ctx context.Context) error {
	for _, table := range []string{"trips_by_rider", "driver_locations"} {
		if err := s.s.Query(`TRUNCATE ` + table).ExecContext(ctx); err != nil {
			return fmt.Errorf("cqlstore: truncate %s: %w", table, err)
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

func nullTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t
}

// Put implements rides.History.
func (s History) Put(ctx context.Context, t rides.Trip) error {
	err := s.s.Query(`INSERT INTO trips_by_rider (rider, ended_at, trip_id, driver, state, premium,
		pickup_lat, pickup_lng, drop_lat, drop_lng, surge, fare, pickup_eta_ms, reason, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		t.Rider, t.Ended, t.ID, t.Driver, string(t.State), t.Premium, t.PickupLat, t.PickupLng, t.DropLat, t.DropLng,
		t.Surge, t.Fare, t.PickupETA.Milliseconds(), t.Reason, nullTime(t.Created), nullTime(t.Updated)).
		Consistency(s.cl).ExecContext(ctx)
	if err != nil {
		return fmt.Errorf("cqlstore: put trip %s: %w", t.ID, err)
	}
	return nil
}

// List implements rides.History.
func (s History) List(ctx context.Context, rider string, limit int) ([]rides.Trip, error) {
	if limit == 0 {
		return nil, nil
	}
	if limit < 0 {
		limit = 1 << 30
	}
	iter := s.s.Query(`SELECT rider, ended_at, trip_id, driver, state, premium, pickup_lat, pickup_lng,
		drop_lat, drop_lng, surge, fare, pickup_eta_ms, reason, created_at, updated_at
		FROM trips_by_rider WHERE rider = ? LIMIT ?`, rider, limit).Consistency(s.cl).IterContext(ctx)
	var (
		out   []rides.Trip
		t     rides.Trip
		state string
		eta   int64
	)
	for iter.Scan(&t.Rider, &t.Ended, &t.ID, &t.Driver, &state, &t.Premium, &t.PickupLat, &t.PickupLng,
		&t.DropLat, &t.DropLng, &t.Surge, &t.Fare, &eta, &t.Reason, &t.Created, &t.Updated) {
		t.State = rides.State(state)
		t.PickupETA = time.Duration(eta) * time.Millisecond
		t.Ended, t.Created, t.Updated = t.Ended.UTC(), t.Created.UTC(), t.Updated.UTC()
		out = append(out, t)
		t = rides.Trip{}
	}
	if err := iter.Close(); err != nil {
		return nil, fmt.Errorf("cqlstore: history of %s: %w", rider, err)
	}
	return out, nil
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
