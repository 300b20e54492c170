package booking

import "errors"

// Sentinel errors of the hotel store and the service. Adapters wrap them
// with %w; match them with errors.Is.
var (
	// ErrNotFound reports that no hotel, room or booking has the given ID.
	ErrNotFound = errors.New("booking: not found")

	// ErrExists reports that a hotel with the given ID already exists.
	ErrExists = errors.New("booking: already exists")

	// ErrRoomTaken reports that a room ID already belongs to another hotel.
	// Room IDs are global because a booking names only its room.
	ErrRoomTaken = errors.New("booking: room belongs to another hotel")

	// ErrInvalid reports a bad request: a missing or malformed field, a
	// value out of range. Nothing was changed. It is matched by every
	// [*InputError], which names the field.
	ErrInvalid = errors.New("booking: invalid input")

	// ErrRoomsCommitted reports a room quantity below the rooms already
	// booked or held on some night. Nothing was changed.
	ErrRoomsCommitted = errors.New("booking: quantity below the rooms already booked or held")

	// ErrFinal reports a payment for a booking that is already cancelled
	// or completed. Nothing was changed.
	ErrFinal = errors.New("booking: booking is final")
)

// InputError is a rejected field of a request. It matches [ErrInvalid].
type InputError struct {
	Code   string // machine-readable: "invalid_quantity", "date_in_past", ...
	Field  string // the JSON field, "" when the request as a whole is wrong
	Detail string // human-readable
}

// Error returns "booking: field: detail".
func (e *InputError) Error() string {
	if e.Field == "" {
		return "booking: " + e.Detail
	}
	return "booking: " + e.Field + ": " + e.Detail
}

// Unwrap returns ErrInvalid.
func (e *InputError) Unwrap() error { return ErrInvalid }

func invalid(code, field, detail string) error {
	return &InputError{Code: code, Field: field, Detail: detail}
}
