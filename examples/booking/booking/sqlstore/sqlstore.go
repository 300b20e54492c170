// Package sqlstore is the MariaDB/MySQL adapter of booking.HotelStore: the
// information database of the design notes, with its tables hotel, hotel
// facilities, rooms, room facilities, facilities and locality (prefixed
// booking_).
//
// Every write is one transaction that locks the hotel row first, so
// concurrent changes of one hotel are serialised and each gets its own
// version. Facilities are shared rows found by display name; a hotel's or
// room's link to a facility is switched off (is_active) rather than
// deleted when the facility is dropped. Localities are shared rows whose
// ID is a hash of their fields. Deadlocks and lock wait timeouts are
// retried a few times.
package sqlstore

import (
	"context"
	"crypto/sha256"
	"database/sql"
	_ "embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/sysblocks/sysblocks/examples/booking/booking"
	"github.com/sysblocks/sysblocks/search"
	"github.com/sysblocks/sysblocks/search/sqlsource"
)

//go:embed schema.sql
var schema string

// Hotels is a booking.HotelStore on a *sql.DB. It is safe for concurrent
// use; it never closes the database.
type Hotels struct {
	db *sql.DB
}

// New returns a Hotels on db, which must reach a MySQL-protocol server.
func New(db *sql.DB) *Hotels { return &Hotels{db: db} }

// CreateSchema creates the tables if they do not exist.
func (s *Hotels) CreateSchema(ctx context.Context) error {
	for stmt := range strings.SplitSeq(schema, ";\n") {
		if strings.TrimSpace(stmt) == "" {
			continue
		}
		if _, err := s.db.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("sqlstore: create schema: %w", err)
		}
	}
	return nil
}

var errRetry = errors.New("sqlstore: retry")

// tx runs fn in a transaction, retrying deadlocks, lock wait timeouts and
// errRetry a few times.
func (s *Hotels) tx(ctx context.Context, fn func(*sql.Tx) error) error {
	var err error
	for range 5 {
		err = s.tx1(ctx, fn)
		var me *mysql.MySQLError
		if !errors.Is(err, errRetry) && !(errors.As(err, &me) && (me.Number == 1213 || me.Number == 1205)) {
			return err
		}
	}
	return err
}

func (s *Hotels) tx1(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	return tx.Commit()
}

func isDup(err error) bool {
	var me *mysql.MySQLError
	return errors.As(err, &me) && me.Number == 1062
}

func localityID(l booking.Locality) string {
	sum := sha256.Sum256([]byte(l.City + "\x00" + l.State + "\x00" + l.Country + "\x00" + l.Zip))
	return "loc_" + hex.EncodeToString(sum[:16])
}

func putLocality(ctx context.Context, tx *sql.Tx, l booking.Locality) (string, error) {
	id := localityID(l)
	_, err := tx.ExecContext(ctx, `INSERT IGNORE INTO booking_locality (id, city, state, country, zip_code, is_active)
		VALUES (?, ?, ?, ?, ?, TRUE)`, id, l.City, l.State, l.Country, l.Zip)
	return id, err
}

// facilityIDs returns the IDs of the facilities named, creating missing
// ones.
func facilityIDs(ctx context.Context, tx *sql.Tx, names []string) ([]int64, error) {
	if len(names) == 0 {
		return nil, nil
	}
	args := make([]any, len(names))
	for i, n := range names {
		args[i] = n
	}
	marks := "?" + strings.Repeat(", ?", len(names)-1)
	if _, err := tx.ExecContext(ctx, `INSERT IGNORE INTO booking_facilities (display_name) VALUES (`+
		strings.Repeat("?), (", len(names)-1)+`?)`, args...); err != nil {
		return nil, err
	}
	rows, err := tx.QueryContext(ctx, `SELECT id FROM booking_facilities WHERE display_name IN (`+marks+`)`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

// link switches the facility links of owner in table on for names and off
// for the others.
func link(ctx context.Context, tx *sql.Tx, table, column, owner string, names []string) error {
	ids, err := facilityIDs(ctx, tx, names)
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE `+table+` SET is_active = FALSE WHERE `+column+` = ?`, owner); err != nil {
		return err
	}
	if len(ids) == 0 {
		return nil
	}
	args := make([]any, 0, 2*len(ids))
	for _, id := range ids {
		args = append(args, owner, id)
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO `+table+` (`+column+`, facility_id, is_active) VALUES (?, ?, TRUE)`+
		strings.Repeat(", (?, ?, TRUE)", len(ids)-1)+` ON DUPLICATE KEY UPDATE is_active = TRUE`, args...)
	return err
}

func images(v []string) string {
	if v == nil {
		v = []string{}
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// CreateHotel implements booking.HotelStore.
func (s *Hotels) CreateHotel(ctx context.Context, h booking.Hotel) error {
	err := s.tx(ctx, func(tx *sql.Tx) error {
		loc, err := putLocality(ctx, tx, h.Locality)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO booking_hotel (id, name, locality_id, description,
			original_images, display_images, is_active, version, updated_ms) VALUES (?, ?, ?, ?, ?, ?, ?, 1, ?)`,
			h.ID, h.Name, loc, h.Description, images(h.Images), images(h.DisplayImages), h.Active, h.Updated.UnixMilli()); err != nil {
			return err
		}
		return link(ctx, tx, "booking_hotel_facilities", "hotel_id", h.ID, h.Facilities)
	})
	if isDup(err) {
		return fmt.Errorf("sqlstore: create hotel %s: %w", h.ID, booking.ErrExists)
	}
	if err != nil {
		return fmt.Errorf("sqlstore: create hotel %s: %w", h.ID, err)
	}
	return nil
}

type querier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

func names(ctx context.Context, q querier, query, id string) ([]string, error) {
	rows, err := q.QueryContext(ctx, query, id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	slices.Sort(out)
	return out, rows.Err()
}

const (
	hotelFacilities = `SELECT f.display_name FROM booking_hotel_facilities hf JOIN booking_facilities f ON f.id = hf.facility_id
		WHERE hf.hotel_id = ? AND hf.is_active`
	roomFacilities = `SELECT f.display_name FROM booking_room_facilities rf JOIN booking_facilities f ON f.id = rf.facility_id
		WHERE rf.room_id = ? AND rf.is_active`
	roomColumns = `id, hotel_id, display_name, is_active, quantity, price_min, price_max`
)

func load(ctx context.Context, q querier, id string) (booking.Hotel, error) {
	var (
		h          booking.Hotel
		orig, disp string
		updated    int64
	)
	err := q.QueryRowContext(ctx, `SELECT h.id, h.name, h.description, h.original_images, h.display_images,
		h.is_active, h.version, h.updated_ms, l.city, l.state, l.country, l.zip_code
		FROM booking_hotel h JOIN booking_locality l ON l.id = h.locality_id WHERE h.id = ?`, id).Scan(
		&h.ID, &h.Name, &h.Description, &orig, &disp, &h.Active, &h.Version, &updated,
		&h.Locality.City, &h.Locality.State, &h.Locality.Country, &h.Locality.Zip)
	if errors.Is(err, sql.ErrNoRows) {
		return booking.Hotel{}, booking.ErrNotFound
	}
	if err != nil {
		return booking.Hotel{}, err
	}
	h.Updated = time.UnixMilli(updated).UTC()
	if err := json.Unmarshal([]byte(orig), &h.Images); err != nil {
		return booking.Hotel{}, err
	}
	if err := json.Unmarshal([]byte(disp), &h.DisplayImages); err != nil {
		return booking.Hotel{}, err
	}
	if len(h.Images) == 0 {
		h.Images = nil
	}
	if len(h.DisplayImages) == 0 {
		h.DisplayImages = nil
	}
	if h.Facilities, err = names(ctx, q, hotelFacilities, id); err != nil {
		return booking.Hotel{}, err
	}
	rows, err := q.QueryContext(ctx, `SELECT `+roomColumns+` FROM booking_rooms WHERE hotel_id = ? ORDER BY id`, id)
	if err != nil {
		return booking.Hotel{}, err
	}
	for rows.Next() {
		var r booking.Room
		if err := rows.Scan(&r.ID, &r.HotelID, &r.Name, &r.Active, &r.Quantity, &r.PriceMin, &r.PriceMax); err != nil {
			rows.Close()
			return booking.Hotel{}, err
		}
		h.Rooms = append(h.Rooms, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return booking.Hotel{}, err
	}
	for i := range h.Rooms {
		if h.Rooms[i].Facilities, err = names(ctx, q, roomFacilities, h.Rooms[i].ID); err != nil {
			return booking.Hotel{}, err
		}
	}
	return h, nil
}

// Hotel implements booking.HotelStore.
func (s *Hotels) Hotel(ctx context.Context, id string) (booking.Hotel, error) {
	h, err := load(ctx, s.db, id)
	if err != nil {
		return booking.Hotel{}, fmt.Errorf("sqlstore: hotel %s: %w", id, err)
	}
	return h, nil
}

// lockHotel locks the hotel row and reports whether it exists.
func lockHotel(ctx context.Context, tx *sql.Tx, id string) error {
	var v int64
	err := tx.QueryRowContext(ctx, `SELECT version FROM booking_hotel WHERE id = ? FOR UPDATE`, id).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return booking.ErrNotFound
	}
	return err
}

// UpdateHotel implements booking.HotelStore.
func (s *Hotels) UpdateHotel(ctx context.Context, h booking.Hotel) (booking.Hotel, error) {
	var out booking.Hotel
	err := s.tx(ctx, func(tx *sql.Tx) error {
		if err := lockHotel(ctx, tx, h.ID); err != nil {
			return err
		}
		loc, err := putLocality(ctx, tx, h.Locality)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE booking_hotel SET name = ?, locality_id = ?, description = ?,
			original_images = ?, display_images = ?, is_active = ?, version = version + 1, updated_ms = ? WHERE id = ?`,
			h.Name, loc, h.Description, images(h.Images), images(h.DisplayImages), h.Active, h.Updated.UnixMilli(), h.ID); err != nil {
			return err
		}
		if err := link(ctx, tx, "booking_hotel_facilities", "hotel_id", h.ID, h.Facilities); err != nil {
			return err
		}
		out, err = load(ctx, tx, h.ID)
		return err
	})
	if err != nil {
		return booking.Hotel{}, fmt.Errorf("sqlstore: update hotel %s: %w", h.ID, err)
	}
	return out, nil
}

// PutRoom implements booking.HotelStore.
func (s *Hotels) PutRoom(ctx context.Context, r booking.Room, now time.Time) (booking.Hotel, error) {
	var out booking.Hotel
	err := s.tx(ctx, func(tx *sql.Tx) error {
		if err := lockHotel(ctx, tx, r.HotelID); err != nil {
			return err
		}
		var owner string
		err := tx.QueryRowContext(ctx, `SELECT hotel_id FROM booking_rooms WHERE id = ? FOR UPDATE`, r.ID).Scan(&owner)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			_, err = tx.ExecContext(ctx, `INSERT INTO booking_rooms (`+roomColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?)`,
				r.ID, r.HotelID, r.Name, r.Active, r.Quantity, r.PriceMin, r.PriceMax)
			if isDup(err) { // created concurrently: look again
				return errRetry
			}
		case err != nil:
		case owner != r.HotelID:
			return booking.ErrRoomTaken
		default:
			_, err = tx.ExecContext(ctx, `UPDATE booking_rooms SET display_name = ?, is_active = ?, quantity = ?,
				price_min = ?, price_max = ? WHERE id = ?`, r.Name, r.Active, r.Quantity, r.PriceMin, r.PriceMax, r.ID)
		}
		if err != nil {
			return err
		}
		if err := link(ctx, tx, "booking_room_facilities", "room_id", r.ID, r.Facilities); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE booking_hotel SET version = version + 1, updated_ms = ? WHERE id = ?`,
			now.UnixMilli(), r.HotelID); err != nil {
			return err
		}
		out, err = load(ctx, tx, r.HotelID)
		return err
	})
	if err != nil {
		return booking.Hotel{}, fmt.Errorf("sqlstore: put room %s of hotel %s: %w", r.ID, r.HotelID, err)
	}
	return out, nil
}

// Room implements booking.HotelStore.
func (s *Hotels) Room(ctx context.Context, id string) (booking.Room, error) {
	var r booking.Room
	err := s.db.QueryRowContext(ctx, `SELECT `+roomColumns+` FROM booking_rooms WHERE id = ?`, id).Scan(
		&r.ID, &r.HotelID, &r.Name, &r.Active, &r.Quantity, &r.PriceMin, &r.PriceMax)
	if errors.Is(err, sql.ErrNoRows) {
		err = booking.ErrNotFound
	}
	if err == nil {
		r.Facilities, err = names(ctx, s.db, roomFacilities, id)
	}
	if err != nil {
		return booking.Room{}, fmt.Errorf("sqlstore: room %s: %w", id, err)
	}
	return r, nil
}

// searchQuery selects one row per active hotel with what its search
// document needs, in one statement.
const searchQuery = `SELECT h.id, h.version, h.name, h.description, l.city, l.state, l.country,
	COALESCE((SELECT GROUP_CONCAT(f.display_name SEPARATOR '\n') FROM booking_hotel_facilities hf
		JOIN booking_facilities f ON f.id = hf.facility_id WHERE hf.hotel_id = h.id AND hf.is_active), ''),
	(SELECT MIN(r.price_min) FROM booking_rooms r WHERE r.hotel_id = h.id AND r.is_active)
	FROM booking_hotel h JOIN booking_locality l ON l.id = h.locality_id WHERE h.is_active`

// SearchSource returns the active hotels as a search.Source (through
// search/sqlsource), for search.Index.Rebuild: the database is the source
// of truth of the index.
func (s *Hotels) SearchSource() search.Source {
	return sqlsource.New(s.db, searchQuery, nil, func(rows *sql.Rows) (search.Document, error) {
		var (
			l     booking.Listing
			facs  string
			price sql.NullFloat64
		)
		if err := rows.Scan(&l.ID, &l.Version, &l.Name, &l.Description, &l.City, &l.State, &l.Country, &facs, &price); err != nil {
			return search.Document{}, err
		}
		if facs != "" {
			l.Facilities = strings.Split(facs, "\n")
			slices.Sort(l.Facilities)
		}
		l.PriceFrom = math.NaN()
		if price.Valid {
			l.PriceFrom = price.Float64
		}
		return l.Document(), nil
	})
}
