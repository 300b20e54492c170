package reservation

import (
	"context"
	"time"
)

// State is the state of a booking. The machine is the design notes':
//
//	Reserved -> Booked | Cancelled
//	Booked   -> Completed | Cancelled
//
// Cancelled and Completed are terminal. A payment that arrives after its
// hold was cancelled never revives it: it books a new booking (created
// Booked, with Rebooks naming the hold) or marks the cancelled one
// RefundRequired, a flag, not a state.
type State string

// The states of a booking.
const (
	Reserved  State = "reserved"  // held until ExpiresAt, awaiting payment
	Booked    State = "booked"    // paid; the rooms are taken
	Cancelled State = "cancelled" // released: expired, payment failed or cancelled
	Completed State = "completed" // the stay has ended
)

// Valid reports whether s is one of the four states.
func (s State) Valid() bool {
	switch s {
	case Reserved, Booked, Cancelled, Completed:
		return true
	}
	return false
}

// Terminal reports whether s is Cancelled or Completed.
func (s State) Terminal() bool { return s == Cancelled || s == Completed }

// Reason says why a booking reached its state.
type Reason string

// Reasons recorded with transitions.
const (
	ReasonNone          Reason = ""
	ReasonPaid          Reason = "paid"           // Booked by a payment before the deadline
	ReasonLatePayment   Reason = "late_payment"   // Booked by a payment after the deadline, or Cancelled because it found no room
	ReasonPaymentFailed Reason = "payment_failed" // Cancelled by [Service.Fail]
	ReasonExpired       Reason = "expired"        // Cancelled by the sweeper at the deadline
	ReasonCancelled     Reason = "cancelled"      // Cancelled by [Service.Cancel]
	ReasonStayEnded     Reason = "stay_ended"     // Completed
)

// Booking is one request for Quantity rooms of one room type for the nights
// CheckIn .. CheckOut-1, and its state. (One room ID per booking, as in the
// design notes.)
type Booking struct {
	ID       string
	Key      string // idempotency key of the request that created it
	User     string
	Room     string
	CheckIn  Date
	CheckOut Date // the first day not stayed
	Quantity int

	State  State
	Reason Reason

	// ExpiresAt is the hold's deadline. A Reserved booking holds its rooms
	// while now < ExpiresAt; from ExpiresAt on they count as available
	// again, whether or not the sweeper has cancelled it yet.
	ExpiresAt time.Time

	PaymentID string // the payment that booked it (or that must be refunded)
	InvoiceID string // issued when it was Booked

	// RefundRequired is set on a Cancelled booking whose payment must be
	// refunded: a late payment that found no room, or a cancellation of a
	// paid stay that the policy refunds.
	RefundRequired bool

	// Rebooks is set on a booking created by a late payment: the ID of the
	// cancelled hold it replaces.
	Rebooks string

	Created time.Time
	Updated time.Time
	// Version starts at 1 and grows by one with every change; stores use
	// it to refuse a transition decided on a stale read.
	Version int64
}

// Nights returns the number of nights of the stay.
func (b Booking) Nights() int { return int(b.CheckOut - b.CheckIn) }

// Held reports whether b holds rooms at now: it is Reserved and now is
// before its deadline.
func (b Booking) Held(now time.Time) bool { return b.State == Reserved && now.Before(b.ExpiresAt) }

// Night is the inventory of one room type on one night.
type Night struct {
	Date    Date
	Initial int // rooms offered
	// Available is Initial minus the rooms Booked and the rooms held by
	// holds whose deadline has not passed. It is never negative.
	Available int
}

// Payment is the success callback of a payment provider.
type Payment struct {
	// ID identifies the payment (the provider's charge or intent ID). A
	// callback delivered twice carries the same ID.
	ID string
}

// HoldRequest asks for Quantity rooms of Room for the nights CheckIn ..
// CheckOut-1.
type HoldRequest struct {
	// Key is the idempotency key: a retry of the same request with the
	// same key returns the same booking, however many times it is sent and
	// even while the first attempt is still running. 1 to 255 printable
	// ASCII characters, no spaces.
	Key      string
	User     string
	Room     string
	Quantity int
	CheckIn  Date
	CheckOut Date
	// TTL is how long the rooms are held for payment. Zero means
	// Options.HoldTTL.
	TTL time.Duration
}

// EventType names what happened to a booking.
type EventType string

// Event types.
const (
	EventHeld           EventType = "held"            // a new hold (Reserved)
	EventBooked         EventType = "booked"          // paid, on time or late
	EventCancelled      EventType = "cancelled"       // expired, payment failed, or cancelled
	EventCompleted      EventType = "completed"       // the stay ended
	EventRefundRequired EventType = "refund_required" // a payment must be refunded
)

// Event reports a change of a booking, after it was committed to the
// store.
type Event struct {
	Type    EventType
	Booking Booking // the booking after the change
	At      time.Time
}

// Emitter receives the events of a [Service], for example to publish them
// to Kafka through the events block or to feed a search index. Emit is
// called after the change was committed, on the goroutine that made it;
// an error is logged and counted (Stats.EmitErrors), never returned to the
// caller of the operation. Events are delivered at most once: a process
// that dies between the commit and Emit loses the event (the store keeps
// the state, which is the source of truth).
type Emitter interface {
	Emit(ctx context.Context, e Event) error
}

// EmitterFunc adapts a function to [Emitter].
type EmitterFunc func(ctx context.Context, e Event) error

// Emit calls f(ctx, e).
func (f EmitterFunc) Emit(ctx context.Context, e Event) error { return f(ctx, e) }

// Alarm is told the deadline of every new hold so that it can call
// [Service.Wake] soon after it passes (the redisnotify package does this
// with Redis TTL keys and keyspace notifications). It is only a hint:
// capacity is correct at the deadline without it, and the sweeper cancels
// expired holds within Options.SweepInterval even when every alarm is
// lost. An error is logged and counted, never returned.
type Alarm interface {
	Arm(ctx context.Context, id string, deadline time.Time) error
}
