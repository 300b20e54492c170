package storetest

import (
	"cmp"
	"errors"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sysblocks/sysblocks/reservation"
)

// Rule: ByUser lists one user's bookings in every state, newest Created
// first, ties by ID descending, strictly after the cursor; pages of any
// size concatenate to the whole list.
func testByUser(t *testing.T, cfg Config) {
	f := newFixture(t, cfg)
	f.setInv(100)
	user, other := Unique("user"), Unique("user")
	var want []reservation.Booking
	for i := range 9 {
		b := f.booking(1, 0, 1, time.Hour)
		b.User = user
		b.Created = base.Add(time.Duration(i/3) * time.Microsecond) // three per instant: ties on Created
		b.Updated = b.Created
		want = append(want, f.hold(b, base))
		o := f.booking(1, 0, 1, time.Hour)
		o.User = other
		f.hold(o, base)
	}
	// States do not matter: book one, cancel another.
	if b, err := f.transition(want[1], reservation.Booked, base); err != nil {
		t.Fatal(err)
	} else {
		want[1] = b
	}
	if b, err := f.transition(want[2], reservation.Cancelled, base); err != nil {
		t.Fatal(err)
	} else {
		want[2] = b
	}
	slices.SortFunc(want, func(a, b reservation.Booking) int {
		return cmp.Or(b.Created.Compare(a.Created), cmp.Compare(b.ID, a.ID))
	})
	for size := 1; size <= 10; size++ {
		var got []reservation.Booking
		var after reservation.Cursor
		for page := 0; ; page++ {
			if page > len(want)+1 {
				t.Fatalf("page size %d: no end after %d pages", size, page)
			}
			list, err := f.s.ByUser(f.ctx, user, after, size)
			if err != nil {
				t.Fatal(err)
			}
			if len(list) > size {
				t.Fatalf("ByUser(limit %d) returned %d bookings", size, len(list))
			}
			got = append(got, list...)
			if len(list) < size {
				break
			}
			last := list[len(list)-1]
			after = reservation.Cursor{Created: last.Created, ID: last.ID}
		}
		if !slices.Equal(ids(got), ids(want)) {
			t.Fatalf("page size %d: ByUser pages = %v;\nwant %v", size, ids(got), ids(want))
		}
		for i := range got {
			if got[i] != want[i] {
				t.Fatalf("ByUser returned %+v;\nwant %+v", got[i], want[i])
			}
		}
	}
	list, err := f.s.ByUser(f.ctx, Unique("nobody"), reservation.Cursor{}, 10)
	if err != nil || len(list) != 0 {
		t.Fatalf("ByUser(unknown user) = %v, %v; want none", ids(list), err)
	}
}

func ids(bs []reservation.Booking) []string {
	out := make([]string, len(bs))
	for i, b := range bs {
		out[i] = b.ID
	}
	return out
}

// archiveEra is the clock of the archiving cases: no other case uses
// 2001, and Archivable lists the oldest first.
var archiveEra = time.Date(2001, 1, 1, 0, 0, 0, 0, time.UTC)

// terminalSet creates, in f's room at archiveEra: a live hold, a booked
// stay, a cancelled hold, a completed stay, and a cancelled hold changed
// once more (version 3), each updated one minute after the previous.
func terminalSet(t *testing.T, f *fixture) (held, booked, cancelled, completed, changed reservation.Booking) {
	t.Helper()
	if err := f.s.SetInventory(f.ctx, f.room, D0, D0+1, 10, archiveEra); err != nil {
		t.Fatal(err)
	}
	at := func(i int) time.Time { return archiveEra.Add(time.Duration(i) * time.Minute) }
	user := Unique("user")
	mk := func() reservation.Booking {
		b := f.booking(1, 0, 1, 0)
		b.User = user
		b.Created, b.Updated, b.ExpiresAt = archiveEra, archiveEra, archiveEra.Add(time.Hour)
		return f.hold(b, archiveEra)
	}
	step := func(b reservation.Booking, to reservation.State, i int, refund bool) reservation.Booking {
		t.Helper()
		b, err := f.s.Transition(f.ctx, b.ID, reservation.Transition{From: b.State, Version: b.Version, To: to, Now: at(i), RefundRequired: refund})
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	held = mk()
	booked = step(mk(), reservation.Booked, 1, false)
	cancelled = step(mk(), reservation.Cancelled, 2, false)
	completed = step(step(mk(), reservation.Booked, 3, false), reservation.Completed, 4, false)
	changed = step(step(mk(), reservation.Cancelled, 5, false), reservation.Cancelled, 6, true)
	return
}

// Rule: Archivable lists terminal bookings updated before the cutoff,
// oldest Updated first, up to limit; never a Reserved or Booked one.
func testArchivable(t *testing.T, cfg Config) {
	f := newFixture(t, cfg)
	_, _, cancelled, completed, changed := terminalSet(t, f)
	list := func(before time.Time, limit int) []string {
		t.Helper()
		got, err := f.s.Archivable(f.ctx, before, limit)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for i, b := range got {
			if !b.State.Terminal() || !b.Updated.Before(before) {
				t.Fatalf("Archivable(%v) listed a %s booking updated %v", before, b.State, b.Updated)
			}
			if i > 0 && got[i-1].Updated.After(b.Updated) {
				t.Fatalf("Archivable is not in Updated order: %v after %v", b.Updated, got[i-1].Updated)
			}
			if b.Room == f.room {
				out = append(out, b.ID)
			}
		}
		return out
	}
	if got, want := list(archiveEra.Add(time.Hour), 100), []string{cancelled.ID, completed.ID, changed.ID}; !slices.Equal(got, want) {
		t.Fatalf("Archivable(+1h) = %v; want %v", got, want)
	}
	if got, want := list(archiveEra.Add(4*time.Minute), 100), []string{cancelled.ID}; !slices.Equal(got, want) {
		t.Fatalf("Archivable(+4m) = %v; want %v (updated strictly before the cutoff)", got, want)
	}
	if got, want := list(archiveEra.Add(time.Hour), 2), []string{cancelled.ID, completed.ID}; !slices.Equal(got, want) {
		t.Fatalf("Archivable(+1h, limit 2) = %v; want %v", got, want)
	}
}

// Rule: DeleteTerminal deletes terminal bookings at the wanted version
// with their keys, leaves live ones and stale versions alone, is
// idempotent, and changes no capacity.
func testDeleteTerminal(t *testing.T, cfg Config) {
	f := newFixture(t, cfg)
	held, booked, cancelled, completed, changed := terminalSet(t, f)
	now := archiveEra.Add(time.Minute) // the hold still holds
	f.wantAvail(1, now, 7)             // the hold, the booked and the completed stay
	refs := []reservation.Ref{{ID: held.ID}, {ID: booked.ID}, {ID: cancelled.ID}, {ID: completed.ID, Version: completed.Version},
		{ID: changed.ID, Version: changed.Version - 1}, {ID: Unique("bk")}}
	if n, err := f.s.DeleteTerminal(f.ctx, refs); err != nil || n != 2 {
		t.Fatalf("DeleteTerminal = %d, %v; want 2 (the cancelled and the completed booking)", n, err)
	}
	for _, b := range []reservation.Booking{held, booked, changed} {
		if got := f.get(b.ID); got != b {
			t.Fatalf("after DeleteTerminal, %s = %+v; want unchanged %+v", b.ID, got, b)
		}
	}
	for _, b := range []reservation.Booking{cancelled, completed} {
		if _, err := f.s.Get(f.ctx, b.ID); !errors.Is(err, reservation.ErrNotFound) {
			t.Fatalf("Get(deleted %s) err = %v; want ErrNotFound", b.State, err)
		}
	}
	f.wantAvail(1, now, 7)
	if n, err := f.s.DeleteTerminal(f.ctx, refs); err != nil || n != 0 {
		t.Fatalf("DeleteTerminal again = %d, %v; want 0", n, err)
	}
	if n, err := f.s.DeleteTerminal(f.ctx, []reservation.Ref{{ID: changed.ID, Version: changed.Version}}); err != nil || n != 1 {
		t.Fatalf("DeleteTerminal(current version) = %d, %v; want 1", n, err)
	}
	list, err := f.s.ByUser(f.ctx, held.User, reservation.Cursor{}, 1000)
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range list {
		if b.ID == cancelled.ID || b.ID == completed.ID || b.ID == changed.ID {
			t.Fatalf("ByUser lists deleted booking %s", b.ID)
		}
	}
	// The key of a deleted booking is free again.
	again := cancelled
	again.ID, again.State, again.Reason, again.Version, again.Updated = Unique("bk"), reservation.Reserved, "", 1, archiveEra
	got, replayed, err := f.s.Hold(f.ctx, again, "fp-"+again.Key, now)
	if err != nil || replayed || got.ID != again.ID {
		t.Fatalf("Hold(key of a deleted booking) = %s, replayed %v, %v; want a new booking %s", got.ID, replayed, err, again.ID)
	}
	f.wantAvail(1, now, 6)

	// A completed rebooking deleted: its hold may be rebooked again.
	hold := Unique("bk")
	rb := f.booking(1, 0, 1, 0)
	rb.State, rb.PaymentID, rb.Rebooks, rb.Created, rb.Updated = reservation.Booked, "pay-1", hold, archiveEra, archiveEra
	rb = f.hold(rb, archiveEra)
	if rb, err = f.s.Transition(f.ctx, rb.ID, reservation.Transition{From: reservation.Booked, Version: rb.Version, To: reservation.Completed, Now: now}); err != nil {
		t.Fatal(err)
	}
	if n, err := f.s.DeleteTerminal(f.ctx, []reservation.Ref{{ID: rb.ID}}); err != nil || n != 1 {
		t.Fatalf("DeleteTerminal(completed rebooking) = %d, %v; want 1", n, err)
	}
	rb2 := f.booking(1, 0, 1, 0)
	rb2.State, rb2.PaymentID, rb2.Rebooks = reservation.Booked, "pay-2", hold
	if got, replayed, err := f.s.Hold(f.ctx, rb2, "fp", now); err != nil || replayed || got.ID != rb2.ID {
		t.Fatalf("rebooking after the first was deleted = %s, replayed %v, %v; want new %s", got.ID, replayed, err, rb2.ID)
	}
}

// Rule: the Service validates listing and purge arguments, and Purge
// never deletes a live booking.
func testServiceArchiving(t *testing.T, cfg Config) {
	f := newFixture(t, cfg)
	held, booked, cancelled, _, _ := terminalSet(t, f)
	svc, err := reservation.New(f.s, &reservation.Options{Now: func() time.Time { return archiveEra.Add(time.Hour) }})
	if err != nil {
		t.Fatal(err)
	}
	for name, err := range map[string]error{
		"UserBookings(limit 0)":   func() error { _, err := svc.UserBookings(f.ctx, "u1", reservation.Cursor{}, 0); return err }(),
		"UserBookings(user \"\")": func() error { _, err := svc.UserBookings(f.ctx, "", reservation.Cursor{}, 1); return err }(),
		"Archivable(limit 1001)":  func() error { _, err := svc.Archivable(f.ctx, archiveEra, 1001); return err }(),
		"Purge(bad id)":           func() error { _, err := svc.Purge(f.ctx, []reservation.Ref{{ID: "a b"}}); return err }(),
	} {
		if !errors.Is(err, reservation.ErrInvalid) {
			t.Errorf("%s err = %v; want ErrInvalid", name, err)
		}
	}
	n, err := svc.Purge(f.ctx, []reservation.Ref{{ID: held.ID}, {ID: booked.ID}, {ID: cancelled.ID, Version: cancelled.Version}})
	if err != nil || n != 1 {
		t.Fatalf("Purge = %d, %v; want 1", n, err)
	}
	if svc.Stats().Purged != 1 {
		t.Fatalf("Stats().Purged = %d; want 1", svc.Stats().Purged)
	}
	page, err := svc.UserBookings(f.ctx, held.User, reservation.Cursor{}, 1000)
	if err != nil {
		t.Fatal(err)
	}
	var live int
	for _, b := range page {
		if b.ID == held.ID || b.ID == booked.ID {
			live++
		}
		if b.ID == cancelled.ID {
			t.Fatal("UserBookings lists a purged booking")
		}
	}
	if live != 2 {
		t.Fatalf("UserBookings lists %d of the 2 live bookings", live)
	}
}

// Rule: concurrent DeleteTerminal calls and transitions never delete a
// live booking, never count a deletion twice, and leave capacity exact.
func testConcurrentDelete(t *testing.T, cfg Config) {
	f := newFixture(t, cfg)
	const n = 40
	if err := f.s.SetInventory(f.ctx, f.room, D0, D0+1, n, archiveEra); err != nil {
		t.Fatal(err)
	}
	var all []reservation.Booking
	for range n {
		b := f.booking(1, 0, 1, 0)
		b.Created, b.Updated, b.ExpiresAt = archiveEra, archiveEra, archiveEra.Add(time.Hour)
		b = f.hold(b, archiveEra)
		b, err := f.s.Transition(f.ctx, b.ID, reservation.Transition{From: reservation.Reserved, Version: 1, To: reservation.Booked, Now: archiveEra})
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, b)
	}
	refs := make([]reservation.Ref, n)
	for i, b := range all {
		refs[i] = reservation.Ref{ID: b.ID}
	}
	var (
		wg      sync.WaitGroup
		deleted atomic.Int64
		errs    = make(chan error, cfg.Goroutines)
	)
	for g := range cfg.Goroutines {
		s := cfg.Open(t)
		wg.Go(func() {
			if g%2 == 0 { // cancel one of the first n/2 stays
				b := all[(g/2)%(n/2)]
				_, err := s.Transition(f.ctx, b.ID, reservation.Transition{From: reservation.Booked, Version: b.Version, To: reservation.Cancelled, Now: archiveEra})
				if err != nil && !errors.Is(err, reservation.ErrConflict) && !errors.Is(err, reservation.ErrNotFound) {
					errs <- err
				}
				return
			}
			for attempt := 0; ; attempt++ {
				k, err := s.DeleteTerminal(f.ctx, refs)
				if errors.Is(err, reservation.ErrConflict) && attempt < 20 {
					continue
				}
				if err != nil {
					errs <- err
					return
				}
				deleted.Add(int64(k))
				return
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	left, cancelled := 0, 0
	for _, b := range all {
		got, err := f.s.Get(f.ctx, b.ID)
		switch {
		case errors.Is(err, reservation.ErrNotFound):
		case err != nil:
			t.Fatal(err)
		case got.State == reservation.Booked:
			left++
		case got.State == reservation.Cancelled:
			cancelled++
		default:
			t.Fatalf("booking %s is %s", got.ID, got.State)
		}
	}
	// The Goroutines/2 >= 25 cancellers cancel each of the first n/2
	// stays; the others stay Booked and are never deleted.
	if want := n / 2; left != want {
		t.Fatalf("%d stays still Booked; want %d", left, want)
	}
	if int(deleted.Load())+cancelled+left != n {
		t.Fatalf("deleted %d (as counted by DeleteTerminal) + cancelled %d + booked %d = %d; want %d bookings",
			deleted.Load(), cancelled, left, int(deleted.Load())+cancelled+left, n)
	}
	// Capacity: the Booked stays hold their rooms, nothing else does.
	f.wantAvail(1, archiveEra, n-left)
}
