package memstore

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/sysblocks/sysblocks/reservation"
)

type nightKey struct {
	room  string
	night reservation.Date
}

type row struct {
	initial, avail int
	claims         map[string]claim // booking ID -> claim
}

type claim struct {
	qty     int
	expires time.Time
}

type record struct {
	fingerprint string
	bookingID   string
	soldOut     *reservation.SoldOutError
	created     time.Time
}

// Store is an in-memory [reservation.Store]. The zero value is not usable;
// call New. It is safe for concurrent use.
type Store struct {
	mu       sync.Mutex
	rows     map[nightKey]*row
	bookings map[string]*reservation.Booking
	reserved map[string]struct{} // IDs of Reserved bookings
	booked   map[string]struct{} // IDs of Booked bookings
	terminal map[string]struct{} // IDs of Cancelled and Completed bookings
	byUser   map[string]map[string]struct{}
	live     map[string]map[string]struct{} // room -> IDs of Reserved and Booked bookings
	keys     map[string]*record
	rebooks  map[string]string // rebooked hold ID -> booking ID
}

// New returns an empty Store.
func New() *Store {
	return &Store{
		rows:     make(map[nightKey]*row),
		bookings: make(map[string]*reservation.Booking),
		reserved: make(map[string]struct{}),
		booked:   make(map[string]struct{}),
		terminal: make(map[string]struct{}),
		byUser:   make(map[string]map[string]struct{}),
		live:     make(map[string]map[string]struct{}),
		keys:     make(map[string]*record),
		rebooks:  make(map[string]string),
	}
}

// releaseExpired returns to avail the claims of r whose deadline is at or
// before now.
func releaseExpired(r *row, now time.Time) {
	for id, c := range r.claims {
		if !c.expires.After(now) {
			r.avail += c.qty
			delete(r.claims, id)
		}
	}
}

// SetInventory implements [reservation.Store].
func (s *Store) SetInventory(ctx context.Context, room string, from, to reservation.Date, initial int, now time.Time) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if initial < 0 || from >= to {
		return fmt.Errorf("memstore: set inventory %q: %d rooms, %s..%s: %w", room, initial, from, to, reservation.ErrInvalid)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for d := from; d < to; d++ {
		if r := s.rows[nightKey{room, d}]; r != nil {
			releaseExpired(r, now)
			if r.avail+initial-r.initial < 0 {
				return fmt.Errorf("memstore: set inventory %q: night %s has %d rooms committed, more than %d: %w",
					room, d, r.initial-r.avail, initial, reservation.ErrInvalid)
			}
		}
	}
	for d := from; d < to; d++ {
		k := nightKey{room, d}
		if r := s.rows[k]; r != nil {
			r.avail += initial - r.initial
			r.initial = initial
		} else {
			s.rows[k] = &row{initial: initial, avail: initial, claims: make(map[string]claim)}
		}
	}
	return nil
}

// Inventory implements [reservation.Store].
func (s *Store) Inventory(ctx context.Context, room string, from, to reservation.Date, now time.Time) ([]reservation.Night, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []reservation.Night
	for d := from; d < to; d++ {
		r := s.rows[nightKey{room, d}]
		if r == nil {
			continue
		}
		avail := r.avail
		for _, c := range r.claims {
			if !c.expires.After(now) {
				avail += c.qty
			}
		}
		out = append(out, reservation.Night{Date: d, Initial: r.initial, Available: avail})
	}
	return out, nil
}

// take releases the expired claims of the nights of b at now and takes
// b.Quantity on the nights in need, all or none. need reports whether a
// night must be taken (nil: every night).
func (s *Store) take(b reservation.Booking, now time.Time, need func(reservation.Date) bool) error {
	var short *reservation.SoldOutError
	for d := b.CheckIn; d < b.CheckOut; d++ {
		if need != nil && !need(d) {
			continue
		}
		r := s.rows[nightKey{b.Room, d}]
		avail := 0
		if r != nil {
			if r.avail < b.Quantity { // release lazily, only when short
				releaseExpired(r, now)
			}
			avail = r.avail
		}
		if avail < b.Quantity && short == nil {
			short = &reservation.SoldOutError{Room: b.Room, Night: d, Requested: b.Quantity, Available: avail}
		}
	}
	if short != nil {
		return short
	}
	for d := b.CheckIn; d < b.CheckOut; d++ {
		if need == nil || need(d) {
			s.rows[nightKey{b.Room, d}].avail -= b.Quantity
		}
	}
	return nil
}

// Hold implements [reservation.Store].
func (s *Store) Hold(ctx context.Context, b reservation.Booking, fingerprint string, now time.Time) (reservation.Booking, bool, error) {
	if err := ctx.Err(); err != nil {
		return reservation.Booking{}, false, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if rec := s.keys[b.Key]; rec != nil {
		if rec.fingerprint != fingerprint {
			return reservation.Booking{}, false, fmt.Errorf("memstore: hold: key %q: %w", b.Key, reservation.ErrIdempotencyMismatch)
		}
		if rec.soldOut != nil {
			e := *rec.soldOut
			return reservation.Booking{}, true, &e
		}
		return *s.bookings[rec.bookingID], true, nil
	}
	if id, ok := s.rebooks[b.Rebooks]; ok && b.Rebooks != "" {
		if got := s.bookings[id]; got.PaymentID == b.PaymentID {
			return *got, true, nil
		}
		return reservation.Booking{}, false, fmt.Errorf("memstore: hold: %s already rebooked: %w", b.Rebooks, reservation.ErrIdempotencyMismatch)
	}
	if _, dup := s.bookings[b.ID]; dup {
		return reservation.Booking{}, false, fmt.Errorf("memstore: hold: booking %s exists", b.ID)
	}
	rec := &record{fingerprint: fingerprint, created: now}
	s.keys[b.Key] = rec
	if err := s.take(b, now, nil); err != nil {
		rec.soldOut = err.(*reservation.SoldOutError)
		e := *rec.soldOut
		return reservation.Booking{}, false, &e
	}
	if b.State == reservation.Reserved {
		for d := b.CheckIn; d < b.CheckOut; d++ {
			s.rows[nightKey{b.Room, d}].claims[b.ID] = claim{qty: b.Quantity, expires: b.ExpiresAt}
		}
	}
	rec.bookingID = b.ID
	if b.Rebooks != "" {
		s.rebooks[b.Rebooks] = b.ID
	}
	s.put(b)
	return b, false, nil
}

// put stores b and keeps the state indexes.
func (s *Store) put(b reservation.Booking) {
	s.bookings[b.ID] = &b
	delete(s.reserved, b.ID)
	delete(s.booked, b.ID)
	delete(s.terminal, b.ID)
	switch b.State {
	case reservation.Reserved:
		s.reserved[b.ID] = struct{}{}
	case reservation.Booked:
		s.booked[b.ID] = struct{}{}
	case reservation.Cancelled, reservation.Completed:
		s.terminal[b.ID] = struct{}{}
	}
	u := s.byUser[b.User]
	if u == nil {
		u = make(map[string]struct{})
		s.byUser[b.User] = u
	}
	u[b.ID] = struct{}{}
	r := s.live[b.Room]
	if b.State == reservation.Reserved || b.State == reservation.Booked {
		if r == nil {
			r = make(map[string]struct{})
			s.live[b.Room] = r
		}
		r[b.ID] = struct{}{}
	} else if r != nil {
		delete(r, b.ID)
		if len(r) == 0 {
			delete(s.live, b.Room)
		}
	}
}

// Get implements [reservation.Store].
func (s *Store) Get(ctx context.Context, id string) (reservation.Booking, error) {
	if err := ctx.Err(); err != nil {
		return reservation.Booking{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	b := s.bookings[id]
	if b == nil {
		return reservation.Booking{}, fmt.Errorf("memstore: get %s: %w", id, reservation.ErrNotFound)
	}
	return *b, nil
}

// Transition implements [reservation.Store].
func (s *Store) Transition(ctx context.Context, id string, t reservation.Transition) (reservation.Booking, error) {
	if err := ctx.Err(); err != nil {
		return reservation.Booking{}, err
	}
	effect, ok := reservation.EffectOf(t.From, t.To)
	if !ok {
		return reservation.Booking{}, fmt.Errorf("memstore: transition %s: %s -> %s: %w", id, t.From, t.To, reservation.ErrInvalid)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.bookings[id]
	if p == nil {
		return reservation.Booking{}, fmt.Errorf("memstore: transition %s: %w", id, reservation.ErrNotFound)
	}
	b := *p
	if b.State != t.From || b.Version != t.Version {
		return reservation.Booking{}, fmt.Errorf("memstore: transition %s: %s v%d, want %s v%d: %w",
			id, b.State, b.Version, t.From, t.Version, reservation.ErrConflict)
	}
	switch effect {
	case reservation.EffectBook:
		// Nights whose claim is still there keep their rooms; the others
		// are taken again.
		has := func(d reservation.Date) bool {
			r := s.rows[nightKey{b.Room, d}]
			if r == nil {
				return false
			}
			_, ok := r.claims[b.ID]
			return ok
		}
		if err := s.take(b, t.Now, func(d reservation.Date) bool { return !has(d) }); err != nil {
			return reservation.Booking{}, err
		}
		for d := b.CheckIn; d < b.CheckOut; d++ {
			delete(s.rows[nightKey{b.Room, d}].claims, b.ID)
		}
	case reservation.EffectReleaseHold:
		for d := b.CheckIn; d < b.CheckOut; d++ {
			if r := s.rows[nightKey{b.Room, d}]; r != nil {
				if c, ok := r.claims[b.ID]; ok {
					r.avail += c.qty
					delete(r.claims, b.ID)
				}
			}
		}
	case reservation.EffectReleaseStay:
		for d := b.CheckIn; d < b.CheckOut; d++ {
			s.rows[nightKey{b.Room, d}].avail += b.Quantity
		}
	}
	b = t.Apply(b)
	s.put(b)
	return b, nil
}

// Expired implements [reservation.Store].
func (s *Store) Expired(ctx context.Context, now time.Time, limit int) ([]reservation.Booking, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []reservation.Booking
	for id := range s.reserved {
		if b := s.bookings[id]; !b.ExpiresAt.After(now) {
			out = append(out, *b)
		}
	}
	slices.SortFunc(out, func(a, b reservation.Booking) int {
		return cmp.Or(a.ExpiresAt.Compare(b.ExpiresAt), cmp.Compare(a.ID, b.ID))
	})
	return out[:min(len(out), limit)], nil
}

// Ended implements [reservation.Store].
func (s *Store) Ended(ctx context.Context, day reservation.Date, limit int) ([]reservation.Booking, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []reservation.Booking
	for id := range s.booked {
		if b := s.bookings[id]; b.CheckOut <= day {
			out = append(out, *b)
		}
	}
	slices.SortFunc(out, func(a, b reservation.Booking) int {
		return cmp.Or(cmp.Compare(a.CheckOut, b.CheckOut), cmp.Compare(a.ID, b.ID))
	})
	return out[:min(len(out), limit)], nil
}

// PruneKeys implements [reservation.Store].
func (s *Store) PruneKeys(ctx context.Context, before time.Time, limit int) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for k, rec := range s.keys {
		if n >= limit {
			break
		}
		if rec.created.Before(before) {
			delete(s.keys, k)
			n++
		}
	}
	return n, nil
}

// ByUser implements [reservation.Store].
func (s *Store) ByUser(ctx context.Context, user string, after reservation.Cursor, limit int) ([]reservation.Booking, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []reservation.Booking
	for id := range s.byUser[user] {
		b := s.bookings[id]
		if after.IsZero() || cmp.Or(b.Created.Compare(after.Created), cmp.Compare(b.ID, after.ID)) < 0 {
			out = append(out, *b)
		}
	}
	slices.SortFunc(out, func(a, b reservation.Booking) int {
		return cmp.Or(b.Created.Compare(a.Created), cmp.Compare(b.ID, a.ID))
	})
	return out[:min(len(out), limit)], nil
}

// ByRoom implements [reservation.Store] from the index of the Reserved
// and Booked bookings of each room.
func (s *Store) ByRoom(ctx context.Context, room string, from, to reservation.Date, now time.Time, limit int) ([]reservation.Booking, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []reservation.Booking
	for id := range s.live[room] {
		b := s.bookings[id]
		if b.CheckIn < to && b.CheckOut > from && (b.State == reservation.Booked || b.Held(now)) {
			out = append(out, *b)
		}
	}
	slices.SortFunc(out, func(a, b reservation.Booking) int {
		return cmp.Or(cmp.Compare(a.CheckIn, b.CheckIn), cmp.Compare(a.ID, b.ID))
	})
	return out[:min(len(out), limit)], nil
}

// Archivable implements [reservation.Store].
func (s *Store) Archivable(ctx context.Context, before time.Time, limit int) ([]reservation.Booking, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []reservation.Booking
	for id := range s.terminal {
		if b := s.bookings[id]; b.Updated.Before(before) {
			out = append(out, *b)
		}
	}
	slices.SortFunc(out, func(a, b reservation.Booking) int {
		return cmp.Or(a.Updated.Compare(b.Updated), cmp.Compare(a.ID, b.ID))
	})
	return out[:min(len(out), limit)], nil
}

// DeleteTerminal implements [reservation.Store].
func (s *Store) DeleteTerminal(ctx context.Context, refs []reservation.Ref) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, r := range refs {
		b := s.bookings[r.ID]
		if b == nil || !b.State.Terminal() || (r.Version != 0 && b.Version != r.Version) {
			continue
		}
		delete(s.bookings, b.ID)
		delete(s.terminal, b.ID)
		if u := s.byUser[b.User]; u != nil {
			delete(u, b.ID)
			if len(u) == 0 {
				delete(s.byUser, b.User)
			}
		}
		if rec := s.keys[b.Key]; rec != nil && rec.bookingID == b.ID {
			delete(s.keys, b.Key)
		}
		if b.Rebooks != "" && s.rebooks[b.Rebooks] == b.ID {
			delete(s.rebooks, b.Rebooks)
		}
		n++
	}
	return n, nil
}
