package rides

import (
	"context"
	"time"

	"github.com/sysblocks/sysblocks/archive"
)

// State is where a trip is in its lifecycle.
type State string

// The states of a trip.
const (
	Requested State = "requested" // booked, no driver offered yet
	Offered   State = "offered"   // offered to drivers, nobody accepted yet
	Accepted  State = "accepted"  // a driver accepted and is on the way
	Started   State = "started"   // the rider is on board
	Completed State = "completed" // the trip ended at the drop point
	Cancelled State = "cancelled" // cancelled by the rider, or no driver
)

// Terminal reports whether s is an end state (completed or cancelled).
func (s State) Terminal() bool { return s == Completed || s == Cancelled }

// Valid reports whether s is one of the states above.
func (s State) Valid() bool {
	switch s {
	case Requested, Offered, Accepted, Started, Completed, Cancelled:
		return true
	}
	return false
}

// Reasons a trip was cancelled.
const (
	ReasonRider       = "rider"         // the rider cancelled
	ReasonNoDriver    = "no_driver"     // no driver near, or nobody accepted
	ReasonInterrupted = "interrupted"   // the service stopped while dispatching
	ReasonLost        = "dispatch_lost" // the dispatching process went away
)

// Trip is one ride. Times are kept to the millisecond.
type Trip struct {
	ID        string
	Rider     string
	Driver    string // empty until a driver accepts
	State     State
	Premium   bool
	PickupLat float64
	PickupLng float64
	DropLat   float64
	DropLng   float64
	Surge     float64       // price multiplier at booking
	Fare      float64       // price quoted at booking, surge included
	PickupETA time.Duration // driver to pickup when the driver accepted
	Reason    string        // why a cancelled trip was cancelled
	Created   time.Time
	Updated   time.Time
	Ended     time.Time // zero until completed or cancelled
	Version   int64     // set by the TripStore; see TripStore.Update
}

// TripStore keeps the current trips: those in progress and those that
// ended recently (MariaDB in the real setup). Implementations must be safe
// for concurrent use.
type TripStore interface {
	// Create stores t, which has Version 0, as version 1. It returns an
	// error matching [ErrExists] if a trip with t.ID is stored, and
	// [ErrRiderBusy] if t is not terminal and t.Rider already has a stored
	// trip that is not terminal. A rider has at most one such trip.
	Create(ctx context.Context, t Trip) error

	// Get returns the trip id or an error matching [ErrNotFound].
	Get(ctx context.Context, id string) (Trip, error)

	// Update replaces the stored trip t.ID with t if the stored version
	// equals t.Version, and returns t with the version incremented. It
	// returns [ErrConflict] if the versions differ (nothing changes) and
	// [ErrNotFound] if the trip is not stored. Rider and ID never change.
	// When t is terminal its rider may create a new trip.
	Update(ctx context.Context, t Trip) (Trip, error)

	// List returns up to limit trips in any of states whose Updated is
	// before the given time, oldest update first.
	List(ctx context.Context, states []State, before time.Time, limit int) ([]Trip, error)

	// Ended returns up to limit completed or cancelled trips of rider,
	// the latest Ended first (equal Ended: the greater ID first), strictly
	// after the position after (the zero Cursor starts at the latest).
	Ended(ctx context.Context, rider string, after archive.Cursor, limit int) ([]Trip, error)

	// DeleteEnded removes the trips with the given IDs that are completed
	// or cancelled. An ID that is absent, or of a trip that has not ended,
	// is skipped without error, so DeleteEnded is idempotent and never
	// removes a trip in progress.
	DeleteEnded(ctx context.Context, ids []string) error
}

// Ping is one location report of a driver.
type Ping struct {
	Driver string
	Lat    float64
	Lng    float64
	At     time.Time // kept to the millisecond
}

// Locations keeps every ping of every driver (Cassandra in the real setup,
// partitioned by driver and UTC day). Implementations must be safe for
// concurrent use.
type Locations interface {
	// Append stores p. Appending a ping with the same Driver and At again
	// overwrites it, so redelivered events change nothing.
	Append(ctx context.Context, p Ping) error

	// List returns up to limit pings of driver made during the UTC day
	// containing day, the latest first.
	List(ctx context.Context, driver string, day time.Time, limit int) ([]Ping, error)
}
