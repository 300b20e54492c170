// Package sqlstore implements [reservation.Store] on MariaDB or MySQL
// (github.com/go-sql-driver/mysql): the design notes' Rooms Availability
// database.
//
// # Tables
//
// reservation_inventory has one row per (room, night) with initial and
// available, and a CHECK constraint 0 <= available <= initial.
// reservation_booking has one row per booking. reservation_claim has one
// row per night still claimed by a Reserved hold, with the hold's deadline.
// reservation_idempotency has one row per idempotency key. Bookings are
// indexed by (user_id, created_at, id) for a user's history and by
// (state, updated_at, id) for archiving. Create them with
// [Store.CreateSchema]; [Schema] returns the statements.
//
// # Holding rooms
//
// A hold is one READ COMMITTED transaction. It inserts the idempotency row
// first (a concurrent request with the same key waits on that row and then
// replays the outcome), then the booking row and one claim row per night,
// and last takes the rooms of every night with one conditional decrement,
//
//	UPDATE reservation_inventory SET available = available - q
//	WHERE room_id = ? AND night >= ? AND night < ? AND available >= q
//
// then commits. If the update changed fewer rows than the stay has nights,
// the transaction is rolled back and retried on a slow path: it locks the
// nights with SELECT ... FOR UPDATE, deletes the claims of those nights
// whose deadline has passed and adds their rooms back (the lazy release
// that makes expiry exact without a sweeper), then either takes the rooms
// or records the sold-out outcome, and commits.
//
// # Lock order
//
// Transactions wait only on booking rows and inventory rows, in this
// order: the booking row (by primary key), then the inventory rows of the
// room's nights in ascending date order (one range statement on the
// primary key). Claim rows are locked only by primary-key equality, and
// only by a transaction that holds the inventory locks of their nights, or
// by the transaction inserting them for a new hold, whose ID nobody else
// knows; the expired claims to release are found with a plain read. So no
// transaction ever waits on a claim row, and a new hold can insert its
// booking and claim rows before it locks the inventory, which keeps the
// lock on a hot night to the decrement and the commit. Since a booking is
// for one room, holds, payments, cancellations and the sweeper do not
// deadlock among themselves. Deadlocks (1213) and lock wait timeouts
// (1205) with other work are rolled back and returned as
// [reservation.ErrConflict], which the [reservation.Service] retries;
// [Options.LockTimeout] bounds each wait.
//
// # Connection settings
//
// The store takes the caller's *sql.DB and never closes it. It works with
// or without parseTime and in any loc: it writes and reads times as UTC wall
// clock. interpolateParams=true halves the round trips of every statement
// with arguments (no server-side prepare) and is recommended.
package sqlstore
