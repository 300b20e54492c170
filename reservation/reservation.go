package reservation

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	mrand "math/rand/v2"
	"strconv"
	"sync/atomic"
	"time"
)

// Defaults of [Options] fields left at zero.
const (
	DefaultHoldTTL       = 10 * time.Minute
	DefaultMaxTTL        = time.Hour
	DefaultSweepInterval = time.Second
	DefaultSweepBatch    = 100
	DefaultKeyRetention  = 24 * time.Hour
	DefaultCompleteAfter = 12 * time.Hour
	DefaultMaxNights     = 30
	DefaultMaxQuantity   = 100
	DefaultMaxRetries    = 10
)

// Limits on identifiers, checked by every operation.
const (
	MaxIDLen  = 64  // booking, room and user IDs
	MaxKeyLen = 255 // idempotency keys and payment IDs
)

// MaxInventoryNights is the longest range one SetInventory or Availability
// call may cover.
const MaxInventoryNights = 3660

// MaxRooms is the largest inventory one night may have.
const MaxRooms = 1_000_000

// LatePolicy says what a payment that arrives after its hold's deadline
// does.
type LatePolicy int

const (
	// LateRebook (the default) books the stay if every night still has
	// the rooms (the hold's own unreleased rooms count), and otherwise
	// cancels it with RefundRequired set.
	LateRebook LatePolicy = iota
	// LateRefund never books late: the hold is cancelled with
	// RefundRequired set.
	LateRefund
)

// CancelPolicy decides whether a Booked stay may be cancelled at now and
// whether its payment is refunded. It returns an error (matching
// ErrCancelRefused, by convention) to refuse. A Reserved hold can always
// be cancelled and has nothing to refund; the policy is not asked.
type CancelPolicy func(b Booking, now time.Time) (refund bool, err error)

// FreeCancellation is the default [CancelPolicy]: a stay may be cancelled,
// with a full refund, until its check-in day begins (in UTC); from then on
// cancellation is refused.
func FreeCancellation(b Booking, now time.Time) (bool, error) {
	if DateFromTime(now.UTC()) < b.CheckIn {
		return true, nil
	}
	return false, fmt.Errorf("reservation: cancel %s: check-in day %s has begun: %w", b.ID, b.CheckIn, ErrCancelRefused)
}

// Options tunes a [Service]. A nil *Options, and every zero field, means
// the documented default.
type Options struct {
	// Now is the clock. Nil means time.Now. Every deadline is computed
	// from it and passed to the store, so a fake clock makes expiry
	// deterministic.
	Now func() time.Time

	// HoldTTL is the hold duration of a request whose TTL is zero. Zero
	// means DefaultHoldTTL (10 minutes).
	HoldTTL time.Duration
	// MaxTTL is the longest hold a request may ask for. Zero means
	// DefaultMaxTTL (1 hour).
	MaxTTL time.Duration

	// SweepInterval is the period of the sweeper in [Service.Run], and so
	// the bound on how long an expired hold stays Reserved when every
	// wake-up is lost: a hold whose deadline passes is Cancelled by the
	// first sweep that starts after it, at most SweepInterval plus the
	// duration of one sweep later (while Run is running somewhere).
	// Capacity does not wait for it. Zero means DefaultSweepInterval (1
	// second).
	SweepInterval time.Duration
	// SweepBatch is how many bookings one store query of the sweeper
	// returns. Zero means DefaultSweepBatch (100).
	SweepBatch int

	// KeyRetention is how long an idempotency key is remembered; the
	// sweeper forgets older ones. It must be at least MaxTTL. Zero means
	// DefaultKeyRetention (24 hours, as Stripe).
	KeyRetention time.Duration

	// CompleteAfter is how long after midnight UTC of its check-out day
	// the sweeper marks a Booked stay Completed. Zero means
	// DefaultCompleteAfter (12 hours); negative disables it (use
	// [Service.Complete]).
	CompleteAfter time.Duration

	// MaxNights is the longest stay. Zero means DefaultMaxNights (30).
	MaxNights int
	// MaxQuantity is the most rooms one booking may ask for. Zero means
	// DefaultMaxQuantity (100).
	MaxQuantity int
	// MaxRetries is how many times an operation is attempted when the
	// store reports ErrConflict. Zero means DefaultMaxRetries (10).
	MaxRetries int

	// LatePayment is the policy for payments after the deadline. The zero
	// value is LateRebook.
	LatePayment LatePolicy
	// CancelPolicy decides cancellations of Booked stays. Nil means
	// FreeCancellation.
	CancelPolicy CancelPolicy

	// Emitter receives an [Event] for every committed change. Nil drops
	// them.
	Emitter Emitter
	// Alarm is armed with the deadline of every new hold (see [Alarm]).
	// Nil means the sweeper's period alone bounds the Cancelled state.
	Alarm Alarm

	// NewID returns a fresh booking ID (1 to 64 printable ASCII
	// characters). Nil means "bk_" and 26 random base32 characters.
	NewID func() string
	// NewInvoiceID returns the invoice ID of a booking being booked (1 to
	// 64 printable ASCII characters). Nil means "inv_" and 26 random base32
	// characters.
	NewInvoiceID func(b Booking) string

	// Logger receives failures that the service survives (emitter, alarm
	// and sweeper errors). Nil discards them.
	Logger *slog.Logger
}

// Stats is a snapshot of a Service's counters since New.
type Stats struct {
	Holds          uint64 // new holds
	Replays        uint64 // Hold calls answered from an idempotency record
	SoldOut        uint64 // Hold calls refused for lack of rooms (replays included)
	Booked         uint64 // bookings paid before their deadline
	LateBooked     uint64 // bookings paid after their deadline (in place or rebooked)
	RefundRequired uint64 // payments marked for refund
	Cancelled      uint64 // Cancelled by Fail or Cancel
	Expired        uint64 // Cancelled by the sweeper
	Completed      uint64
	Retries        uint64 // operations attempted again after ErrConflict
	Sweeps         uint64 // sweeper passes completed
	SweepErrors    uint64
	EmitErrors     uint64
	AlarmErrors    uint64
	Purged         uint64 // terminal bookings deleted by Purge
}

// Service holds rooms for payment, books them, releases them on failure,
// expiry or cancellation, and never oversells. It holds the policy (state
// machine, idempotency, late payments, cancellation, retries); the [Store]
// holds the data and makes each change atomic. A Service is safe for
// concurrent use, and any number of Services, in any number of processes,
// may share one store.
type Service struct {
	store Store

	now                             func() time.Time
	holdTTL, maxTTL                 time.Duration
	sweepInterval                   time.Duration
	keyRetention, completeAfter     time.Duration
	sweepBatch                      int
	maxNights, maxQty, maxRetries   int
	late                            LatePolicy
	cancelPolicy                    CancelPolicy
	emitter                         Emitter
	alarm                           Alarm
	newID                           func() string
	newInvoiceID                    func(Booking) string
	log                             *slog.Logger
	wake                            chan struct{}
	running                         atomic.Bool
	holds, replays, soldOut, booked atomic.Uint64
	lateBooked, refunds, cancelled  atomic.Uint64
	expired, completed, retries     atomic.Uint64
	sweeps, sweepErrs, emitErrs     atomic.Uint64
	alarmErrs, purged               atomic.Uint64
}

// New returns a Service on store. opts may be nil. New starts no
// goroutine: the sweeper is [Service.Run].
func New(store Store, opts *Options) (*Service, error) {
	if store == nil {
		return nil, fmt.Errorf("reservation: new: nil store: %w", ErrInvalid)
	}
	var o Options
	if opts != nil {
		o = *opts
	}
	s := &Service{
		store:         store,
		now:           o.Now,
		holdTTL:       or(o.HoldTTL, DefaultHoldTTL),
		maxTTL:        or(o.MaxTTL, DefaultMaxTTL),
		sweepInterval: or(o.SweepInterval, DefaultSweepInterval),
		keyRetention:  or(o.KeyRetention, DefaultKeyRetention),
		completeAfter: or(o.CompleteAfter, DefaultCompleteAfter),
		sweepBatch:    or(o.SweepBatch, DefaultSweepBatch),
		maxNights:     or(o.MaxNights, DefaultMaxNights),
		maxQty:        or(o.MaxQuantity, DefaultMaxQuantity),
		maxRetries:    or(o.MaxRetries, DefaultMaxRetries),
		late:          o.LatePayment,
		cancelPolicy:  o.CancelPolicy,
		emitter:       o.Emitter,
		alarm:         o.Alarm,
		newID:         o.NewID,
		newInvoiceID:  o.NewInvoiceID,
		log:           o.Logger,
		wake:          make(chan struct{}, 1),
	}
	switch {
	case s.holdTTL < 0, s.maxTTL < 0, s.sweepInterval < 0, s.keyRetention < 0:
		return nil, fmt.Errorf("reservation: new: negative duration: %w", ErrInvalid)
	case s.holdTTL > s.maxTTL:
		return nil, fmt.Errorf("reservation: new: HoldTTL %v above MaxTTL %v: %w", s.holdTTL, s.maxTTL, ErrInvalid)
	case s.keyRetention < s.maxTTL:
		return nil, fmt.Errorf("reservation: new: KeyRetention %v below MaxTTL %v: %w", s.keyRetention, s.maxTTL, ErrInvalid)
	case s.sweepBatch < 0, s.maxNights < 0, s.maxQty < 0, s.maxRetries < 0:
		return nil, fmt.Errorf("reservation: new: negative limit: %w", ErrInvalid)
	case s.late != LateRebook && s.late != LateRefund:
		return nil, fmt.Errorf("reservation: new: unknown LatePayment %d: %w", s.late, ErrInvalid)
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.cancelPolicy == nil {
		s.cancelPolicy = FreeCancellation
	}
	if s.newID == nil {
		s.newID = func() string { return "bk_" + randomID() }
	}
	if s.newInvoiceID == nil {
		s.newInvoiceID = func(Booking) string { return "inv_" + randomID() }
	}
	if s.log == nil {
		s.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return s, nil
}

func or[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}

var idEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// randomID returns 26 base32 characters of 128 random bits.
func randomID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return idEncoding.EncodeToString(b[:])
}

// Stats returns a snapshot of the counters.
func (s *Service) Stats() Stats {
	return Stats{
		Holds: s.holds.Load(), Replays: s.replays.Load(), SoldOut: s.soldOut.Load(),
		Booked: s.booked.Load(), LateBooked: s.lateBooked.Load(), RefundRequired: s.refunds.Load(),
		Cancelled: s.cancelled.Load(), Expired: s.expired.Load(), Completed: s.completed.Load(),
		Retries: s.retries.Load(), Sweeps: s.sweeps.Load(), SweepErrors: s.sweepErrs.Load(),
		EmitErrors: s.emitErrs.Load(), AlarmErrors: s.alarmErrs.Load(), Purged: s.purged.Load(),
	}
}

// validID reports whether s is 1 to max printable ASCII characters, no
// spaces.
func validID(s string, max int) bool {
	if len(s) == 0 || len(s) > max {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] > '~' {
			return false
		}
	}
	return true
}

func (s *Service) checkStay(op, room string, from, to Date, maxNights int) error {
	switch {
	case !validID(room, MaxIDLen):
		return fmt.Errorf("reservation: %s: room %q: want 1 to %d printable ASCII characters: %w", op, room, MaxIDLen, ErrInvalid)
	case !from.Valid() || !to.Valid():
		return fmt.Errorf("reservation: %s: dates %d..%d out of range: %w", op, int32(from), int32(to), ErrInvalid)
	case from >= to:
		return fmt.Errorf("reservation: %s: %s is not before %s: %w", op, from, to, ErrInvalid)
	case int(to-from) > maxNights:
		return fmt.Errorf("reservation: %s: %d nights, at most %d: %w", op, to-from, maxNights, ErrInvalid)
	}
	return nil
}

// fingerprint identifies a hold request for the idempotency check.
func fingerprint(r HoldRequest, ttl time.Duration) string {
	h := sha256.New()
	for _, f := range []string{"hold/v1", r.User, r.Room, strconv.Itoa(r.Quantity),
		r.CheckIn.String(), r.CheckOut.String(), strconv.FormatInt(int64(ttl), 10)} {
		h.Write([]byte(f))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))
}

// Hold reserves req.Quantity rooms of req.Room on every night of the stay,
// or none, for req.TTL, and returns the hold: a Reserved booking with its
// deadline in ExpiresAt.
//
// The same Key with the same request returns the same booking (in its
// current state), or the same [*SoldOutError], without doing the work
// again, for Options.KeyRetention; concurrent requests with one key do the
// work once. The same Key with a different request returns an error
// matching [ErrIdempotencyMismatch]. Rooms held by holds whose deadline
// has passed count as available, whether or not the sweeper has run.
func (s *Service) Hold(ctx context.Context, req HoldRequest) (Booking, error) {
	now := s.now()
	ttl := req.TTL
	if ttl == 0 {
		ttl = s.holdTTL
	}
	switch {
	case !validID(req.Key, MaxKeyLen):
		return Booking{}, fmt.Errorf("reservation: hold: key %q: want 1 to %d printable ASCII characters: %w", req.Key, MaxKeyLen, ErrInvalid)
	case !validID(req.User, MaxIDLen):
		return Booking{}, fmt.Errorf("reservation: hold: user %q: want 1 to %d printable ASCII characters: %w", req.User, MaxIDLen, ErrInvalid)
	case req.Quantity < 1 || req.Quantity > s.maxQty:
		return Booking{}, fmt.Errorf("reservation: hold: quantity %d: want 1 to %d: %w", req.Quantity, s.maxQty, ErrInvalid)
	case ttl < 0 || ttl > s.maxTTL:
		return Booking{}, fmt.Errorf("reservation: hold: ttl %v: want up to %v: %w", ttl, s.maxTTL, ErrInvalid)
	}
	if err := s.checkStay("hold", req.Room, req.CheckIn, req.CheckOut, s.maxNights); err != nil {
		return Booking{}, err
	}
	// A day earlier than today in UTC, so that every time zone's today is
	// accepted.
	if req.CheckIn < DateFromTime(now.UTC()).AddDays(-1) {
		return Booking{}, fmt.Errorf("reservation: hold: check-in %s is in the past: %w", req.CheckIn, ErrInvalid)
	}
	b := Booking{
		ID: s.newID(), Key: req.Key, User: req.User, Room: req.Room,
		CheckIn: req.CheckIn, CheckOut: req.CheckOut, Quantity: req.Quantity,
		State: Reserved, ExpiresAt: now.Add(ttl), Created: now, Updated: now, Version: 1,
	}
	if !validID(b.ID, MaxIDLen) {
		return Booking{}, fmt.Errorf("reservation: hold: NewID returned %q: %w", b.ID, ErrInvalid)
	}
	fp := fingerprint(req, ttl)
	var out Booking
	var replayed bool
	err := s.retry(ctx, func() error {
		var err error
		out, replayed, err = s.store.Hold(ctx, b, fp, now)
		return err
	})
	if replayed {
		s.replays.Add(1)
	}
	if err != nil {
		if errors.Is(err, ErrSoldOut) {
			s.soldOut.Add(1)
		}
		return Booking{}, err
	}
	if replayed {
		return out, nil
	}
	s.holds.Add(1)
	s.emit(ctx, EventHeld, out, now)
	if s.alarm != nil {
		if err := s.alarm.Arm(ctx, out.ID, out.ExpiresAt); err != nil {
			s.alarmErrs.Add(1)
			s.log.Warn("reservation: arm alarm", "booking", out.ID, "err", err)
		}
	}
	return out, nil
}

// retry runs op until it returns something other than ErrConflict, at
// most maxRetries times, with a short randomised backoff.
func (s *Service) retry(ctx context.Context, op func() error) error {
	var err error
	for attempt := 0; attempt < s.maxRetries; attempt++ {
		if attempt > 0 {
			s.retries.Add(1)
			if err := sleep(ctx, backoff(attempt)); err != nil {
				return err
			}
		}
		if err = op(); !errors.Is(err, ErrConflict) {
			return err
		}
	}
	return err
}

// backoff returns a random wait of up to 1ms * 2^attempt, capped at 100ms.
func backoff(attempt int) time.Duration {
	d := time.Millisecond << min(attempt, 7)
	d = min(d, 100*time.Millisecond)
	return time.Duration(mrand.Int64N(int64(d)) + 1)
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// Get returns the booking with the given ID, or an error matching
// [ErrNotFound].
func (s *Service) Get(ctx context.Context, id string) (Booking, error) {
	if !validID(id, MaxIDLen) {
		return Booking{}, fmt.Errorf("reservation: get: id %q: %w", id, ErrInvalid)
	}
	return s.store.Get(ctx, id)
}

// Availability returns the inventory of room for the nights from .. to-1
// (nights without inventory are left out), counting as available the rooms
// of holds whose deadline has passed.
func (s *Service) Availability(ctx context.Context, room string, from, to Date) ([]Night, error) {
	if err := s.checkStay("availability", room, from, to, MaxInventoryNights); err != nil {
		return nil, err
	}
	return s.store.Inventory(ctx, room, from, to, s.now())
}

// MaxRoomBookings is the most bookings one [Service.RoomBookings] call
// returns.
const MaxRoomBookings = 10_000

// RoomBookings returns up to limit (1 to MaxRoomBookings) current bookings
// of room whose stay overlaps the nights from .. to-1, ordered by CheckIn
// then ID: the Booked stays and the Reserved holds whose deadline has not
// passed (an expired hold holds nothing, whether or not the sweeper has
// cancelled it yet). It is the list behind the counts of Availability: on
// every night from today on, the Quantity of these bookings adds up to
// Initial minus Available.
func (s *Service) RoomBookings(ctx context.Context, room string, from, to Date, limit int) ([]Booking, error) {
	if err := s.checkStay("room bookings", room, from, to, MaxInventoryNights); err != nil {
		return nil, err
	}
	if limit < 1 || limit > MaxRoomBookings {
		return nil, fmt.Errorf("reservation: room bookings: limit %d: want 1 to %d: %w", limit, MaxRoomBookings, ErrInvalid)
	}
	return s.store.ByRoom(ctx, room, from, to, s.now(), limit)
}

// SetInventory offers rooms rooms of room on every night from .. to-1. On
// nights that already have inventory the change of the offer moves the
// available count by the same amount; lowering the offer below the rooms
// already booked or held returns an error matching [ErrInvalid] and
// changes nothing.
func (s *Service) SetInventory(ctx context.Context, room string, from, to Date, rooms int) error {
	if err := s.checkStay("set inventory", room, from, to, MaxInventoryNights); err != nil {
		return err
	}
	if rooms < 0 || rooms > MaxRooms {
		return fmt.Errorf("reservation: set inventory: %d rooms: want 0 to %d: %w", rooms, MaxRooms, ErrInvalid)
	}
	return s.retry(ctx, func() error { return s.store.SetInventory(ctx, room, from, to, rooms, s.now()) })
}

// update reads the booking and applies decide to it, again on a fresh read
// whenever decide's store call reports ErrConflict (another change won the
// race), at most maxRetries times.
func (s *Service) update(ctx context.Context, op, id string, decide func(b Booking, now time.Time) (Booking, error)) (Booking, error) {
	if !validID(id, MaxIDLen) {
		return Booking{}, fmt.Errorf("reservation: %s: id %q: %w", op, id, ErrInvalid)
	}
	var out Booking
	err := s.retry(ctx, func() error {
		b, err := s.store.Get(ctx, id)
		if err != nil {
			out = Booking{}
			return err
		}
		out, err = decide(b, s.now())
		return err
	})
	return out, err
}

// Confirm applies a successful payment to the booking id and returns it.
//
//   - Reserved before its deadline: Booked, with an invoice ID.
//   - Reserved after its deadline, or Cancelled by expiry or by [Service.Fail]
//     (a success reported after a failure): the late-payment policy. Under
//     LateRebook the stay is booked if every night still has the rooms: in
//     place when the hold is still Reserved, or as a new booking (new ID,
//     created Booked, Rebooks naming the hold) when it was already
//     Cancelled. Otherwise, or under LateRefund, or when the hold was
//     cancelled through [Service.Cancel], the booking is Cancelled with
//     RefundRequired set, an [EventRefundRequired] is emitted and Confirm
//     returns the booking with an error matching [ErrRefundRequired].
//   - A payment already applied (a duplicate callback, even concurrent):
//     the same booking and the same answer as the first time, with no
//     second invoice.
//   - A different payment for a booking that already has one: the booking
//     unchanged and an error matching [ErrDuplicatePayment].
func (s *Service) Confirm(ctx context.Context, id string, p Payment) (Booking, error) {
	if !validID(p.ID, MaxKeyLen) {
		return Booking{}, fmt.Errorf("reservation: confirm %s: payment id %q: %w", id, p.ID, ErrInvalid)
	}
	return s.update(ctx, "confirm", id, func(b Booking, now time.Time) (Booking, error) {
		switch b.State {
		case Booked, Completed:
			if b.PaymentID == p.ID {
				return b, nil
			}
			return b, duplicatePayment(b, p)
		case Reserved:
			late := !now.Before(b.ExpiresAt)
			if late && s.late == LateRefund {
				return s.refundHold(ctx, b, p, now)
			}
			reason := ReasonPaid
			if late {
				reason = ReasonLatePayment
			}
			inv, err := s.invoice(b)
			if err != nil {
				return b, err
			}
			nb, err := s.store.Transition(ctx, b.ID, Transition{
				From: Reserved, Version: b.Version, To: Booked, Now: now,
				Reason: reason, PaymentID: p.ID, InvoiceID: inv,
			})
			if errors.Is(err, ErrSoldOut) {
				return s.refundHold(ctx, b, p, now)
			}
			if err != nil {
				return b, err
			}
			if late {
				s.lateBooked.Add(1)
			} else {
				s.booked.Add(1)
			}
			s.emit(ctx, EventBooked, nb, now)
			return nb, nil
		default: // Cancelled
			if b.PaymentID == p.ID {
				if b.RefundRequired {
					return b, refundRequired(b)
				}
				return b, nil
			}
			if b.PaymentID != "" {
				return b, duplicatePayment(b, p)
			}
			if s.late == LateRebook && (b.Reason == ReasonExpired || b.Reason == ReasonPaymentFailed) {
				return s.rebook(ctx, b, p, now)
			}
			return s.refundCancelled(ctx, b, p, now)
		}
	})
}

// invoice returns a new invoice ID for b.
func (s *Service) invoice(b Booking) (string, error) {
	inv := s.newInvoiceID(b)
	if !validID(inv, MaxIDLen) {
		return "", fmt.Errorf("reservation: confirm %s: NewInvoiceID returned %q: %w", b.ID, inv, ErrInvalid)
	}
	return inv, nil
}

func duplicatePayment(b Booking, p Payment) error {
	return fmt.Errorf("reservation: confirm %s: payment %q: booking has payment %q: %w", b.ID, p.ID, b.PaymentID, ErrDuplicatePayment)
}

func refundRequired(b Booking) error {
	return fmt.Errorf("reservation: confirm %s: payment %q arrived for a %s booking (%s): %w", b.ID, b.PaymentID, b.State, b.Reason, ErrRefundRequired)
}

// refundHold cancels a Reserved hold that a payment cannot book and marks
// the payment for refund.
func (s *Service) refundHold(ctx context.Context, b Booking, p Payment, now time.Time) (Booking, error) {
	nb, err := s.store.Transition(ctx, b.ID, Transition{
		From: Reserved, Version: b.Version, To: Cancelled, Now: now,
		Reason: ReasonLatePayment, PaymentID: p.ID, RefundRequired: true,
	})
	if err != nil {
		return b, err
	}
	s.refunds.Add(1)
	s.emit(ctx, EventCancelled, nb, now)
	s.emit(ctx, EventRefundRequired, nb, now)
	return nb, refundRequired(nb)
}

// refundCancelled records a payment for a Cancelled booking and marks it
// for refund.
func (s *Service) refundCancelled(ctx context.Context, b Booking, p Payment, now time.Time) (Booking, error) {
	nb, err := s.store.Transition(ctx, b.ID, Transition{
		From: Cancelled, Version: b.Version, To: Cancelled, Now: now,
		PaymentID: p.ID, RefundRequired: true,
	})
	if err != nil {
		return b, err
	}
	s.refunds.Add(1)
	s.emit(ctx, EventRefundRequired, nb, now)
	return nb, refundRequired(nb)
}

// lateKey is the idempotency key of the rebooking of a cancelled hold. It
// contains a space, which keys given to Hold cannot.
func lateKey(id string) string { return "late-payment " + id }

// rebook books the stay of a cancelled hold as a new booking, once per
// hold whatever the number of callbacks: the store's idempotency record
// under lateKey makes a retry (or a concurrent duplicate) return the same
// booking, and a different payment a mismatch.
func (s *Service) rebook(ctx context.Context, b Booking, p Payment, now time.Time) (Booking, error) {
	nb := Booking{
		ID: s.newID(), Key: lateKey(b.ID), User: b.User, Room: b.Room,
		CheckIn: b.CheckIn, CheckOut: b.CheckOut, Quantity: b.Quantity,
		State: Booked, Reason: ReasonLatePayment, ExpiresAt: now,
		PaymentID: p.ID, Rebooks: b.ID, Created: now, Updated: now, Version: 1,
	}
	inv, err := s.invoice(nb)
	if err != nil {
		return b, err
	}
	nb.InvoiceID = inv
	h := sha256.Sum256([]byte("rebook/v1\x00" + p.ID))
	out, replayed, err := s.store.Hold(ctx, nb, hex.EncodeToString(h[:]), now)
	switch {
	case errors.Is(err, ErrIdempotencyMismatch):
		return b, fmt.Errorf("reservation: confirm %s: payment %q: the hold was rebooked by another payment: %w", b.ID, p.ID, ErrDuplicatePayment)
	case errors.Is(err, ErrSoldOut):
		return s.refundCancelled(ctx, b, p, now)
	case err != nil:
		return b, err
	}
	if !replayed {
		s.lateBooked.Add(1)
		s.emit(ctx, EventBooked, out, now)
	}
	return out, nil
}

// Fail reports that the payment for hold id failed: a Reserved hold is
// Cancelled and its rooms released. A Cancelled booking is returned as it
// is (a duplicate callback). A Booked or Completed one is returned
// unchanged with a [*StateError]: a failure reported after a success is
// stale and changes nothing.
func (s *Service) Fail(ctx context.Context, id string) (Booking, error) {
	return s.update(ctx, "fail", id, func(b Booking, now time.Time) (Booking, error) {
		switch b.State {
		case Reserved:
			return s.cancel(ctx, b, Transition{From: Reserved, Version: b.Version, To: Cancelled, Now: now, Reason: ReasonPaymentFailed})
		case Cancelled:
			return b, nil
		}
		return b, &StateError{Op: "fail", ID: b.ID, State: b.State}
	})
}

// Cancel cancels booking id and releases its rooms. A Reserved hold is
// always cancelled. A Booked stay is cancelled if Options.CancelPolicy
// allows it at now (the policy's error is returned otherwise), with
// RefundRequired set when the policy refunds a paid stay. A Cancelled
// booking is returned as it is; a Completed one with a [*StateError].
func (s *Service) Cancel(ctx context.Context, id string) (Booking, error) {
	return s.update(ctx, "cancel", id, func(b Booking, now time.Time) (Booking, error) {
		switch b.State {
		case Reserved:
			return s.cancel(ctx, b, Transition{From: Reserved, Version: b.Version, To: Cancelled, Now: now, Reason: ReasonCancelled})
		case Booked:
			refund, err := s.cancelPolicy(b, now)
			if err != nil {
				return b, err
			}
			return s.cancel(ctx, b, Transition{From: Booked, Version: b.Version, To: Cancelled, Now: now,
				Reason: ReasonCancelled, RefundRequired: refund && b.PaymentID != ""})
		case Cancelled:
			return b, nil
		}
		return b, &StateError{Op: "cancel", ID: b.ID, State: b.State}
	})
}

func (s *Service) cancel(ctx context.Context, b Booking, t Transition) (Booking, error) {
	nb, err := s.store.Transition(ctx, b.ID, t)
	if err != nil {
		return b, err
	}
	s.cancelled.Add(1)
	s.emit(ctx, EventCancelled, nb, t.Now)
	if nb.RefundRequired {
		s.refunds.Add(1)
		s.emit(ctx, EventRefundRequired, nb, t.Now)
	}
	return nb, nil
}

// Complete marks the Booked stay id Completed, from its check-out day on
// (in UTC); before that it returns an error matching [ErrTooEarly]. A
// Completed booking is returned as it is; a Reserved or Cancelled one with
// a [*StateError]. The sweeper completes stays by itself (see
// Options.CompleteAfter).
func (s *Service) Complete(ctx context.Context, id string) (Booking, error) {
	return s.update(ctx, "complete", id, func(b Booking, now time.Time) (Booking, error) {
		switch b.State {
		case Booked:
			if DateFromTime(now.UTC()) < b.CheckOut {
				return b, fmt.Errorf("reservation: complete %s: check-out is %s: %w", b.ID, b.CheckOut, ErrTooEarly)
			}
			return s.complete(ctx, b, now)
		case Completed:
			return b, nil
		}
		return b, &StateError{Op: "complete", ID: b.ID, State: b.State}
	})
}

func (s *Service) complete(ctx context.Context, b Booking, now time.Time) (Booking, error) {
	nb, err := s.store.Transition(ctx, b.ID, Transition{From: Booked, Version: b.Version, To: Completed, Now: now, Reason: ReasonStayEnded})
	if err != nil {
		return b, err
	}
	s.completed.Add(1)
	s.emit(ctx, EventCompleted, nb, now)
	return nb, nil
}

// emit sends an event, on a context that outlives the caller's
// cancellation (the change is committed), and logs a failure.
func (s *Service) emit(ctx context.Context, typ EventType, b Booking, at time.Time) {
	if s.emitter == nil {
		return
	}
	if err := s.emitter.Emit(context.WithoutCancel(ctx), Event{Type: typ, Booking: b, At: at}); err != nil {
		s.emitErrs.Add(1)
		s.log.Warn("reservation: emit", "type", string(typ), "booking", b.ID, "err", err)
	}
}
