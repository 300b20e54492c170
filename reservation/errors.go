package reservation

import (
	"errors"
	"fmt"
)

// Sentinel errors. Adapters wrap them with %w; match them with
// [errors.Is].
var (
	// ErrInvalid reports a bad argument or option: an empty or malformed
	// ID or key, a quantity below 1, a stay that ends before it starts,
	// a date out of range. Nothing was changed.
	ErrInvalid = errors.New("reservation: invalid argument")

	// ErrNotFound reports that no booking has the given ID.
	ErrNotFound = errors.New("reservation: not found")

	// ErrSoldOut reports that some night of a stay has fewer rooms
	// available than requested (a night with no inventory has none). It is
	// matched by every [*SoldOutError], which names the night. Nothing was
	// reserved.
	ErrSoldOut = errors.New("reservation: sold out")

	// ErrIdempotencyMismatch reports that an idempotency key was used
	// before with a different request. Nothing was changed.
	ErrIdempotencyMismatch = errors.New("reservation: idempotency key reused with a different request")

	// ErrState reports that the booking's state does not allow the
	// operation, for example a payment failure reported for a booking
	// that is already Booked. It is matched by every [*StateError].
	// Nothing was changed.
	ErrState = errors.New("reservation: operation not allowed in this state")

	// ErrConflict reports that a store rolled an operation back because of
	// contention (the booking changed under it, a deadlock, a lock wait
	// timeout) and changed nothing, so that it is safe to retry. The
	// [Service] retries it and returns it only after Options.MaxRetries
	// attempts.
	ErrConflict = errors.New("reservation: conflict, nothing changed")

	// ErrRefundRequired is returned with the booking by [Service.Confirm]
	// when a payment arrived for a hold that can no longer be booked (it
	// expired and a night was sold meanwhile, or it was cancelled). The
	// booking is Cancelled with RefundRequired set and an
	// [EventRefundRequired] was emitted: the payment must be refunded.
	ErrRefundRequired = errors.New("reservation: payment must be refunded")

	// ErrDuplicatePayment is returned with the booking by
	// [Service.Confirm] when the booking already carries another payment.
	// The booking is unchanged; the new payment is not used and must be
	// refunded.
	ErrDuplicatePayment = errors.New("reservation: booking already has another payment")

	// ErrCancelRefused is returned by the cancellation policy (and so by
	// [Service.Cancel]) when a booked stay may no longer be cancelled.
	ErrCancelRefused = errors.New("reservation: cancellation refused by policy")

	// ErrTooEarly is returned by [Service.Complete] before the check-out
	// day of the stay.
	ErrTooEarly = errors.New("reservation: stay has not ended")

	// ErrRunning is returned by [Service.Run] when it is already running.
	ErrRunning = errors.New("reservation: already running")
)

// SoldOutError is the error of a hold (or of a late payment's attempt to
// re-reserve) that found too few rooms on a night. It matches [ErrSoldOut].
type SoldOutError struct {
	Room      string
	Night     Date // the first night in date order that was short
	Requested int
	Available int // rooms available on Night at the time
}

// Error returns "reservation: room "r", night 2026-03-01: 2 requested, 1
// available: sold out".
func (e *SoldOutError) Error() string {
	return fmt.Sprintf("reservation: room %q, night %s: %d requested, %d available: sold out",
		e.Room, e.Night, e.Requested, e.Available)
}

// Unwrap returns [ErrSoldOut].
func (e *SoldOutError) Unwrap() error { return ErrSoldOut }

// StateError is the error of an operation that the booking's state does
// not allow. It matches [ErrState].
type StateError struct {
	Op    string // "confirm", "fail", "cancel", "complete"
	ID    string
	State State // the state the booking was in
}

// Error returns "reservation: fail bk_x: booking is booked".
func (e *StateError) Error() string {
	return fmt.Sprintf("reservation: %s %s: booking is %s", e.Op, e.ID, e.State)
}

// Unwrap returns [ErrState].
func (e *StateError) Unwrap() error { return ErrState }
