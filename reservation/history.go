package reservation

import (
	"context"
	"fmt"
	"time"
)

// MaxListLimit is the most bookings one [Service.UserBookings] or
// [Service.Archivable] call returns.
const MaxListLimit = 1000

// MaxPurge is the most bookings one [Service.Purge] call may name.
const MaxPurge = 1000

// UserBookings returns up to limit (1 to [MaxListLimit]) bookings of user,
// in every state, newest first (Created descending, then ID descending),
// starting strictly after the position after; the zero [Cursor] starts at
// the newest. The next page starts after the last booking returned:
//
//	page, err := svc.UserBookings(ctx, user, reservation.Cursor{}, 20)
//	last := page[len(page)-1]
//	next, err := svc.UserBookings(ctx, user, reservation.Cursor{Created: last.Created, ID: last.ID}, 20)
//
// A page shorter than limit is the last one.
func (s *Service) UserBookings(ctx context.Context, user string, after Cursor, limit int) ([]Booking, error) {
	if !validID(user, MaxIDLen) {
		return nil, fmt.Errorf("reservation: user bookings: user %q: %w", user, ErrInvalid)
	}
	if after.ID != "" && !validID(after.ID, MaxIDLen) {
		return nil, fmt.Errorf("reservation: user bookings: cursor id %q: %w", after.ID, ErrInvalid)
	}
	if limit < 1 || limit > MaxListLimit {
		return nil, fmt.Errorf("reservation: user bookings: limit %d: want 1 to %d: %w", limit, MaxListLimit, ErrInvalid)
	}
	return s.store.ByUser(ctx, user, after, limit)
}

// Archivable returns up to limit (1 to [MaxListLimit]) bookings in a
// terminal state (Cancelled or Completed) last changed before before,
// earliest Updated first: what an archiver moves to cold storage. A
// terminal booking may still change (a Cancelled one can be marked
// RefundRequired), which moves its Updated past before and makes it wait
// for a later pass.
func (s *Service) Archivable(ctx context.Context, before time.Time, limit int) ([]Booking, error) {
	if limit < 1 || limit > MaxListLimit {
		return nil, fmt.Errorf("reservation: archivable: limit %d: want 1 to %d: %w", limit, MaxListLimit, ErrInvalid)
	}
	return s.store.Archivable(ctx, before, limit)
}

// Purge deletes from the store the bookings named by refs (at most
// [MaxPurge]) that are Cancelled or Completed and, for a ref with a
// non-zero Version, still at that version, and returns how many it
// deleted. Bookings in another state or version, and unknown IDs, are
// left alone without error, so Purge is idempotent and never deletes a
// live hold or stay: it is the delete step of archiving, called after the
// bookings were copied to cold storage.
//
// The idempotency record that created a purged booking is deleted with
// it: a retry of that key afterwards creates a new booking, as after
// Options.KeyRetention. Purge bookings older than KeyRetention to keep
// retries exact.
func (s *Service) Purge(ctx context.Context, refs []Ref) (int, error) {
	if len(refs) > MaxPurge {
		return 0, fmt.Errorf("reservation: purge: %d bookings: want at most %d: %w", len(refs), MaxPurge, ErrInvalid)
	}
	for _, r := range refs {
		if !validID(r.ID, MaxIDLen) || r.Version < 0 {
			return 0, fmt.Errorf("reservation: purge: booking %q v%d: %w", r.ID, r.Version, ErrInvalid)
		}
	}
	if len(refs) == 0 {
		return 0, nil
	}
	var n int
	err := s.retry(ctx, func() error {
		var err error
		n, err = s.store.DeleteTerminal(ctx, refs)
		return err
	})
	s.purged.Add(uint64(n))
	return n, err
}
