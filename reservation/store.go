package reservation

import (
	"context"
	"time"
)

// Store is the adapter contract: inventory rows per (room, night), bookings,
// the claims that live holds have on nights, and idempotency records. The
// package storetest checks it. Implementations must be safe for concurrent
// use, and several Store values (in one process or many) on the same
// backend must behave as one.
//
// # The capacity model every store implements
//
// Each (room, night) row has Initial and a counter avail. Every Reserved
// booking has a claim of Quantity on each of its nights that has not been
// released, carrying the booking's deadline. The invariant, per row:
//
//	avail = Initial - Σ Quantity of Booked bookings on the night
//	                - Σ claims on the night            (claims of Reserved bookings only)
//	0 <= avail <= Initial
//
// A claim whose deadline is at or before now no longer counts as held: the
// rooms available at now are avail + Σ expired claims. Whoever needs
// capacity at now first releases the expired claims of the nights it
// touches (deletes them and adds them back to avail), under the same row
// locks, then takes what it needs with a conditional decrement. A Reserved
// booking may therefore have claims on only some of its nights; the
// sweeper's transition to Cancelled releases the rest.
//
// Every method that depends on time takes now; stores never read a clock.
type Store interface {
	// SetInventory sets Initial to initial (>= 0) on every night of room
	// in [from, to), creating missing rows with avail = initial and
	// moving avail of existing rows by the change of Initial, after
	// releasing the expired claims (at now) of those nights. If a night
	// would end with avail < 0 (more rooms committed than initial), it
	// returns an error matching ErrInvalid and changes nothing.
	SetInventory(ctx context.Context, room string, from, to Date, initial int, now time.Time) error

	// Inventory returns the rows of room in [from, to) in date order,
	// nights without a row left out, with Available = avail + Σ claims
	// whose deadline is at or before now, read consistently per night.
	Inventory(ctx context.Context, room string, from, to Date, now time.Time) ([]Night, error)

	// Hold creates b atomically with its capacity, once per b.Key.
	//
	// If no record exists for b.Key, Hold releases the expired claims (at
	// now) of the nights of b, takes b.Quantity on every night whose avail
	// allows it (all nights or none) and stores b, with a claim per night
	// when b.State is Reserved (a hold, until b.ExpiresAt) or none when it
	// is Booked (a late payment's rebooking, taken for good). It records
	// b.Key with fingerprint and the outcome, and returns (b, false, nil).
	// If a night is short it records the outcome instead and returns a
	// [*SoldOutError] naming the first short night in date order (a night
	// without a row has 0 available); the released expired claims stay
	// released.
	//
	// If a record exists for b.Key with another fingerprint, Hold returns
	// an error matching ErrIdempotencyMismatch. With the same fingerprint
	// it returns the recorded outcome and replayed = true: the booking it
	// created, in its current state, or the same *SoldOutError. Requests
	// racing on one key are serialised: one does the work, the others
	// wait for it and replay its outcome.
	//
	// At most one booking may rebook a given hold: when b.Rebooks is set
	// and another booking already rebooks that hold (its key record may
	// have been pruned), Hold answers as a replay of it if its PaymentID
	// equals b.PaymentID, and with ErrIdempotencyMismatch otherwise.
	//
	// The caller guarantees a valid b (Version 1, State Reserved or
	// Booked, Quantity >= 1, CheckIn < CheckOut) with a fresh ID, and a
	// fingerprint of at most 64 bytes.
	Hold(ctx context.Context, b Booking, fingerprint string, now time.Time) (_ Booking, replayed bool, _ error)

	// Get returns the booking with the given ID, or an error matching
	// ErrNotFound.
	Get(ctx context.Context, id string) (Booking, error)

	// Transition changes the booking id from t.From to t.To if its state
	// is still t.From and its version t.Version, with the capacity effect
	// of the pair (see [Transition]), and returns the booking as stored.
	// Otherwise it returns an error matching ErrConflict (or ErrNotFound)
	// and changes nothing. A transition that needs rooms it cannot get
	// returns a [*SoldOutError] and changes nothing.
	Transition(ctx context.Context, id string, t Transition) (Booking, error)

	// Expired returns up to limit Reserved bookings whose deadline is at
	// or before now, earliest deadline first.
	Expired(ctx context.Context, now time.Time, limit int) ([]Booking, error)

	// Ended returns up to limit Booked bookings whose CheckOut is at or
	// before day, earliest CheckOut first.
	Ended(ctx context.Context, day Date, limit int) ([]Booking, error)

	// PruneKeys deletes up to limit idempotency records created before
	// before and returns how many it deleted. A key pruned is free again:
	// a request that reuses it creates a new booking.
	PruneKeys(ctx context.Context, before time.Time, limit int) (int, error)

	// ByUser returns up to limit (>= 1) bookings of user, in every state,
	// in the order (Created descending, ID descending), starting strictly
	// after the position after in that order; the zero Cursor starts at
	// the newest. Created is compared as stored (SQL stores keep
	// microseconds).
	ByUser(ctx context.Context, user string, after Cursor, limit int) ([]Booking, error)

	// ByRoom returns up to limit (>= 1) current bookings of room whose
	// stay overlaps the nights [from, to) (CheckIn < to and CheckOut >
	// from): Booked stays, and Reserved holds whose deadline is after now
	// (a hold that has expired, swept or not, is left out). They are
	// ordered by CheckIn, then ID.
	ByRoom(ctx context.Context, room string, from, to Date, now time.Time, limit int) ([]Booking, error)

	// Archivable returns up to limit (>= 1) bookings in a terminal state
	// (Cancelled or Completed) whose Updated is before before, earliest
	// Updated first, ties by ID.
	Archivable(ctx context.Context, before time.Time, limit int) ([]Booking, error)

	// DeleteTerminal deletes every booking named by refs that is in a
	// terminal state and, when the ref's Version is not zero, still at
	// that version, together with the idempotency record that created it
	// (a retry of that key then creates a new booking, as after
	// PruneKeys), and returns how many it deleted. Unknown IDs and
	// bookings in another state or version are left alone without error,
	// so a repeated call is harmless. It never deletes a Reserved or
	// Booked booking. Terminal bookings have no claims, so capacity is
	// unchanged.
	DeleteTerminal(ctx context.Context, refs []Ref) (int, error)
}

// Cursor is a position in a user's bookings listed newest first (Created
// descending, then ID descending): the Created and ID of the last booking
// of the previous page. The zero Cursor is the position before the newest.
type Cursor struct {
	Created time.Time
	ID      string
}

// IsZero reports whether c is the zero Cursor.
func (c Cursor) IsZero() bool { return c.Created.IsZero() && c.ID == "" }

// Ref names a booking, and optionally the version it must still have.
type Ref struct {
	ID      string
	Version int64 // 0: any version
}

// Transition is a compare-and-set change of a booking's state, applied by
// [Store.Transition]. The pairs allowed, and their effect on capacity:
//
//	Reserved  -> Booked     the claims become booked rooms; nights whose claim was
//	                        released (expired, or released by a clock ahead of this
//	                        one) are taken again after releasing expired claims, or
//	                        the transition fails with a *SoldOutError
//	Reserved  -> Cancelled  the remaining claims are released
//	Booked    -> Cancelled  Quantity is released on every night
//	Booked    -> Completed  none
//	Cancelled -> Cancelled  none (marks RefundRequired or records a payment)
//
// Any other pair is refused with an error matching ErrInvalid.
type Transition struct {
	From    State
	Version int64
	To      State
	Now     time.Time // becomes Updated; the instant at which claims expire

	Reason         Reason // set when not empty
	PaymentID      string // set when not empty
	InvoiceID      string // set when not empty
	RefundRequired bool   // set when true; never cleared
}

// Effect is the capacity effect of a [Transition].
type Effect int

// Effects of transitions.
const (
	EffectNone        Effect = iota // state and fields only
	EffectBook                      // Reserved -> Booked
	EffectReleaseHold               // Reserved -> Cancelled
	EffectReleaseStay               // Booked -> Cancelled
	effectNotAllowed
)

// EffectOf returns the capacity effect of from -> to, and false if the
// pair is not allowed. Adapters use it to implement [Store.Transition].
func EffectOf(from, to State) (Effect, bool) {
	switch {
	case from == Reserved && to == Booked:
		return EffectBook, true
	case from == Reserved && to == Cancelled:
		return EffectReleaseHold, true
	case from == Booked && to == Cancelled:
		return EffectReleaseStay, true
	case from == Booked && to == Completed, from == Cancelled && to == Cancelled:
		return EffectNone, true
	}
	return effectNotAllowed, false
}

// Apply returns b changed by t (state, fields, Updated, Version), without
// any capacity effect. Adapters use it so that every store records a
// transition the same way.
func (t Transition) Apply(b Booking) Booking {
	b.State = t.To
	if t.Reason != ReasonNone {
		b.Reason = t.Reason
	}
	if t.PaymentID != "" {
		b.PaymentID = t.PaymentID
	}
	if t.InvoiceID != "" {
		b.InvoiceID = t.InvoiceID
	}
	if t.RefundRequired {
		b.RefundRequired = true
	}
	b.Updated = t.Now
	b.Version++
	return b
}
