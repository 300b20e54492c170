package rides

import "errors"

// Sentinel errors. Stores wrap them with %w; match them with errors.Is.
var (
	// ErrNotFound means the trip (or driver, or rider) is unknown.
	ErrNotFound = errors.New("rides: not found")

	// ErrExists means a trip with the same id is already stored.
	ErrExists = errors.New("rides: trip exists")

	// ErrConflict means a trip changed since it was read: its version
	// differs from the one the update was based on.
	ErrConflict = errors.New("rides: version conflict")

	// ErrRiderBusy means the rider already has a trip that has not ended.
	ErrRiderBusy = errors.New("rides: rider has an active trip")

	// ErrInvalidInput means a request was malformed: a bad coordinate, id,
	// radius or body. Bad input changes nothing.
	ErrInvalidInput = errors.New("rides: invalid input")

	// ErrState means the trip is not in a state that allows the operation,
	// such as cancelling a started trip or completing an accepted one.
	ErrState = errors.New("rides: trip is not in a state that allows this")

	// ErrForbidden means the trip belongs to another rider or driver.
	ErrForbidden = errors.New("rides: trip belongs to someone else")

	// ErrNotRunning means Run is not running, so nothing that needs
	// background work (bookings, driver connections) is accepted.
	ErrNotRunning = errors.New("rides: service not running")
)
