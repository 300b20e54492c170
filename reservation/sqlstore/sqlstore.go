package sqlstore

import (
	"context"
	"database/sql"
	_ "embed"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/sysblocks/sysblocks/reservation"
)

//go:embed schema.sql
var schema string

// Options configures a [Store]. The zero value is valid.
type Options struct {
	// LockTimeout bounds each wait for a row lock, rounded up to whole
	// seconds, through MariaDB's SET STATEMENT innodb_lock_wait_timeout=N
	// FOR on every statement of a transaction. A wait that times out
	// rolls the transaction back and returns ErrConflict. Zero means the
	// server's innodb_lock_wait_timeout (50 seconds by default) and works
	// on MySQL too; a non-zero value needs MariaDB.
	LockTimeout time.Duration
}

// Store is a [reservation.Store] on a MySQL-protocol database. It is safe
// for concurrent use, and any number of Stores (in any number of
// processes) may share the tables.
type Store struct {
	db     *sql.DB
	prefix string // SET STATEMENT ... FOR, or ""
}

// New returns a Store on db. opts may be nil.
func New(db *sql.DB, opts *Options) *Store {
	s := &Store{db: db}
	if opts != nil && opts.LockTimeout > 0 {
		secs := int(math.Ceil(opts.LockTimeout.Seconds()))
		s.prefix = "SET STATEMENT innodb_lock_wait_timeout=" + strconv.Itoa(secs) + " FOR "
	}
	return s
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
	return s.addIndex(ctx, "reservation_booking", "reservation_booking_room", "(room_id, state, check_in, id)")
}

// addIndex adds an index that a table created by an earlier version of
// the schema lacks (CREATE TABLE IF NOT EXISTS leaves such a table alone).
// Two processes adding it at once are fine: the loser's duplicate name
// error is ignored.
func (s *Store) addIndex(ctx context.Context, table, index, cols string) error {
	var n int
	if err := s.db.QueryRowContext(ctx, "SELECT COUNT(*) FROM information_schema.statistics"+
		" WHERE table_schema = DATABASE() AND table_name = ? AND index_name = ?", table, index).Scan(&n); err != nil {
		return fmt.Errorf("sqlstore: create schema: %w", err)
	}
	if n > 0 {
		return nil
	}
	_, err := s.db.ExecContext(ctx, "ALTER TABLE "+table+" ADD KEY "+index+" "+cols)
	var me *mysql.MySQLError
	if err != nil && !(errors.As(err, &me) && me.Number == 1061) { // ER_DUP_KEYNAME
		return fmt.Errorf("sqlstore: create schema: add index %s: %w", index, err)
	}
	return nil
}

func hasSQL(stmt string) bool {
	for _, line := range strings.Split(stmt, "\n") {
		line = strings.TrimSpace(line)
		if line != "" && !strings.HasPrefix(line, "--") {
			return true
		}
	}
	return false
}

// ---- values ----

const tsLayout = "2006-01-02 15:04:05.000000"

func ts(t time.Time) string            { return t.UTC().Format(tsLayout) }
func day(d reservation.Date) string    { return d.String() }
func nights(b reservation.Booking) int { return int(b.CheckOut - b.CheckIn) }

// timeCol scans a DATETIME as UTC wall clock, whatever parseTime and loc
// say.
type timeCol struct{ t *time.Time }

func (c timeCol) Scan(v any) error {
	switch x := v.(type) {
	case time.Time:
		*c.t = time.Date(x.Year(), x.Month(), x.Day(), x.Hour(), x.Minute(), x.Second(), x.Nanosecond(), time.UTC)
		return nil
	case []byte:
		return c.parse(string(x))
	case string:
		return c.parse(x)
	}
	return fmt.Errorf("sqlstore: cannot scan %T into a time", v)
}

func (c timeCol) parse(s string) error {
	t, err := time.ParseInLocation("2006-01-02 15:04:05.999999", s, time.UTC)
	if err != nil {
		return fmt.Errorf("sqlstore: scan time %q: %w", s, err)
	}
	*c.t = t
	return nil
}

// dateCol scans a DATE.
type dateCol struct{ d *reservation.Date }

func (c dateCol) Scan(v any) error {
	switch x := v.(type) {
	case nil:
		*c.d = 0
		return nil
	case time.Time:
		*c.d = reservation.DateFromTime(x)
		return nil
	case []byte:
		return c.parse(string(x))
	case string:
		return c.parse(x)
	}
	return fmt.Errorf("sqlstore: cannot scan %T into a date", v)
}

func (c dateCol) parse(s string) error {
	d, err := reservation.ParseDate(s)
	if err != nil {
		return fmt.Errorf("sqlstore: scan date %q: %w", s, err)
	}
	*c.d = d
	return nil
}

const bookingCols = `id, idem_key, user_id, room_id, check_in, check_out, quantity, state, reason,
	expires_at, payment_id, invoice_id, refund_required, rebooks, version, created_at, updated_at`

type scanner interface{ Scan(dest ...any) error }

func scanBooking(r scanner) (reservation.Booking, error) {
	var b reservation.Booking
	var state, reason string
	var rebooks sql.NullString
	err := r.Scan(&b.ID, &b.Key, &b.User, &b.Room, dateCol{&b.CheckIn}, dateCol{&b.CheckOut}, &b.Quantity,
		&state, &reason, timeCol{&b.ExpiresAt}, &b.PaymentID, &b.InvoiceID, &b.RefundRequired, &rebooks,
		&b.Version, timeCol{&b.Created}, timeCol{&b.Updated})
	b.State, b.Reason, b.Rebooks = reservation.State(state), reservation.Reason(reason), rebooks.String
	return b, err
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// dbErr prefixes a driver error and maps contention to ErrConflict.
func dbErr(op string, err error) error {
	var me *mysql.MySQLError
	if errors.As(err, &me) && (me.Number == 1213 || me.Number == 1205) {
		return fmt.Errorf("sqlstore: %s: %w: %w", op, reservation.ErrConflict, err)
	}
	return fmt.Errorf("sqlstore: %s: %w", op, err)
}

func isDuplicate(err error, index string) bool {
	var me *mysql.MySQLError
	return errors.As(err, &me) && me.Number == 1062 && strings.Contains(me.Message, index)
}

// domain marks errors that are already the final answer (sold out,
// conflict, not found), so that run does not wrap them again.
type domain struct{ error }

func (d domain) Unwrap() error { return d.error }

// commitThen makes run commit the transaction and then return err.
type commitThen struct{ err error }

func (c commitThen) Error() string { return c.err.Error() }

// run runs fn in a READ COMMITTED transaction and commits it, rolling back
// on any error.
func (s *Store) run(ctx context.Context, op string, fn func(tx *sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, &sql.TxOptions{Isolation: sql.LevelReadCommitted})
	if err != nil {
		return dbErr(op, err)
	}
	if err := fn(tx); err != nil {
		var c commitThen
		if errors.As(err, &c) {
			if err := tx.Commit(); err != nil {
				return dbErr(op+": commit", err)
			}
			return c.err
		}
		_ = tx.Rollback()
		var d domain
		if errors.As(err, &d) {
			return d.error
		}
		return dbErr(op, err)
	}
	if err := tx.Commit(); err != nil {
		return dbErr(op+": commit", err)
	}
	return nil
}

func (s *Store) exec(ctx context.Context, tx *sql.Tx, query string, args ...any) (int64, error) {
	res, err := tx.ExecContext(ctx, s.prefix+query, args...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// lockNights locks the inventory rows of room in [from, to) in ascending
// order and returns their available counts.
func (s *Store) lockNights(ctx context.Context, tx *sql.Tx, room string, from, to reservation.Date) (map[reservation.Date]int, error) {
	rows, err := tx.QueryContext(ctx, s.prefix+
		"SELECT night, available FROM reservation_inventory WHERE room_id = ? AND night >= ? AND night < ? ORDER BY night FOR UPDATE",
		room, day(from), day(to))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := make(map[reservation.Date]int, int(to-from))
	for rows.Next() {
		var d reservation.Date
		var n int
		if err := rows.Scan(dateCol{&d}, &n); err != nil {
			return nil, err
		}
		out[d] = n
	}
	return out, rows.Err()
}

// deleteClaims deletes the claims of room with the given (night, booking
// ID) keys, by primary key, and returns the rooms they held per night.
// Deleting by primary-key equality only never waits on a row that another
// transaction is inserting.
func (s *Store) deleteClaims(ctx context.Context, tx *sql.Tx, room string, keys []claimKey) (map[reservation.Date]int, error) {
	out := make(map[reservation.Date]int)
	for len(keys) > 0 {
		batch := keys[:min(len(keys), 200)]
		keys = keys[len(batch):]
		var q strings.Builder
		args := make([]any, 0, 1+2*len(batch))
		q.WriteString("DELETE FROM reservation_claim WHERE room_id = ? AND (")
		args = append(args, room)
		for i, k := range batch {
			if i > 0 {
				q.WriteString(" OR ")
			}
			q.WriteString("(night = ? AND booking_id = ?)")
			args = append(args, day(k.night), k.id)
		}
		q.WriteString(") RETURNING night, quantity")
		rows, err := tx.QueryContext(ctx, s.prefix+q.String(), args...)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var d reservation.Date
			var n int
			if err := rows.Scan(dateCol{&d}, &n); err != nil {
				rows.Close()
				return nil, err
			}
			out[d] += n
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

type claimKey struct {
	night reservation.Date
	id    string
}

// ownClaims deletes the claims of booking b and returns the rooms they held
// per night.
func (s *Store) ownClaims(ctx context.Context, tx *sql.Tx, b reservation.Booking) (map[reservation.Date]int, error) {
	keys := make([]claimKey, 0, nights(b))
	for d := b.CheckIn; d < b.CheckOut; d++ {
		keys = append(keys, claimKey{d, b.ID})
	}
	return s.deleteClaims(ctx, tx, b.Room, keys)
}

// releaseExpired deletes the claims on room's nights in [from, to) whose
// deadline is at or before now and adds their rooms back, updating avail.
// The caller holds the nights' locks, which every transaction that deletes
// a claim holds too, so the claims found by the plain read below are still
// there when they are deleted.
func (s *Store) releaseExpired(ctx context.Context, tx *sql.Tx, room string, from, to reservation.Date, now time.Time, avail map[reservation.Date]int) error {
	rows, err := tx.QueryContext(ctx,
		"SELECT night, booking_id FROM reservation_claim WHERE room_id = ? AND night >= ? AND night < ? AND expires_at <= ?",
		room, day(from), day(to), ts(now))
	if err != nil {
		return err
	}
	var keys []claimKey
	for rows.Next() {
		var k claimKey
		if err := rows.Scan(dateCol{&k.night}, &k.id); err != nil {
			rows.Close()
			return err
		}
		keys = append(keys, k)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	if len(keys) == 0 {
		return nil
	}
	freed, err := s.deleteClaims(ctx, tx, room, keys)
	if err != nil {
		return err
	}
	if err := s.addBack(ctx, tx, room, freed); err != nil {
		return err
	}
	for d, q := range freed {
		avail[d] += q
	}
	return nil
}

// addBack adds rooms per night to available in one statement.
func (s *Store) addBack(ctx context.Context, tx *sql.Tx, room string, rooms map[reservation.Date]int) error {
	if len(rooms) == 0 {
		return nil
	}
	var q strings.Builder
	args := make([]any, 0, 3*len(rooms)+1)
	q.WriteString("UPDATE reservation_inventory SET available = available + CASE night")
	for d, n := range rooms {
		q.WriteString(" WHEN ? THEN ?")
		args = append(args, day(d), n)
	}
	q.WriteString(" END WHERE room_id = ? AND night IN (")
	args = append(args, room)
	first := true
	for d := range rooms {
		if !first {
			q.WriteString(", ")
		}
		first = false
		q.WriteString("?")
		args = append(args, day(d))
	}
	q.WriteString(")")
	n, err := s.exec(ctx, tx, q.String(), args...)
	if err != nil {
		return err
	}
	if int(n) != len(rooms) {
		return fmt.Errorf("released rooms on %d nights of %q, but %d inventory rows changed", len(rooms), room, n)
	}
	return nil
}

// ---- Store ----

// SetInventory implements [reservation.Store].
func (s *Store) SetInventory(ctx context.Context, room string, from, to reservation.Date, initial int, now time.Time) error {
	if initial < 0 || from >= to {
		return fmt.Errorf("sqlstore: set inventory %q: %d rooms, %s..%s: %w", room, initial, from, to, reservation.ErrInvalid)
	}
	return s.run(ctx, "set inventory", func(tx *sql.Tx) error {
		avail, err := s.lockNights(ctx, tx, room, from, to)
		if err != nil {
			return err
		}
		if err := s.releaseExpired(ctx, tx, room, from, to, now, avail); err != nil {
			return err
		}
		// Check every existing night before changing any.
		rows, err := tx.QueryContext(ctx, "SELECT night, initial FROM reservation_inventory WHERE room_id = ? AND night >= ? AND night < ?",
			room, day(from), day(to))
		if err != nil {
			return err
		}
		for rows.Next() {
			var d reservation.Date
			var init int
			if err := rows.Scan(dateCol{&d}, &init); err != nil {
				rows.Close()
				return err
			}
			if avail[d]+initial-init < 0 {
				rows.Close()
				return domain{fmt.Errorf("sqlstore: set inventory %q: night %s has %d rooms committed, more than %d: %w",
					room, d, init-avail[d], initial, reservation.ErrInvalid)}
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		const chunk = 500
		for lo := from; lo < to; lo += chunk {
			hi := min(lo+chunk, to)
			var q strings.Builder
			q.WriteString("INSERT INTO reservation_inventory (room_id, night, initial, available) VALUES ")
			args := make([]any, 0, 4*int(hi-lo))
			for d := lo; d < hi; d++ {
				if d > lo {
					q.WriteString(", ")
				}
				q.WriteString("(?, ?, ?, ?)")
				args = append(args, room, day(d), initial, initial)
			}
			q.WriteString(" ON DUPLICATE KEY UPDATE available = available + VALUES(initial) - initial, initial = VALUES(initial)")
			if _, err := s.exec(ctx, tx, q.String(), args...); err != nil {
				return err
			}
		}
		return nil
	})
}

// Inventory implements [reservation.Store]. One statement reads the rows
// and the expired claims, so each night is read from one snapshot.
func (s *Store) Inventory(ctx context.Context, room string, from, to reservation.Date, now time.Time) ([]reservation.Night, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT i.night, i.initial, i.available + COALESCE((
			SELECT SUM(c.quantity) FROM reservation_claim c
			WHERE c.room_id = i.room_id AND c.night = i.night AND c.expires_at <= ?), 0)
		FROM reservation_inventory i WHERE i.room_id = ? AND i.night >= ? AND i.night < ? ORDER BY i.night`,
		ts(now), room, day(from), day(to))
	if err != nil {
		return nil, dbErr("inventory", err)
	}
	defer rows.Close()
	var out []reservation.Night
	for rows.Next() {
		var n reservation.Night
		if err := rows.Scan(dateCol{&n.Date}, &n.Initial, &n.Available); err != nil {
			return nil, dbErr("inventory", err)
		}
		out = append(out, n)
	}
	if err := rows.Err(); err != nil {
		return nil, dbErr("inventory", err)
	}
	return out, nil
}

// errSlowPath makes Hold retry on the slow path.
var errSlowPath = errors.New("sqlstore: conditional decrement fell short")

// errReplay makes Hold answer from the idempotency record.
var errReplay = errors.New("sqlstore: key exists")

// errRebooked makes Hold answer from the booking that already rebooks the
// same hold.
var errRebooked = errors.New("sqlstore: hold already rebooked")

// Hold implements [reservation.Store].
func (s *Store) Hold(ctx context.Context, b reservation.Booking, fingerprint string, now time.Time) (reservation.Booking, bool, error) {
	if b.CheckIn >= b.CheckOut || b.Quantity < 1 || (b.State != reservation.Reserved && b.State != reservation.Booked) {
		return reservation.Booking{}, false, fmt.Errorf("sqlstore: hold: malformed booking: %w", reservation.ErrInvalid)
	}
	var err error
	for _, slow := range []bool{false, true} {
		err = s.run(ctx, "hold", func(tx *sql.Tx) error { return s.hold(ctx, tx, b, fingerprint, now, slow) })
		if !errors.Is(err, errSlowPath) {
			break
		}
	}
	switch {
	case err == nil:
		return b, false, nil
	case errors.Is(err, errReplay):
		return s.replay(ctx, b, fingerprint)
	case errors.Is(err, errRebooked):
		return s.rebooked(ctx, b)
	}
	var so *reservation.SoldOutError
	if errors.As(err, &so) {
		return reservation.Booking{}, false, so
	}
	return reservation.Booking{}, false, err
}

func (s *Store) hold(ctx context.Context, tx *sql.Tx, b reservation.Booking, fingerprint string, now time.Time, slow bool) error {
	// The key first: a concurrent request with the same key waits here
	// until this transaction ends, then replays its outcome.
	if _, err := s.exec(ctx, tx,
		"INSERT INTO reservation_idempotency (idem_key, fingerprint, booking_id, created_at) VALUES (?, ?, ?, ?)",
		b.Key, fingerprint, b.ID, ts(now)); err != nil {
		if isDuplicate(err, "PRIMARY") {
			return domain{errReplay}
		}
		return err
	}
	if slow {
		avail, err := s.lockNights(ctx, tx, b.Room, b.CheckIn, b.CheckOut)
		if err != nil {
			return err
		}
		if err := s.releaseExpired(ctx, tx, b.Room, b.CheckIn, b.CheckOut, now, avail); err != nil {
			return err
		}
		for d := b.CheckIn; d < b.CheckOut; d++ {
			if avail[d] < b.Quantity { // a missing night reads as 0
				// Record the outcome and keep the released claims released.
				if _, err := s.exec(ctx, tx,
					"UPDATE reservation_idempotency SET booking_id = '', sold_out_night = ?, sold_out_available = ? WHERE idem_key = ?",
					day(d), avail[d], b.Key); err != nil {
					return err
				}
				return commitThen{&reservation.SoldOutError{Room: b.Room, Night: d, Requested: b.Quantity, Available: avail[d]}}
			}
		}
	}
	// The booking row and the claims are new rows with an ID nobody else
	// knows: inserting them waits on no one, so they go before the
	// inventory locks, which are then held only for the decrement and the
	// commit.
	if _, err := s.exec(ctx, tx, "INSERT INTO reservation_booking ("+bookingCols+
		") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
		b.ID, b.Key, b.User, b.Room, day(b.CheckIn), day(b.CheckOut), b.Quantity, string(b.State), string(b.Reason),
		ts(b.ExpiresAt), b.PaymentID, b.InvoiceID, b.RefundRequired, nullable(b.Rebooks), b.Version, ts(b.Created), ts(b.Updated)); err != nil {
		if isDuplicate(err, "reservation_booking_rebooks") {
			return domain{errRebooked}
		}
		return err
	}
	n := nights(b)
	if b.State == reservation.Reserved {
		var q strings.Builder
		q.WriteString("INSERT INTO reservation_claim (room_id, night, booking_id, quantity, expires_at) VALUES ")
		args := make([]any, 0, 5*n)
		for d := b.CheckIn; d < b.CheckOut; d++ {
			if d > b.CheckIn {
				q.WriteString(", ")
			}
			q.WriteString("(?, ?, ?, ?, ?)")
			args = append(args, b.Room, day(d), b.ID, b.Quantity, ts(b.ExpiresAt))
		}
		if _, err := s.exec(ctx, tx, q.String(), args...); err != nil {
			return err
		}
	}
	took, err := s.exec(ctx, tx,
		"UPDATE reservation_inventory SET available = available - ? WHERE room_id = ? AND night >= ? AND night < ? AND available >= ?",
		b.Quantity, b.Room, day(b.CheckIn), day(b.CheckOut), b.Quantity)
	if err != nil {
		return err
	}
	if int(took) != n {
		if slow {
			return fmt.Errorf("hold %s: %d of %d nights taken under lock", b.ID, took, n)
		}
		return domain{errSlowPath}
	}
	return nil
}

// replay answers a Hold from the idempotency record of b.Key.
func (s *Store) replay(ctx context.Context, b reservation.Booking, fingerprint string) (reservation.Booking, bool, error) {
	var fp, id string
	var night reservation.Date
	var avail sql.NullInt64
	err := s.db.QueryRowContext(ctx,
		"SELECT fingerprint, booking_id, sold_out_night, sold_out_available FROM reservation_idempotency WHERE idem_key = ?",
		b.Key).Scan(&fp, &id, dateCol{&night}, &avail)
	if errors.Is(err, sql.ErrNoRows) {
		// Pruned between the two statements: nothing happened; retry.
		return reservation.Booking{}, false, fmt.Errorf("sqlstore: hold: key %q vanished: %w", b.Key, reservation.ErrConflict)
	}
	if err != nil {
		return reservation.Booking{}, false, dbErr("hold: replay", err)
	}
	if fp != fingerprint {
		return reservation.Booking{}, false, fmt.Errorf("sqlstore: hold: key %q: %w", b.Key, reservation.ErrIdempotencyMismatch)
	}
	if id == "" {
		return reservation.Booking{}, true, &reservation.SoldOutError{Room: b.Room, Night: night, Requested: b.Quantity, Available: int(avail.Int64)}
	}
	got, err := s.Get(ctx, id)
	if err != nil {
		return reservation.Booking{}, false, err
	}
	return got, true, nil
}

// rebooked answers a Hold whose b.Rebooks is taken by another booking.
func (s *Store) rebooked(ctx context.Context, b reservation.Booking) (reservation.Booking, bool, error) {
	got, err := scanBooking(s.db.QueryRowContext(ctx, "SELECT "+bookingCols+" FROM reservation_booking WHERE rebooks = ?", b.Rebooks))
	if errors.Is(err, sql.ErrNoRows) {
		return reservation.Booking{}, false, fmt.Errorf("sqlstore: hold: rebooking of %s vanished: %w", b.Rebooks, reservation.ErrConflict)
	}
	if err != nil {
		return reservation.Booking{}, false, dbErr("hold: rebooked", err)
	}
	if got.PaymentID != b.PaymentID {
		return reservation.Booking{}, false, fmt.Errorf("sqlstore: hold: %s was rebooked by payment %q: %w", b.Rebooks, got.PaymentID, reservation.ErrIdempotencyMismatch)
	}
	return got, true, nil
}

// Get implements [reservation.Store].
func (s *Store) Get(ctx context.Context, id string) (reservation.Booking, error) {
	b, err := scanBooking(s.db.QueryRowContext(ctx, "SELECT "+bookingCols+" FROM reservation_booking WHERE id = ?", id))
	if errors.Is(err, sql.ErrNoRows) {
		return reservation.Booking{}, fmt.Errorf("sqlstore: get %s: %w", id, reservation.ErrNotFound)
	}
	if err != nil {
		return reservation.Booking{}, dbErr("get "+id, err)
	}
	return b, nil
}

// Transition implements [reservation.Store].
func (s *Store) Transition(ctx context.Context, id string, t reservation.Transition) (reservation.Booking, error) {
	effect, ok := reservation.EffectOf(t.From, t.To)
	if !ok {
		return reservation.Booking{}, fmt.Errorf("sqlstore: transition %s: %s -> %s: %w", id, t.From, t.To, reservation.ErrInvalid)
	}
	var out reservation.Booking
	err := s.run(ctx, "transition "+id, func(tx *sql.Tx) error {
		b, err := scanBooking(tx.QueryRowContext(ctx, s.prefix+"SELECT "+bookingCols+" FROM reservation_booking WHERE id = ? FOR UPDATE", id))
		if errors.Is(err, sql.ErrNoRows) {
			return domain{fmt.Errorf("sqlstore: transition %s: %w", id, reservation.ErrNotFound)}
		}
		if err != nil {
			return err
		}
		if b.State != t.From || b.Version != t.Version {
			return domain{fmt.Errorf("sqlstore: transition %s: %s v%d, want %s v%d: %w",
				id, b.State, b.Version, t.From, t.Version, reservation.ErrConflict)}
		}
		switch effect {
		case reservation.EffectBook:
			if err := s.book(ctx, tx, b, t.Now); err != nil {
				return err
			}
		case reservation.EffectReleaseHold:
			if _, err := s.lockNights(ctx, tx, b.Room, b.CheckIn, b.CheckOut); err != nil {
				return err
			}
			freed, err := s.ownClaims(ctx, tx, b)
			if err != nil {
				return err
			}
			if err := s.addBack(ctx, tx, b.Room, freed); err != nil {
				return err
			}
		case reservation.EffectReleaseStay:
			n, err := s.exec(ctx, tx,
				"UPDATE reservation_inventory SET available = available + ? WHERE room_id = ? AND night >= ? AND night < ?",
				b.Quantity, b.Room, day(b.CheckIn), day(b.CheckOut))
			if err != nil {
				return err
			}
			if int(n) != nights(b) {
				return fmt.Errorf("released %d of %d nights of booked stay", n, nights(b))
			}
		}
		out = t.Apply(b)
		_, err = s.exec(ctx, tx, `UPDATE reservation_booking SET state = ?, reason = ?, payment_id = ?, invoice_id = ?,
			refund_required = ?, updated_at = ?, version = ? WHERE id = ?`,
			string(out.State), string(out.Reason), out.PaymentID, out.InvoiceID, out.RefundRequired, ts(out.Updated), out.Version, id)
		return err
	})
	if err != nil {
		return reservation.Booking{}, err
	}
	return out, nil
}

// book turns the claims of the Reserved booking b into booked rooms, taking
// again the nights whose claim was released, all or none.
func (s *Store) book(ctx context.Context, tx *sql.Tx, b reservation.Booking, now time.Time) error {
	avail, err := s.lockNights(ctx, tx, b.Room, b.CheckIn, b.CheckOut)
	if err != nil {
		return err
	}
	own, err := s.ownClaims(ctx, tx, b)
	if err != nil {
		return err
	}
	if len(own) == nights(b) {
		return nil // every night still claimed: the rooms stay taken
	}
	if err := s.releaseExpired(ctx, tx, b.Room, b.CheckIn, b.CheckOut, now, avail); err != nil {
		return err
	}
	var missing []any
	for d := b.CheckIn; d < b.CheckOut; d++ {
		if _, ok := own[d]; ok {
			continue
		}
		if avail[d] < b.Quantity {
			return domain{&reservation.SoldOutError{Room: b.Room, Night: d, Requested: b.Quantity, Available: avail[d]}}
		}
		missing = append(missing, day(d))
	}
	q := "UPDATE reservation_inventory SET available = available - ? WHERE room_id = ? AND available >= ? AND night IN (?" +
		strings.Repeat(", ?", len(missing)-1) + ")"
	n, err := s.exec(ctx, tx, q, append([]any{b.Quantity, b.Room, b.Quantity}, missing...)...)
	if err != nil {
		return err
	}
	if int(n) != len(missing) {
		return fmt.Errorf("book %s: %d of %d released nights taken under lock", b.ID, n, len(missing))
	}
	return nil
}

func (s *Store) list(ctx context.Context, op, query string, args ...any) ([]reservation.Booking, error) {
	rows, err := s.db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, dbErr(op, err)
	}
	defer rows.Close()
	var out []reservation.Booking
	for rows.Next() {
		b, err := scanBooking(rows)
		if err != nil {
			return nil, dbErr(op, err)
		}
		out = append(out, b)
	}
	if err := rows.Err(); err != nil {
		return nil, dbErr(op, err)
	}
	return out, nil
}

// Expired implements [reservation.Store].
func (s *Store) Expired(ctx context.Context, now time.Time, limit int) ([]reservation.Booking, error) {
	return s.list(ctx, "expired", "SELECT "+bookingCols+
		" FROM reservation_booking WHERE state = 'reserved' AND expires_at <= ? ORDER BY expires_at, id LIMIT ?", ts(now), limit)
}

// Ended implements [reservation.Store].
func (s *Store) Ended(ctx context.Context, d reservation.Date, limit int) ([]reservation.Booking, error) {
	return s.list(ctx, "ended", "SELECT "+bookingCols+
		" FROM reservation_booking WHERE state = 'booked' AND check_out <= ? ORDER BY check_out, id LIMIT ?", day(d), limit)
}

// PruneKeys implements [reservation.Store].
func (s *Store) PruneKeys(ctx context.Context, before time.Time, limit int) (int, error) {
	res, err := s.db.ExecContext(ctx, "DELETE FROM reservation_idempotency WHERE created_at < ? LIMIT ?", ts(before), limit)
	if err != nil {
		return 0, dbErr("prune keys", err)
	}
	n, err := res.RowsAffected()
	return int(n), err
}

// ByUser implements [reservation.Store] with a range scan of the index
// (user_id, created_at, id), backwards.
func (s *Store) ByUser(ctx context.Context, user string, after reservation.Cursor, limit int) ([]reservation.Booking, error) {
	q := "SELECT " + bookingCols + " FROM reservation_booking WHERE user_id = ?"
	args := []any{user}
	if !after.IsZero() {
		at := after.Created.UTC()
		if us := at.Truncate(time.Microsecond); !us.Equal(at) {
			// No stored time equals a cursor finer than a microsecond:
			// every booking at or before its microsecond comes after it.
			q += " AND created_at <= ?"
			args = append(args, ts(us))
		} else {
			q += " AND created_at <= ? AND (created_at < ? OR id < ?)"
			args = append(args, ts(at), ts(at), after.ID)
		}
	}
	q += " ORDER BY created_at DESC, id DESC LIMIT ?"
	return s.list(ctx, "by user", q, append(args, limit)...)
}

// ByRoom implements [reservation.Store]: one ordered range scan of the
// index (room_id, state, check_in, id) per live state, merged.
func (s *Store) ByRoom(ctx context.Context, room string, from, to reservation.Date, now time.Time, limit int) ([]reservation.Booking, error) {
	one := "(SELECT " + bookingCols + " FROM reservation_booking WHERE room_id = ? AND state = ? AND check_in < ? AND check_out > ?%s ORDER BY check_in, id LIMIT ?)"
	return s.list(ctx, "by room", fmt.Sprintf(one, "")+" UNION ALL "+fmt.Sprintf(one, " AND expires_at > ?")+" ORDER BY check_in, id LIMIT ?",
		room, string(reservation.Booked), day(to), day(from), limit,
		room, string(reservation.Reserved), day(to), day(from), ts(now), limit, limit)
}

// Archivable implements [reservation.Store]: one ordered range scan of the
// index (state, updated_at, id) per terminal state, merged.
func (s *Store) Archivable(ctx context.Context, before time.Time, limit int) ([]reservation.Booking, error) {
	one := "(SELECT " + bookingCols + " FROM reservation_booking WHERE state = ? AND updated_at < ? ORDER BY updated_at, id LIMIT ?)"
	return s.list(ctx, "archivable", one+" UNION ALL "+one+" ORDER BY updated_at, id LIMIT ?",
		string(reservation.Cancelled), ts(before), limit, string(reservation.Completed), ts(before), limit, limit)
}

// DeleteTerminal implements [reservation.Store] in one transaction: it
// locks the named booking rows, keeps those that are terminal at the
// wanted version, and deletes them and their idempotency records.
func (s *Store) DeleteTerminal(ctx context.Context, refs []reservation.Ref) (int, error) {
	if len(refs) == 0 {
		return 0, nil
	}
	want := make(map[string]int64, len(refs))
	ids := make([]any, 0, len(refs))
	for _, r := range refs {
		if _, dup := want[r.ID]; !dup {
			ids = append(ids, r.ID)
		}
		want[r.ID] = r.Version
	}
	in := "(?" + strings.Repeat(", ?", len(ids)-1) + ")"
	n := 0
	err := s.run(ctx, "delete terminal", func(tx *sql.Tx) error {
		n = 0
		rows, err := tx.QueryContext(ctx, s.prefix+"SELECT id, idem_key, state, version FROM reservation_booking WHERE id IN "+in+" FOR UPDATE", ids...)
		if err != nil {
			return err
		}
		var del, keys []any
		for rows.Next() {
			var id, key, state string
			var version int64
			if err := rows.Scan(&id, &key, &state, &version); err != nil {
				rows.Close()
				return err
			}
			if v := want[id]; reservation.State(state).Terminal() && (v == 0 || v == version) {
				del = append(del, id)
				keys = append(keys, key)
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		if len(del) == 0 {
			return nil
		}
		// A key record names the booking that carries its key, so the
		// two lists select exactly the records of the deleted bookings.
		list := "(?" + strings.Repeat(", ?", len(del)-1) + ")"
		if _, err := s.exec(ctx, tx, "DELETE FROM reservation_idempotency WHERE idem_key IN "+list+" AND booking_id IN "+list,
			append(keys, del...)...); err != nil {
			return err
		}
		got, err := s.exec(ctx, tx, "DELETE FROM reservation_booking WHERE id IN "+list, del...)
		if err != nil {
			return err
		}
		n = int(got)
		return nil
	})
	if err != nil {
		return 0, err
	}
	return n, nil
}
