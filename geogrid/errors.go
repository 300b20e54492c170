package geogrid

import (
	"errors"
	"strconv"
)

// Sentinel errors. Adapters wrap them with %w; match them with [errors.Is].
var (
	// ErrInvalidInput is matched by every [*InputError]: a coordinate that is
	// NaN, infinite or out of range, a negative radius or k, an empty id.
	// Bad input changes nothing.
	ErrInvalidInput = errors.New("geogrid: invalid input")

	// ErrNotFound means the id, trip or claim is not in the store.
	ErrNotFound = errors.New("geogrid: not found")

	// ErrClaimed means another driver (or another trip) won the claim.
	ErrClaimed = errors.New("geogrid: already claimed")

	// ErrNoDriver means no driver could be assigned: nobody was near, or
	// nobody accepted an offer in any round.
	ErrNoDriver = errors.New("geogrid: no driver")

	// ErrNoOffer means a driver tried to accept a trip it holds no open
	// offer for: never offered, the offer expired, or the trip settled
	// longer ago than DispatchOptions.Remember.
	ErrNoOffer = errors.New("geogrid: no open offer")

	// ErrTripClosed means the trip was closed with no driver: its
	// broadcast ended (every round timed out, or Assign's context ended)
	// before anyone accepted. [Dispatcher.Accept] returns it wrapped
	// together with ErrNoOffer to the drivers who had been offered the
	// trip; [Dispatcher.Holder] returns it for a closed trip.
	ErrTripClosed = errors.New("geogrid: trip closed without a driver")
)

// InputError describes one rejected argument. It matches [ErrInvalidInput]
// with [errors.Is].
type InputError struct {
	Op     string  // the operation, such as "update" or "nearby"
	Field  string  // the argument, such as "lat", "radius" or "id"
	Value  float64 // the rejected value (0 for an empty id)
	Reason string  // what is wrong with it
}

// Error returns "geogrid: op: field value: reason".
func (e *InputError) Error() string {
	return "geogrid: " + e.Op + ": " + e.Field + " " + strconv.FormatFloat(e.Value, 'g', -1, 64) + ": " + e.Reason
}

// Is reports whether target is [ErrInvalidInput].
func (e *InputError) Is(target error) bool { return target == ErrInvalidInput }
