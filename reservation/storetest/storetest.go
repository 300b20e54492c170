package storetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/sysblocks/sysblocks/reservation"
)

// Config describes the store under test.
type Config struct {
	// Open returns a new handle on the backend under test. Handles from
	// one Run must share their data.
	Open func(tb testing.TB) reservation.Store

	// Goroutines is the number of competing goroutines in the race cases.
	// Zero means 200; values below 50 are raised to 50.
	Goroutines int
}

func (c *Config) defaults() {
	if c.Goroutines <= 0 {
		c.Goroutines = 200
	}
	c.Goroutines = max(c.Goroutines, 50)
}

// Unique returns prefix followed by a random suffix, for room IDs and keys
// of tests that share a backend.
func Unique(prefix string) string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return prefix + "-" + hex.EncodeToString(b)
}

// Run runs the conformance suite as subtests of t.
func Run(t *testing.T, cfg Config) {
	if cfg.Open == nil {
		t.Fatal("storetest: Config.Open is nil")
	}
	cfg.defaults()
	for _, tc := range []struct {
		name string
		fn   func(*testing.T, Config)
	}{
		{"Inventory", testInventory},
		{"SetInventoryBelowCommitted", testSetInventoryBelowCommitted},
		{"HoldAllOrNothing", testHoldAllOrNothing},
		{"HoldMissingNight", testHoldMissingNight},
		{"HoldReplay", testHoldReplay},
		{"SoldOutReplay", testSoldOutReplay},
		{"ExpiryBoundary", testExpiryBoundary},
		{"BookKeepsRooms", testBookKeepsRooms},
		{"LateBook", testLateBook},
		{"ReleaseHold", testReleaseHold},
		{"TransitionConflicts", testTransitionConflicts},
		{"BornBooked", testBornBooked},
		{"RebookedOnce", testRebookedOnce},
		{"RoundTrip", testRoundTrip},
		{"ExpiredAndEnded", testExpiredAndEnded},
		{"PruneKeys", testPruneKeys},
		{"ByUser", testByUser},
		{"ByRoom", testByRoom},
		{"Archivable", testArchivable},
		{"DeleteTerminal", testDeleteTerminal},
		{"ConcurrentDelete", testConcurrentDelete},
		{"ServiceArchiving", testServiceArchiving},
		{"Cancelled", testCancelled},
		{"ConcurrentSameKey", testConcurrentSameKey},
		{"OverbookingOneNight", testOverbookingOneNight},
		{"OverbookingOverlappingStays", testOverbookingOverlapping},
		{"OverbookingAtExpiry", testOverbookingAtExpiry},
		{"DuplicateCallbacks", testDuplicateCallbacks},
		{"ReorderedCallbacks", testReorderedCallbacks},
		{"LatePaymentRebooks", testLatePaymentRebooks},
		{"LatePaymentRefund", testLatePaymentRefund},
		{"CancelPolicy", testCancelPolicy},
		{"SweepAndComplete", testSweepAndComplete},
		{"RandomWorkloadInvariant", testRandomWorkload},
	} {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, cfg) })
	}
}

// D0 is the first night the suite books. Its clock starts at base, and
// every time it passes to a store is a whole number of microseconds, which
// every backend stores exactly.
var (
	D0   = reservation.DateOf(2030, time.January, 10)
	base = time.Date(2030, time.January, 1, 12, 0, 0, 0, time.UTC)
)

type fixture struct {
	t    *testing.T
	s    reservation.Store
	room string
	ctx  context.Context
}

func newFixture(t *testing.T, cfg Config) *fixture {
	return &fixture{t: t, s: cfg.Open(t), room: Unique("room"), ctx: context.Background()}
}

// setInv sets the inventory of the nights D0+i to counts[i].
func (f *fixture) setInv(counts ...int) {
	f.t.Helper()
	for i, c := range counts {
		d := D0.AddDays(i)
		if err := f.s.SetInventory(f.ctx, f.room, d, d+1, c, base); err != nil {
			f.t.Fatalf("SetInventory(%s, %d): %v", d, c, err)
		}
	}
}

// avail returns the available counts of nights D0 .. D0+n-1 at now (-1 for
// a night without a row).
func (f *fixture) avail(n int, now time.Time) []int {
	f.t.Helper()
	nights, err := f.s.Inventory(f.ctx, f.room, D0, D0.AddDays(n), now)
	if err != nil {
		f.t.Fatalf("Inventory: %v", err)
	}
	out := make([]int, n)
	for i := range out {
		out[i] = -1
	}
	for _, x := range nights {
		out[int(x.Date-D0)] = x.Available
	}
	return out
}

func (f *fixture) wantAvail(n int, now time.Time, want ...int) {
	f.t.Helper()
	if got := f.avail(n, now); !slices.Equal(got, want) {
		f.t.Fatalf("available at %s = %v; want %v", now.Format(time.RFC3339Nano), got, want)
	}
}

// booking returns a Reserved booking of qty rooms for nights D0+from ..
// D0+to-1, held until base+ttl.
func (f *fixture) booking(qty, from, to int, ttl time.Duration) reservation.Booking {
	return reservation.Booking{
		ID: Unique("bk"), Key: Unique("key"), User: "u1", Room: f.room,
		CheckIn: D0.AddDays(from), CheckOut: D0.AddDays(to), Quantity: qty,
		State: reservation.Reserved, ExpiresAt: base.Add(ttl), Created: base, Updated: base, Version: 1,
	}
}

func (f *fixture) hold(b reservation.Booking, now time.Time) reservation.Booking {
	f.t.Helper()
	got, replayed, err := f.s.Hold(f.ctx, b, "fp-"+b.Key, now)
	if err != nil || replayed {
		f.t.Fatalf("Hold(%s): replayed %v, err %v; want a new hold", b.ID, replayed, err)
	}
	return got
}

func (f *fixture) get(id string) reservation.Booking {
	f.t.Helper()
	b, err := f.s.Get(f.ctx, id)
	if err != nil {
		f.t.Fatalf("Get(%s): %v", id, err)
	}
	return b
}

func (f *fixture) transition(b reservation.Booking, to reservation.State, now time.Time) (reservation.Booking, error) {
	return f.s.Transition(f.ctx, b.ID, reservation.Transition{From: b.State, Version: b.Version, To: to, Now: now})
}

func wantSoldOut(t *testing.T, err error, night reservation.Date, avail int) {
	t.Helper()
	var so *reservation.SoldOutError
	if !errors.As(err, &so) || !errors.Is(err, reservation.ErrSoldOut) {
		t.Fatalf("err = %v; want a *SoldOutError matching ErrSoldOut", err)
	}
	if so.Night != night || so.Available != avail {
		t.Fatalf("sold out on %s with %d available; want %s with %d", so.Night, so.Available, night, avail)
	}
}

// Rule: SetInventory creates rows and moves available with the offer;
// Inventory returns only existing rows, in date order.
func testInventory(t *testing.T, cfg Config) {
	f := newFixture(t, cfg)
	if got := f.avail(3, base); !slices.Equal(got, []int{-1, -1, -1}) {
		t.Fatalf("a fresh room has rows %v; want none", got)
	}
	if err := f.s.SetInventory(f.ctx, f.room, D0, D0+3, 5, base); err != nil {
		t.Fatal(err)
	}
	nights, err := f.s.Inventory(f.ctx, f.room, D0-1, D0+5, base)
	if err != nil {
		t.Fatal(err)
	}
	want := []reservation.Night{{Date: D0, Initial: 5, Available: 5}, {Date: D0 + 1, Initial: 5, Available: 5}, {Date: D0 + 2, Initial: 5, Available: 5}}
	if !slices.Equal(nights, want) {
		t.Fatalf("Inventory = %v; want %v", nights, want)
	}
	f.hold(f.booking(2, 0, 2, time.Hour), base)
	if err := f.s.SetInventory(f.ctx, f.room, D0, D0+2, 7, base); err != nil {
		t.Fatal(err)
	}
	nights, _ = f.s.Inventory(f.ctx, f.room, D0, D0+3, base)
	want = []reservation.Night{{Date: D0, Initial: 7, Available: 5}, {Date: D0 + 1, Initial: 7, Available: 5}, {Date: D0 + 2, Initial: 5, Available: 5}}
	if !slices.Equal(nights, want) {
		t.Fatalf("after raising the offer to 7 with 2 held: %v; want %v", nights, want)
	}
	other := Unique("room")
	if n, _ := f.s.Inventory(f.ctx, other, D0, D0+3, base); len(n) != 0 {
		t.Fatalf("another room has rows %v; want none", n)
	}
}

// Rule: lowering the offer below the rooms committed is refused and
// changes nothing; expired holds are not committed.
func testSetInventoryBelowCommitted(t *testing.T, cfg Config) {
	f := newFixture(t, cfg)
	f.setInv(5, 5)
	f.hold(f.booking(3, 1, 2, time.Hour), base)
	err := f.s.SetInventory(f.ctx, f.room, D0, D0+2, 2, base)
	if !errors.Is(err, reservation.ErrInvalid) {
		t.Fatalf("SetInventory(2) with 3 held: err %v; want ErrInvalid", err)
	}
	nights, _ := f.s.Inventory(f.ctx, f.room, D0, D0+2, base)
	if want := []reservation.Night{{Date: D0, Initial: 5, Available: 5}, {Date: D0 + 1, Initial: 5, Available: 2}}; !slices.Equal(nights, want) {
		t.Fatalf("after the refused change: %v; want %v (nothing changed, night 0 included)", nights, want)
	}
	if err := f.s.SetInventory(f.ctx, f.room, D0, D0+2, 3, base); err != nil {
		t.Fatalf("SetInventory(3) with 3 held: %v", err)
	}
	f.wantAvail(2, base, 3, 0)
	// At the deadline the hold is not committed any more.
	if err := f.s.SetInventory(f.ctx, f.room, D0, D0+2, 0, base.Add(time.Hour)); err != nil {
		t.Fatalf("SetInventory(0) after the hold expired: %v", err)
	}
	f.wantAvail(2, base.Add(time.Hour), 0, 0)
}

// Rule: a hold takes every night or none, and names the first short night.
func testHoldAllOrNothing(t *testing.T, cfg Config) {
	f := newFixture(t, cfg)
	f.setInv(5, 1, 5, 0)
	b := f.booking(2, 0, 3, time.Hour)
	_, _, err := f.s.Hold(f.ctx, b, "fp", base)
	wantSoldOut(t, err, D0+1, 1)
	f.wantAvail(4, base, 5, 1, 5, 0)
	if _, err := f.s.Get(f.ctx, b.ID); !errors.Is(err, reservation.ErrNotFound) {
		t.Fatalf("Get of a refused hold: err %v; want ErrNotFound", err)
	}
	f.hold(f.booking(1, 0, 3, time.Hour), base)
	f.wantAvail(4, base, 4, 0, 4, 0)
	_, _, err = f.s.Hold(f.ctx, f.booking(1, 0, 4, time.Hour), "fp", base)
	wantSoldOut(t, err, D0+1, 0)
	f.wantAvail(4, base, 4, 0, 4, 0)
}

// Rule: a night without a row has no rooms.
func testHoldMissingNight(t *testing.T, cfg Config) {
	f := newFixture(t, cfg)
	f.setInv(5)
	if err := f.s.SetInventory(f.ctx, f.room, D0+2, D0+3, 5, base); err != nil {
		t.Fatal(err)
	}
	_, _, err := f.s.Hold(f.ctx, f.booking(1, 0, 3, time.Hour), "fp", base)
	wantSoldOut(t, err, D0+1, 0)
	f.wantAvail(3, base, 5, -1, 5)
}

// Rule: the same key and fingerprint replay the booking (in its current
// state) without taking rooms again; another fingerprint is a mismatch.
func testHoldReplay(t *testing.T, cfg Config) {
	f := newFixture(t, cfg)
	f.setInv(5, 5)
	b := f.booking(2, 0, 2, time.Hour)
	first := f.hold(b, base)
	retry := b
	retry.ID = Unique("bk") // a retry generates a new ID; the record wins
	got, replayed, err := f.s.Hold(f.ctx, retry, "fp-"+b.Key, base.Add(time.Second))
	if err != nil || !replayed || got.ID != first.ID {
		t.Fatalf("replay: got %s, replayed %v, err %v; want %s, true, nil", got.ID, replayed, err, first.ID)
	}
	f.wantAvail(2, base, 3, 3)
	// A handle of its own sees the record too.
	other := cfg.Open(t)
	if got, replayed, err := other.Hold(f.ctx, retry, "fp-"+b.Key, base); err != nil || !replayed || got.ID != first.ID {
		t.Fatalf("replay on another handle: got %s, replayed %v, err %v", got.ID, replayed, err)
	}
	if _, _, err := f.s.Hold(f.ctx, retry, "another", base); !errors.Is(err, reservation.ErrIdempotencyMismatch) {
		t.Fatalf("same key, other fingerprint: err %v; want ErrIdempotencyMismatch", err)
	}
	booked, err := f.transition(first, reservation.Booked, base)
	if err != nil {
		t.Fatal(err)
	}
	got, replayed, err = f.s.Hold(f.ctx, retry, "fp-"+b.Key, base)
	if err != nil || !replayed || got.State != reservation.Booked || got.Version != booked.Version {
		t.Fatalf("replay after booking: %+v, %v, %v; want the booking in state booked", got, replayed, err)
	}
	f.wantAvail(2, base, 3, 3)
}

// Rule: a sold-out outcome is recorded and replayed as it was, even after
// rooms are freed; the rooms released by the refused hold stay released.
func testSoldOutReplay(t *testing.T, cfg Config) {
	f := newFixture(t, cfg)
	f.setInv(1)
	h := f.hold(f.booking(1, 0, 1, time.Minute), base)
	b := f.booking(1, 0, 1, time.Hour)
	_, _, err := f.s.Hold(f.ctx, b, "fp", base)
	wantSoldOut(t, err, D0, 0)
	if _, err := f.transition(h, reservation.Cancelled, base); err != nil {
		t.Fatal(err)
	}
	f.wantAvail(1, base, 1)
	retry := b
	retry.ID = Unique("bk")
	_, replayed, err := f.s.Hold(f.ctx, retry, "fp", base)
	wantSoldOut(t, err, D0, 0)
	if !replayed {
		t.Fatal("sold-out replay: replayed false; want true")
	}
	f.wantAvail(1, base, 1)
	if _, _, err := f.s.Hold(f.ctx, retry, "fp2", base); !errors.Is(err, reservation.ErrIdempotencyMismatch) {
		t.Fatalf("sold-out key, other fingerprint: err %v; want ErrIdempotencyMismatch", err)
	}
}

// Rule: a hold counts until its deadline and not at it: Inventory, Hold
// and Transition agree on the instant, with no sweeper involved.
func testExpiryBoundary(t *testing.T, cfg Config) {
	f := newFixture(t, cfg)
	f.setInv(2, 2)
	deadline := base.Add(10 * time.Minute)
	old := f.hold(f.booking(2, 0, 2, 10*time.Minute), base)
	before := deadline.Add(-time.Microsecond)
	f.wantAvail(2, before, 0, 0)
	f.wantAvail(2, deadline, 2, 2)
	_, _, err := f.s.Hold(f.ctx, f.booking(1, 1, 2, time.Hour), "fp", before)
	wantSoldOut(t, err, D0+1, 0)
	// At the deadline a new hold releases the expired claim of the night
	// it needs and takes it.
	nb := f.booking(1, 1, 2, time.Hour)
	nb.ExpiresAt = deadline.Add(time.Hour)
	f.hold(nb, deadline)
	f.wantAvail(2, deadline, 2, 1)
	// The expired hold is still Reserved (no sweeper ran) but holds
	// nothing; booking it late needs night 1 again, which has 1 < 2 rooms.
	got := f.get(old.ID)
	if got.State != reservation.Reserved {
		t.Fatalf("expired hold is %s; want still reserved", got.State)
	}
	_, err = f.transition(got, reservation.Booked, deadline)
	wantSoldOut(t, err, D0+1, 1)
	f.wantAvail(2, deadline, 2, 1)
	if b := f.get(old.ID); b.Version != old.Version || b.State != reservation.Reserved {
		t.Fatalf("after the refused late booking: %s v%d; want reserved v%d", b.State, b.Version, old.Version)
	}
	// Cancelling it releases the claim that is left (night 0) once.
	if _, err := f.transition(got, reservation.Cancelled, deadline); err != nil {
		t.Fatal(err)
	}
	f.wantAvail(2, deadline, 2, 1)
	f.wantAvail(2, before, 2, 1)
}

// Rule: booking in time keeps the rooms taken, past the deadline too;
// cancelling a booked stay releases every night.
func testBookKeepsRooms(t *testing.T, cfg Config) {
	f := newFixture(t, cfg)
	f.setInv(3, 3, 3)
	h := f.hold(f.booking(2, 0, 3, time.Minute), base)
	b, err := f.s.Transition(f.ctx, h.ID, reservation.Transition{From: reservation.Reserved, Version: 1, To: reservation.Booked,
		Now: base.Add(time.Second), Reason: reservation.ReasonPaid, PaymentID: "pay-1", InvoiceID: "inv-1"})
	if err != nil {
		t.Fatal(err)
	}
	if b.State != reservation.Booked || b.Version != 2 || b.PaymentID != "pay-1" || b.InvoiceID != "inv-1" ||
		b.Reason != reservation.ReasonPaid || !b.Updated.Equal(base.Add(time.Second)) {
		t.Fatalf("booked = %+v", b)
	}
	if got := f.get(h.ID); got != b {
		t.Fatalf("Get after booking = %+v; want %+v", got, b)
	}
	f.wantAvail(3, base.Add(time.Hour), 1, 1, 1)
	if _, err := f.transition(b, reservation.Cancelled, base.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	f.wantAvail(3, base.Add(time.Hour), 3, 3, 3)
}

// Rule: a late booking converts the hold's own unreleased claims and takes
// again the nights whose claims were released, if they have rooms.
func testLateBook(t *testing.T, cfg Config) {
	f := newFixture(t, cfg)
	f.setInv(2, 2)
	h := f.hold(f.booking(1, 0, 2, time.Minute), base)
	late := base.Add(time.Hour)
	// Someone else takes night 1 after the deadline: h's claim on night 1
	// is released, not the one on night 0.
	f.hold(f.booking(1, 1, 2, 2*time.Hour), late)
	f.wantAvail(2, late, 2, 1)
	b, err := f.transition(h, reservation.Booked, late)
	if err != nil {
		t.Fatalf("late booking with rooms left: %v", err)
	}
	if b.State != reservation.Booked {
		t.Fatalf("state %s; want booked", b.State)
	}
	f.wantAvail(2, late, 1, 0)
	f.wantAvail(2, base.Add(3*time.Hour), 1, 1) // the other hold expired
}

// Rule: cancelling a hold releases its claims once.
func testReleaseHold(t *testing.T, cfg Config) {
	f := newFixture(t, cfg)
	f.setInv(4, 4)
	h := f.hold(f.booking(3, 0, 2, time.Hour), base)
	c, err := f.transition(h, reservation.Cancelled, base)
	if err != nil {
		t.Fatal(err)
	}
	f.wantAvail(2, base, 4, 4)
	if _, err := f.transition(c, reservation.Cancelled, base); err != nil {
		t.Fatalf("Cancelled -> Cancelled: %v", err)
	}
	f.wantAvail(2, base, 4, 4)
}

// Rule: a transition on a stale version or state is a conflict, an unknown
// ID not found, a pair outside the machine invalid; none changes anything.
func testTransitionConflicts(t *testing.T, cfg Config) {
	f := newFixture(t, cfg)
	f.setInv(2)
	h := f.hold(f.booking(1, 0, 1, time.Hour), base)
	for _, tr := range []reservation.Transition{
		{From: reservation.Reserved, Version: 2, To: reservation.Booked, Now: base},
		{From: reservation.Booked, Version: 1, To: reservation.Cancelled, Now: base},
	} {
		if _, err := f.s.Transition(f.ctx, h.ID, tr); !errors.Is(err, reservation.ErrConflict) {
			t.Fatalf("Transition %+v: err %v; want ErrConflict", tr, err)
		}
	}
	if _, err := f.s.Transition(f.ctx, Unique("bk"), reservation.Transition{From: reservation.Reserved, Version: 1, To: reservation.Booked, Now: base}); !errors.Is(err, reservation.ErrNotFound) {
		t.Fatalf("Transition of an unknown ID: err %v; want ErrNotFound", err)
	}
	for _, pair := range [][2]reservation.State{
		{reservation.Reserved, reservation.Completed}, {reservation.Cancelled, reservation.Booked},
		{reservation.Completed, reservation.Cancelled}, {reservation.Reserved, reservation.Reserved},
	} {
		_, err := f.s.Transition(f.ctx, h.ID, reservation.Transition{From: pair[0], Version: 1, To: pair[1], Now: base})
		if !errors.Is(err, reservation.ErrInvalid) {
			t.Fatalf("Transition %s -> %s: err %v; want ErrInvalid", pair[0], pair[1], err)
		}
	}
	if got := f.get(h.ID); got != h {
		t.Fatalf("after refused transitions: %+v; want %+v", got, h)
	}
	f.wantAvail(1, base, 1)
}

// Rule: a booking created Booked takes its rooms for good, has no claims
// and is not listed as expired.
func testBornBooked(t *testing.T, cfg Config) {
	f := newFixture(t, cfg)
	f.setInv(2, 2)
	b := f.booking(2, 0, 2, 0)
	b.State, b.PaymentID, b.InvoiceID, b.Rebooks = reservation.Booked, "pay", "inv", Unique("bk")
	f.hold(b, base)
	f.wantAvail(2, base.Add(24*time.Hour), 0, 0)
	exp, err := f.s.Expired(f.ctx, base.Add(24*time.Hour), 1000)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range exp {
		if e.ID == b.ID {
			t.Fatal("a booking created Booked is listed as expired")
		}
	}
	if _, err := f.transition(f.get(b.ID), reservation.Cancelled, base); err != nil {
		t.Fatal(err)
	}
	f.wantAvail(2, base, 2, 2)
}

// Rule: at most one booking rebooks a hold, even with different keys.
func testRebookedOnce(t *testing.T, cfg Config) {
	f := newFixture(t, cfg)
	f.setInv(5)
	held := Unique("bk")
	mk := func(payment string) reservation.Booking {
		b := f.booking(1, 0, 1, 0)
		b.State, b.PaymentID, b.Rebooks = reservation.Booked, payment, held
		return b
	}
	first := f.hold(mk("pay-1"), base)
	got, replayed, err := f.s.Hold(f.ctx, mk("pay-1"), "fp", base)
	if err != nil || !replayed || got.ID != first.ID {
		t.Fatalf("second rebooking, same payment, new key: %s, %v, %v; want %s replayed", got.ID, replayed, err, first.ID)
	}
	if _, _, err := f.s.Hold(f.ctx, mk("pay-2"), "fp", base); !errors.Is(err, reservation.ErrIdempotencyMismatch) {
		t.Fatalf("second rebooking, other payment: err %v; want ErrIdempotencyMismatch", err)
	}
	f.wantAvail(1, base, 4)
}

// Rule: every field survives the store, times to the microsecond in UTC.
func testRoundTrip(t *testing.T, cfg Config) {
	f := newFixture(t, cfg)
	f.setInv(3, 3)
	b := f.booking(2, 0, 2, 0)
	b.User = "user@example.com"
	b.ExpiresAt = time.Date(2030, 1, 1, 12, 34, 56, 123456000, time.UTC)
	b.Created = time.Date(2030, 1, 1, 12, 0, 0, 999999000, time.UTC)
	b.Updated = b.Created
	f.hold(b, base)
	got := f.get(b.ID)
	if got != b {
		t.Fatalf("Get = %+v;\nwant %+v", got, b)
	}
	// A deadline in another zone is the same instant.
	b2 := f.booking(1, 0, 1, 0)
	b2.ExpiresAt = time.Date(2030, 1, 1, 14, 0, 0, 0, time.FixedZone("X", 2*3600)) // 12:00 UTC
	f.hold(b2, base.Add(-time.Hour))
	if got := f.get(b2.ID); !got.ExpiresAt.Equal(b2.ExpiresAt) {
		t.Fatalf("deadline %v stored as %v", b2.ExpiresAt, got.ExpiresAt)
	}
	f.wantAvail(2, base.Add(-time.Microsecond), 0, 1)
	f.wantAvail(2, base, 1, 1)
}

// Rule: Expired lists Reserved holds at or past their deadline, earliest
// first, up to limit; Ended lists Booked stays by check-out.
func testExpiredAndEnded(t *testing.T, cfg Config) {
	f := newFixture(t, cfg)
	era := time.Date(2003, 3, 3, 0, 0, 0, 0, time.UTC) // no other case uses 2003
	if err := f.s.SetInventory(f.ctx, f.room, D0, D0+5, 10, era); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for i, ttl := range []time.Duration{3, 1, 2, 5, 4} {
		b := f.booking(1, i, i+1, 0)
		b.ExpiresAt = era.Add(ttl * time.Minute)
		f.hold(b, era)
		ids = append(ids, b.ID)
	}
	list := func(now time.Time, limit int) []string {
		exp, err := f.s.Expired(f.ctx, now, limit)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, b := range exp {
			if b.State != reservation.Reserved {
				t.Fatalf("Expired listed a %s booking", b.State)
			}
			out = append(out, b.ID)
		}
		return out
	}
	if got, want := list(era.Add(3*time.Minute), 10), []string{ids[1], ids[2], ids[0]}; !slices.Equal(got, want) {
		t.Fatalf("Expired(+3m) = %v; want %v (deadline order, the deadline itself included)", got, want)
	}
	if got, want := list(era.Add(time.Hour), 2), []string{ids[1], ids[2]}; !slices.Equal(got, want) {
		t.Fatalf("Expired(+1h, limit 2) = %v; want %v", got, want)
	}
	b1 := f.get(ids[1])
	if _, err := f.transition(b1, reservation.Booked, era); err != nil {
		t.Fatal(err)
	}
	b3 := f.get(ids[3])
	if _, err := f.transition(b3, reservation.Booked, era); err != nil {
		t.Fatal(err)
	}
	if got, want := list(era.Add(time.Hour), 10), []string{ids[2], ids[0], ids[4]}; !slices.Equal(got, want) {
		t.Fatalf("Expired after booking two = %v; want %v", got, want)
	}
	ended := func(d reservation.Date) []string {
		list, err := f.s.Ended(f.ctx, d, 100000)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, b := range list {
			if b.Room == f.room {
				out = append(out, b.ID)
			}
		}
		return out
	}
	if got := ended(D0 + 1); len(got) != 0 {
		t.Fatalf("Ended(%s) = %v; want none (booking 1 checks out on %s)", D0+1, got, D0+2)
	}
	if got, want := ended(D0+2), []string{ids[1]}; !slices.Equal(got, want) {
		t.Fatalf("Ended(%s) = %v; want %v", D0+2, got, want)
	}
	if got, want := ended(D0+9), []string{ids[1], ids[3]}; !slices.Equal(got, want) {
		t.Fatalf("Ended(%s) = %v; want %v", D0+9, got, want)
	}
}

// Rule: PruneKeys forgets records older than the cutoff, at most limit per
// call; a forgotten key is free again, a kept one is not.
func testPruneKeys(t *testing.T, cfg Config) {
	f := newFixture(t, cfg)
	old := time.Date(2001, 1, 1, 0, 0, 0, 0, time.UTC) // no other case uses 2001
	if err := f.s.SetInventory(f.ctx, f.room, D0, D0+1, 100, old); err != nil {
		t.Fatal(err)
	}
	var keys []reservation.Booking
	for i := range 4 {
		b := f.booking(1, 0, 1, 0)
		b.ExpiresAt = time.Date(2040, 1, 1, 0, 0, 0, 0, time.UTC) // listed by no other case
		now := old.Add(time.Duration(i) * time.Hour)              // records at 0h, 1h, 2h, 3h
		f.hold(b, now)
		keys = append(keys, b)
	}
	n, err := f.s.PruneKeys(f.ctx, old.Add(150*time.Minute), 2)
	if err != nil || n != 2 {
		t.Fatalf("PruneKeys(limit 2) = %d, %v; want 2", n, err)
	}
	n, err = f.s.PruneKeys(f.ctx, old.Add(150*time.Minute), 2)
	if err != nil || n != 1 {
		t.Fatalf("second PruneKeys = %d, %v; want 1", n, err)
	}
	for i, b := range keys[:3] {
		b.ID = Unique("bk")
		if _, replayed, err := f.s.Hold(f.ctx, b, "other", old); err != nil || replayed {
			t.Fatalf("key %d after pruning: replayed %v, err %v; want a new booking", i, replayed, err)
		}
	}
	if _, _, err := f.s.Hold(f.ctx, keys[3], "other", old); !errors.Is(err, reservation.ErrIdempotencyMismatch) {
		t.Fatalf("kept key: err %v; want ErrIdempotencyMismatch", err)
	}
}

// Rule: a cancelled context ends every call with an error and changes
// nothing.
func testCancelled(t *testing.T, cfg Config) {
	f := newFixture(t, cfg)
	f.setInv(3)
	h := f.hold(f.booking(1, 0, 1, time.Hour), base)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, _, err := f.s.Hold(ctx, f.booking(1, 0, 1, time.Hour), "fp", base); err == nil {
		t.Fatal("Hold on a cancelled context succeeded")
	}
	if _, err := f.s.Transition(ctx, h.ID, reservation.Transition{From: reservation.Reserved, Version: 1, To: reservation.Cancelled, Now: base}); err == nil {
		t.Fatal("Transition on a cancelled context succeeded")
	}
	if err := f.s.SetInventory(ctx, f.room, D0, D0+1, 9, base); err == nil {
		t.Fatal("SetInventory on a cancelled context succeeded")
	}
	if _, err := f.s.Get(ctx, h.ID); err == nil {
		t.Fatal("Get on a cancelled context succeeded")
	}
	f.wantAvail(1, base, 2)
	if got := f.get(h.ID); got != h {
		t.Fatalf("booking changed: %+v", got)
	}
}
