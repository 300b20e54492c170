// Package sqlstore is the MariaDB/MySQL adapter of rides.TripStore: the
// current trips, one row per trip in the table rides_trips.
//
// A rider's single active trip is enforced by the database: the column
// active_rider holds the rider while the trip has not ended and NULL after,
// under a unique index (which allows any number of NULLs). Updates are
// compare-and-set on the version column. Times are stored as Unix
// milliseconds.
package sqlstore

import (
	"context"
	"database/sql"
	_ "embed"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/sysblocks/sysblocks/archive"
	"github.com/sysblocks/sysblocks/examples/rides/rides"
)

//go:embed schema.sql
var schema string

// Trips is a rides.TripStore on a *sql.DB. It is safe for concurrent use;
// it never closes the database.
type Trips struct {
	db *sql.DB
}

// New returns a Trips on db, which must reach a MySQL-protocol server.
func New(db *sql.DB) *Trips { return &Trips{db: db} }

// CreateSchema creates the table if it does not exist.
func (s *Trips) CreateSchema(ctx context.Context) error {
	if _, err := s.db.ExecContext(ctx, schema); err != nil {
		return fmt.Errorf("sqlstore: create schema: %w", err)
	}
	return nil
}

const columns = `id, rider, driver, state, premium, pickup_lat, pickup_lng, drop_lat, drop_lng,
	surge, fare, pickup_eta_ms, reason, created_ms, updated_ms, ended_ms, version`

func ms(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

func fromMS(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return time.UnixMilli(v).UTC()
}

func active(t rides.Trip) any {
	if t.State.Terminal() {
		return nil
	}
	return t.Rider
}

// Create implements rides.TripStore.
func (s *Trips) Create(ctx context.Context, t rides.Trip) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO rides_trips (`+columns+`, active_rider)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?)`,
		t.ID, t.Rider, t.Driver, string(t.State), t.Premium, t.PickupLat, t.PickupLng, t.DropLat, t.DropLng,
		t.Surge, t.Fare, t.PickupETA.Milliseconds(), t.Reason, ms(t.Created), ms(t.Updated), ms(t.Ended), active(t))
	var me *mysql.MySQLError
	if errors.As(err, &me) && me.Number == 1062 { // ER_DUP_ENTRY
		if strings.Contains(me.Message, "active_rider") {
			return fmt.Errorf("sqlstore: create %s: rider %s: %w", t.ID, t.Rider, rides.ErrRiderBusy)
		}
		return fmt.Errorf("sqlstore: create %s: %w", t.ID, rides.ErrExists)
	}
	if err != nil {
		return fmt.Errorf("sqlstore: create %s: %w", t.ID, err)
	}
	return nil
}

type scanner interface{ Scan(dest ...any) error }

func scan(r scanner) (rides.Trip, error) {
	var (
		t                        rides.Trip
		state                    string
		eta, created, upd, ended int64
	)
	err := r.Scan(&t.ID, &t.Rider, &t.Driver, &state, &t.Premium, &t.PickupLat, &t.PickupLng, &t.DropLat, &t.DropLng,
		&t.Surge, &t.Fare, &eta, &t.Reason, &created, &upd, &ended, &t.Version)
	t.State = rides.State(state)
	t.PickupETA = time.Duration(eta) * time.Millisecond
	t.Created, t.Updated, t.Ended = fromMS(created), fromMS(upd), fromMS(ended)
	return t, err
}

// Get implements rides.TripStore.
func (s *Trips) Get(ctx context.Context, id string) (rides.Trip, error) {
	t, err := scan(s.db.QueryRowContext(ctx, `SELECT `+columns+` FROM rides_trips WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return rides.Trip{}, fmt.Errorf("sqlstore: trip %s: %w", id, rides.ErrNotFound)
	}
	if err != nil {
		return rides.Trip{}, fmt.Errorf("sqlstore: trip %s: %w", id, err)
	}
	return t, nil
}

// Update implements rides.TripStore with one conditional UPDATE.
func (s *Trips) Update(ctx context.Context, t rides.Trip) (rides.Trip, error) {
	res, err := s.db.ExecContext(ctx, `UPDATE rides_trips SET driver = ?, state = ?, premium = ?,
		pickup_lat = ?, pickup_lng = ?, drop_lat = ?, drop_lng = ?, surge = ?, fare = ?, pickup_eta_ms = ?,
		reason = ?, created_ms = ?, updated_ms = ?, ended_ms = ?,
		active_rider = IF(?, NULL, active_rider), version = version + 1
		WHERE id = ? AND version = ?`,
		t.Driver, string(t.State), t.Premium, t.PickupLat, t.PickupLng, t.DropLat, t.DropLng, t.Surge, t.Fare,
		t.PickupETA.Milliseconds(), t.Reason, ms(t.Created), ms(t.Updated), ms(t.Ended),
		t.State.Terminal(), t.ID, t.Version)
	if err != nil {
		return rides.Trip{}, fmt.Errorf("sqlstore: update %s: %w", t.ID, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return rides.Trip{}, fmt.Errorf("sqlstore: update %s: %w", t.ID, err)
	}
	if n == 0 {
		var v int64
		err := s.db.QueryRowContext(ctx, `SELECT version FROM rides_trips WHERE id = ?`, t.ID).Scan(&v)
		if errors.Is(err, sql.ErrNoRows) {
			return rides.Trip{}, fmt.Errorf("sqlstore: update %s: %w", t.ID, rides.ErrNotFound)
		}
		if err != nil {
			return rides.Trip{}, fmt.Errorf("sqlstore: update %s: %w", t.ID, err)
		}
		return rides.Trip{}, fmt.Errorf("sqlstore: update %s: version %d, stored %d: %w", t.ID, t.Version, v, rides.ErrConflict)
	}
	// The rider never changes: report the stored one.
	if err := s.db.QueryRowContext(ctx, `SELECT rider FROM rides_trips WHERE id = ?`, t.ID).Scan(&t.Rider); err != nil {
		return rides.Trip{}, fmt.Errorf("sqlstore: update %s: %w", t.ID, err)
	}
	t.Version++
	return t, nil
}

// List implements rides.TripStore.
func (s *Trips) List(ctx context.Context, states []rides.State, before time.Time, limit int) ([]rides.Trip, error) {
	if len(states) == 0 || limit == 0 {
		return nil, nil
	}
	args := make([]any, 0, len(states)+2)
	for _, st := range states {
		args = append(args, string(st))
	}
	if limit < 0 {
		limit = 1 << 30
	}
	args = append(args, before.UnixMilli(), limit)
	rows, err := s.db.QueryContext(ctx, `SELECT `+columns+` FROM rides_trips
		WHERE state IN (?`+strings.Repeat(", ?", len(states)-1)+`) AND updated_ms < ?
		ORDER BY updated_ms, id LIMIT ?`, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: list: %w", err)
	}
	defer rows.Close()
	var out []rides.Trip
	for rows.Next() {
		t, err := scan(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlstore: list: %w", err)
		}
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlstore: list: %w", err)
	}
	return out, nil
}

// Ended implements rides.TripStore. IDs compare as bytes (BINARY), as
// in Go and in the archive's cold stores.
func (s *Trips) Ended(ctx context.Context, rider string, after archive.Cursor, limit int) ([]rides.Trip, error) {
	if limit == 0 {
		return nil, nil
	}
	if limit < 0 {
		limit = 1 << 30
	}
	q := `SELECT ` + columns + ` FROM rides_trips WHERE rider = ? AND state IN ('completed', 'cancelled')`
	args := []any{rider}
	if !after.IsZero() {
		ams := after.At.UnixMilli()
		if time.UnixMilli(ams).Equal(after.At) {
			q += ` AND (ended_ms < ? OR (ended_ms = ? AND BINARY id < BINARY ?))`
			args = append(args, ams, ams, after.ID)
		} else { // a position inside a millisecond: every trip of that millisecond comes before it
			q += ` AND ended_ms < ?`
			args = append(args, ams+1)
		}
	}
	q += ` ORDER BY ended_ms DESC, BINARY id DESC LIMIT ?`
	args = append(args, limit)
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: ended trips of %s: %w", rider, err)
	}
	defer rows.Close()
	var out []rides.Trip
	for rows.Next() {
		t, err := scan(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlstore: ended trips of %s: %w", rider, err)
		}
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlstore: ended trips of %s: %w", rider, err)
	}
	return out, nil
}

// maxDelete is the most IDs of one DELETE statement.
const maxDelete = 500

// DeleteEnded implements rides.TripStore with one DELETE per 500 IDs,
// conditioned on the state.
func (s *Trips) DeleteEnded(ctx context.Context, ids []string) error {
	for len(ids) > 0 {
		n := min(len(ids), maxDelete)
		args := make([]any, n)
		for i, id := range ids[:n] {
			args[i] = id
		}
		if _, err := s.db.ExecContext(ctx, `DELETE FROM rides_trips WHERE id IN (?`+strings.Repeat(", ?", n-1)+
			`) AND state IN ('completed', 'cancelled')`, args...); err != nil {
			return fmt.Errorf("sqlstore: delete %d ended trips: %w", n, err)
		}
		ids = ids[n:]
	}
	return nil
}
