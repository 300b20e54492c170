package storetest

import (
	"context"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/sysblocks/sysblocks/reservation"
)

// Clock is a settable clock for Options.Now, safe for concurrent use.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock returns a Clock reading t.
func NewClock(t time.Time) *Clock { return &Clock{t: t} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Set sets the clock to t.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

// Add moves the clock by d.
func (c *Clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// Recorder is a [reservation.Emitter] that keeps every event. It is safe
// for concurrent use.
type Recorder struct {
	mu     sync.Mutex
	events []reservation.Event
}

// Emit records e.
func (r *Recorder) Emit(_ context.Context, e reservation.Event) error {
	r.mu.Lock()
	r.events = append(r.events, e)
	r.mu.Unlock()
	return nil
}

// Events returns the events of booking id in order ("" for all).
func (r *Recorder) Events(id string) []reservation.EventType {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []reservation.EventType
	for _, e := range r.events {
		if id == "" || e.Booking.ID == id {
			out = append(out, e.Type)
		}
	}
	return out
}

// Count returns how many events of type typ were emitted.
func (r *Recorder) Count(typ reservation.EventType) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, e := range r.events {
		if e.Type == typ {
			n++
		}
	}
	return n
}

type svcFixture struct {
	t     *testing.T
	ctx   context.Context
	store reservation.Store
	svc   *reservation.Service
	clock *Clock
	rec   *Recorder
	room  string
	n     int                    // nights with inventory, from D0
	svcs  []*reservation.Service // f.svc and the Services of handles
}

// newSvc returns a Service on a new handle with a fake clock at base, and
// a room with counts[i] rooms on night D0+i.
func newSvc(t *testing.T, cfg Config, opts *reservation.Options, counts ...int) *svcFixture {
	f := &svcFixture{t: t, ctx: context.Background(), store: cfg.Open(t), clock: NewClock(base), rec: &Recorder{},
		room: Unique("room"), n: len(counts)}
	var o reservation.Options
	if opts != nil {
		o = *opts
	}
	o.Now, o.Emitter = f.clock.Now, f.rec
	svc, err := reservation.New(f.store, &o)
	if err != nil {
		t.Fatal(err)
	}
	f.svc = svc
	for i, c := range counts {
		d := D0.AddDays(i)
		if err := svc.SetInventory(f.ctx, f.room, d, d+1, c); err != nil {
			t.Fatal(err)
		}
	}
	return f
}

func (f *svcFixture) req(qty, from, to int) reservation.HoldRequest {
	return reservation.HoldRequest{Key: Unique("key"), User: "u1", Room: f.room, Quantity: qty,
		CheckIn: D0.AddDays(from), CheckOut: D0.AddDays(to), TTL: 10 * time.Minute}
}

func (f *svcFixture) hold(qty, from, to int) reservation.Booking {
	f.t.Helper()
	b, err := f.svc.Hold(f.ctx, f.req(qty, from, to))
	if err != nil {
		f.t.Fatalf("Hold: %v", err)
	}
	return b
}

func (f *svcFixture) avail() []int {
	f.t.Helper()
	nights, err := f.svc.Availability(f.ctx, f.room, D0, D0.AddDays(f.n))
	if err != nil {
		f.t.Fatal(err)
	}
	out := make([]int, f.n)
	for _, x := range nights {
		out[int(x.Date-D0)] = x.Available
	}
	return out
}

func (f *svcFixture) wantAvail(want ...int) {
	f.t.Helper()
	if got := f.avail(); !slices.Equal(got, want) {
		f.t.Fatalf("available = %v; want %v", got, want)
	}
}

func (f *svcFixture) get(id string) reservation.Booking {
	f.t.Helper()
	b, err := f.svc.Get(f.ctx, id)
	if err != nil {
		f.t.Fatal(err)
	}
	return b
}

func (f *svcFixture) wantEvents(id string, want ...reservation.EventType) {
	f.t.Helper()
	if got := f.rec.Events(id); !slices.Equal(got, want) {
		f.t.Fatalf("events of %s = %v; want %v", id, got, want)
	}
}

// handles returns n Services on n handles of the backend, sharing f's
// clock and recorder, as n servers would be.
func (f *svcFixture) handles(cfg Config, n int) []*reservation.Service {
	if len(f.svcs) == 0 {
		f.svcs = []*reservation.Service{f.svc}
	}
	for len(f.svcs) < n {
		svc, err := reservation.New(cfg.Open(f.t), &reservation.Options{Now: f.clock.Now, Emitter: f.rec})
		if err != nil {
			f.t.Fatal(err)
		}
		f.svcs = append(f.svcs, svc)
	}
	return f.svcs[:n]
}

// wantNoRetries checks that no Service retried an operation: in a race of
// holds with distinct keys, a retry means the store reported a deadlock or
// a lock wait timeout.
func (f *svcFixture) wantNoRetries() {
	f.t.Helper()
	var n uint64
	for _, svc := range f.svcs {
		n += svc.Stats().Retries
	}
	if n != 0 {
		f.t.Fatalf("%d operations retried after ErrConflict; want none (a deadlock or lock wait timeout)", n)
	}
}

// race runs n goroutines released together, each calling fn(i, svc) with
// one of 4 Services, and returns the errors by goroutine.
func (f *svcFixture) race(cfg Config, n int, fn func(i int, svc *reservation.Service) error) []error {
	svcs := f.handles(cfg, 4)
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			errs[i] = fn(i, svcs[i%len(svcs)])
		})
	}
	close(start)
	wg.Wait()
	return errs
}

// tally counts nil errors and sold-out errors and fails on any other.
func tally(t *testing.T, errs []error) (ok, soldOut int) {
	t.Helper()
	for i, err := range errs {
		switch {
		case err == nil:
			ok++
		case errors.Is(err, reservation.ErrSoldOut):
			soldOut++
		default:
			t.Fatalf("goroutine %d: %v; want success or ErrSoldOut", i, err)
		}
	}
	return ok, soldOut
}

// Rule: N goroutines holding the last 10 rooms of a night: exactly 10 win.
func testOverbookingOneNight(t *testing.T, cfg Config) {
	f := newSvc(t, cfg, nil, 50)
	f.hold(40, 0, 1) // 40 of 50 gone: the last 10 are contended
	var mu sync.Mutex
	won := map[string]bool{}
	errs := f.race(cfg, cfg.Goroutines, func(i int, svc *reservation.Service) error {
		b, err := svc.Hold(f.ctx, f.req(1, 0, 1))
		if err == nil {
			mu.Lock()
			won[b.ID] = true
			mu.Unlock()
		}
		return err
	})
	ok, soldOut := tally(t, errs)
	if ok != 10 || len(won) != 10 || soldOut != cfg.Goroutines-10 {
		t.Fatalf("%d goroutines for the last 10 rooms: %d holds (%d distinct), %d sold out; want exactly 10",
			cfg.Goroutines, ok, len(won), soldOut)
	}
	f.wantAvail(0)
	f.wantNoRetries()
}

// Rule: overlapping multi-night stays competing for the last 10 rooms of
// the nights they share: exactly 10 win, and the nights they do not share
// lose exactly the rooms of their winners.
func testOverbookingOverlapping(t *testing.T, cfg Config) {
	f := newSvc(t, cfg, nil, 10, 10, 10, 10)
	var mu sync.Mutex
	early := 0
	errs := f.race(cfg, cfg.Goroutines, func(i int, svc *reservation.Service) error {
		from := i % 2 // nights 0-2 or 1-3: nights 1 and 2 shared
		_, err := svc.Hold(f.ctx, f.req(1, from, from+3))
		if err == nil && from == 0 {
			mu.Lock()
			early++
			mu.Unlock()
		}
		return err
	})
	ok, _ := tally(t, errs)
	if ok != 10 {
		t.Fatalf("%d overlapping stays for 10 rooms: %d holds; want exactly 10", cfg.Goroutines, ok)
	}
	f.wantAvail(10-early, 0, 0, 10-(ok-early))
	f.wantNoRetries()
}

// Rule: at the deadline of 10 holds on the last 10 rooms, N goroutines and
// a sweeper race for them: exactly 10 win, and the sweeper releases
// nothing twice.
func testOverbookingAtExpiry(t *testing.T, cfg Config) {
	f := newSvc(t, cfg, nil, 10, 10)
	var old []reservation.Booking
	for range 10 {
		old = append(old, f.hold(1, 0, 2))
	}
	f.wantAvail(0, 0)
	f.clock.Add(10 * time.Minute) // every old hold is at its deadline
	f.wantAvail(10, 10)
	errs := f.race(cfg, cfg.Goroutines, func(i int, svc *reservation.Service) error {
		if i%20 == 0 {
			_, err := svc.Sweep(f.ctx)
			return err
		}
		_, err := svc.Hold(f.ctx, f.req(1, i%2, i%2+1))
		return err
	})
	ok, _ := tally(t, errs)
	sweeps := (cfg.Goroutines + 19) / 20
	if ok-sweeps != 20 {
		t.Fatalf("%d holds at the deadline of 10 holds on 2 nights of 10 rooms; want exactly 20", ok-sweeps)
	}
	f.wantNoRetries()
	if _, err := f.svc.Sweep(f.ctx); err != nil {
		t.Fatal(err)
	}
	for _, b := range old {
		if got := f.get(b.ID); got.State != reservation.Cancelled || got.Reason != reservation.ReasonExpired {
			t.Fatalf("old hold %s is %s (%s); want cancelled (expired)", b.ID, got.State, got.Reason)
		}
	}
	f.wantAvail(0, 0)
	f.clock.Add(10 * time.Minute) // the new holds expire too
	f.wantAvail(10, 10)
}

// Rule: one key sent by many goroutines at once does the work once, and
// every caller gets the same booking.
func testConcurrentSameKey(t *testing.T, cfg Config) {
	f := newSvc(t, cfg, nil, 100, 100)
	req := f.req(3, 0, 2)
	ids := make([]string, 50)
	errs := f.race(cfg, len(ids), func(i int, svc *reservation.Service) error {
		b, err := svc.Hold(f.ctx, req)
		ids[i] = b.ID
		return err
	})
	for i, err := range errs {
		if err != nil {
			t.Fatalf("goroutine %d: %v", i, err)
		}
		if ids[i] != ids[0] {
			t.Fatalf("goroutine %d got booking %s, goroutine 0 %s; want one booking", i, ids[i], ids[0])
		}
	}
	f.wantAvail(97, 97)
	if n := f.rec.Count(reservation.EventHeld); n != 1 {
		t.Fatalf("%d held events; want 1", n)
	}
	other := req
	other.Quantity = 4
	if _, err := f.svc.Hold(f.ctx, other); !errors.Is(err, reservation.ErrIdempotencyMismatch) {
		t.Fatalf("same key, other quantity: %v; want ErrIdempotencyMismatch", err)
	}
}

// Rule: a payment callback delivered many times, concurrently, books once,
// issues one invoice and emits one event; another payment for the same
// hold is refused and changes nothing.
func testDuplicateCallbacks(t *testing.T, cfg Config) {
	f := newSvc(t, cfg, nil, 5)
	h := f.hold(2, 0, 1)
	out := make([]reservation.Booking, 20)
	errs := f.race(cfg, len(out), func(i int, svc *reservation.Service) error {
		var err error
		out[i], err = svc.Confirm(f.ctx, h.ID, reservation.Payment{ID: "pay-1"})
		return err
	})
	for i, err := range errs {
		if err != nil {
			t.Fatalf("callback %d: %v", i, err)
		}
		if out[i].State != reservation.Booked || out[i].InvoiceID == "" || out[i].InvoiceID != out[0].InvoiceID {
			t.Fatalf("callback %d: %s invoice %q; callback 0: invoice %q; want one booking, one invoice",
				i, out[i].State, out[i].InvoiceID, out[0].InvoiceID)
		}
	}
	f.wantEvents(h.ID, reservation.EventHeld, reservation.EventBooked)
	f.wantAvail(3)
	got, err := f.svc.Confirm(f.ctx, h.ID, reservation.Payment{ID: "pay-2"})
	if !errors.Is(err, reservation.ErrDuplicatePayment) || got.PaymentID != "pay-1" {
		t.Fatalf("second payment: %+v, %v; want the booking with pay-1 and ErrDuplicatePayment", got, err)
	}
	if got := f.get(h.ID); got.Version != out[0].Version {
		t.Fatalf("version moved from %d to %d", out[0].Version, got.Version)
	}
	f.wantAvail(3)
}

// Rule: callbacks out of order: a failure after a success changes nothing;
// a success after a failure is a late payment; a success after the guest
// cancelled is refunded.
func testReorderedCallbacks(t *testing.T, cfg Config) {
	f := newSvc(t, cfg, nil, 2)
	pay := reservation.Payment{ID: "pay-a"}

	// success, then failure
	a := f.hold(1, 0, 1)
	if _, err := f.svc.Confirm(f.ctx, a.ID, pay); err != nil {
		t.Fatal(err)
	}
	got, err := f.svc.Fail(f.ctx, a.ID)
	var se *reservation.StateError
	if !errors.As(err, &se) || !errors.Is(err, reservation.ErrState) || got.State != reservation.Booked {
		t.Fatalf("Fail after Confirm: %s, %v; want booked and a *StateError", got.State, err)
	}
	f.wantAvail(1)

	// failure, then success, with the room still free: rebooked
	b := f.hold(1, 0, 1)
	if got, err := f.svc.Fail(f.ctx, b.ID); err != nil || got.State != reservation.Cancelled || got.Reason != reservation.ReasonPaymentFailed {
		t.Fatalf("Fail: %+v, %v", got, err)
	}
	f.wantAvail(1)
	if got, err := f.svc.Fail(f.ctx, b.ID); err != nil || got.State != reservation.Cancelled {
		t.Fatalf("duplicate Fail: %s, %v; want cancelled, nil", got.State, err)
	}
	nb, err := f.svc.Confirm(f.ctx, b.ID, reservation.Payment{ID: "pay-b"})
	if err != nil || nb.State != reservation.Booked || nb.Rebooks != b.ID || nb.ID == b.ID || nb.InvoiceID == "" {
		t.Fatalf("success after failure: %+v, %v; want a new booked booking rebooking %s", nb, err, b.ID)
	}
	if old := f.get(b.ID); old.State != reservation.Cancelled {
		t.Fatalf("the failed hold is %s; want it to stay cancelled", old.State)
	}
	f.wantAvail(0)
	again, err := f.svc.Confirm(f.ctx, b.ID, reservation.Payment{ID: "pay-b"})
	if err != nil || again.ID != nb.ID || again.InvoiceID != nb.InvoiceID {
		t.Fatalf("duplicate late callback: %s, %v; want %s", again.ID, err, nb.ID)
	}
	if _, err := f.svc.Confirm(f.ctx, b.ID, reservation.Payment{ID: "pay-z"}); !errors.Is(err, reservation.ErrDuplicatePayment) {
		t.Fatalf("third payment for a rebooked hold: %v; want ErrDuplicatePayment", err)
	}
	f.wantAvail(0)

	// failure, then success, with no room left: refund
	if err := f.svc.SetInventory(f.ctx, f.room, D0, D0+1, 3); err != nil {
		t.Fatal(err)
	}
	c := f.hold(1, 0, 1)
	if _, err := f.svc.Fail(f.ctx, c.ID); err != nil {
		t.Fatal(err)
	}
	f.hold(1, 0, 1) // someone takes the room back
	got, err = f.svc.Confirm(f.ctx, c.ID, reservation.Payment{ID: "pay-c"})
	if !errors.Is(err, reservation.ErrRefundRequired) || !got.RefundRequired || got.State != reservation.Cancelled || got.PaymentID != "pay-c" {
		t.Fatalf("success after failure, sold out: %+v, %v; want cancelled, refund required", got, err)
	}
	f.wantEvents(c.ID, reservation.EventHeld, reservation.EventCancelled, reservation.EventRefundRequired)
	got2, err := f.svc.Confirm(f.ctx, c.ID, reservation.Payment{ID: "pay-c"})
	if !errors.Is(err, reservation.ErrRefundRequired) || got2.Version != got.Version {
		t.Fatalf("duplicate: v%d, %v; want v%d, ErrRefundRequired", got2.Version, err, got.Version)
	}
	f.wantEvents(c.ID, reservation.EventHeld, reservation.EventCancelled, reservation.EventRefundRequired)
	f.wantAvail(0)

	// the guest cancelled, then the payment succeeded: refund, no rebooking
	if err := f.svc.SetInventory(f.ctx, f.room, D0, D0+1, 4); err != nil {
		t.Fatal(err)
	}
	d := f.hold(1, 0, 1)
	if _, err := f.svc.Cancel(f.ctx, d.ID); err != nil {
		t.Fatal(err)
	}
	got, err = f.svc.Confirm(f.ctx, d.ID, reservation.Payment{ID: "pay-d"})
	if !errors.Is(err, reservation.ErrRefundRequired) || got.ID != d.ID || !got.RefundRequired {
		t.Fatalf("success after the guest cancelled: %+v, %v; want refund required", got, err)
	}
	f.wantAvail(1)
}

// Rule (LateRebook): a payment after the deadline books the stay if every
// night has the rooms: in place while the hold is Reserved, as a new
// booking once the sweeper cancelled it.
func testLatePaymentRebooks(t *testing.T, cfg Config) {
	f := newSvc(t, cfg, nil, 3, 3)
	a := f.hold(2, 0, 2)
	f.clock.Add(11 * time.Minute) // past the deadline, no sweep
	f.wantAvail(3, 3)
	got, err := f.svc.Confirm(f.ctx, a.ID, reservation.Payment{ID: "pay-a"})
	if err != nil || got.ID != a.ID || got.State != reservation.Booked || got.Reason != reservation.ReasonLatePayment {
		t.Fatalf("late payment, not swept: %+v, %v; want booked in place (late_payment)", got, err)
	}
	f.wantAvail(1, 1)

	b := f.hold(1, 0, 2)
	f.clock.Add(11 * time.Minute)
	if res, err := f.svc.Sweep(f.ctx); err != nil || res.Expired < 1 {
		t.Fatalf("Sweep = %+v, %v", res, err)
	}
	if got := f.get(b.ID); got.State != reservation.Cancelled || got.Reason != reservation.ReasonExpired {
		t.Fatalf("swept hold: %s (%s)", got.State, got.Reason)
	}
	nb, err := f.svc.Confirm(f.ctx, b.ID, reservation.Payment{ID: "pay-b"})
	if err != nil || nb.ID == b.ID || nb.Rebooks != b.ID || nb.State != reservation.Booked || nb.Reason != reservation.ReasonLatePayment {
		t.Fatalf("late payment, swept: %+v, %v; want a new booked booking rebooking %s", nb, err, b.ID)
	}
	f.wantEvents(b.ID, reservation.EventHeld, reservation.EventCancelled)
	f.wantEvents(nb.ID, reservation.EventBooked)
	if got := f.get(b.ID); got.State != reservation.Cancelled {
		t.Fatalf("the swept hold is %s; want cancelled (terminal)", got.State)
	}
	f.wantAvail(0, 0)
	if s := f.svc.Stats(); s.LateBooked != 2 {
		t.Fatalf("Stats.LateBooked = %d; want 2", s.LateBooked)
	}
}

// Rule: a payment after the deadline that finds a night sold marks the
// payment for refund, swept or not, and emits refund_required; under
// LateRefund it is refunded even with rooms free.
func testLatePaymentRefund(t *testing.T, cfg Config) {
	f := newSvc(t, cfg, nil, 1, 1)
	a := f.hold(1, 0, 2)
	f.clock.Add(11 * time.Minute)
	taker := f.hold(1, 1, 2) // takes night 1 after a's deadline
	got, err := f.svc.Confirm(f.ctx, a.ID, reservation.Payment{ID: "pay-a"})
	if !errors.Is(err, reservation.ErrRefundRequired) || got.State != reservation.Cancelled || !got.RefundRequired ||
		got.PaymentID != "pay-a" || got.Reason != reservation.ReasonLatePayment {
		t.Fatalf("late payment, night sold, not swept: %+v, %v; want cancelled, refund required", got, err)
	}
	f.wantEvents(a.ID, reservation.EventHeld, reservation.EventCancelled, reservation.EventRefundRequired)
	f.wantAvail(1, 0)
	if got := f.get(taker.ID); got.State != reservation.Reserved {
		t.Fatalf("the other hold is %s", got.State)
	}
	if _, err := f.svc.Confirm(f.ctx, a.ID, reservation.Payment{ID: "pay-a"}); !errors.Is(err, reservation.ErrRefundRequired) {
		t.Fatalf("duplicate: %v; want ErrRefundRequired again", err)
	}
	f.wantEvents(a.ID, reservation.EventHeld, reservation.EventCancelled, reservation.EventRefundRequired)

	// Swept first.
	g := newSvc(t, cfg, nil, 1)
	b := g.hold(1, 0, 1)
	g.clock.Add(11 * time.Minute)
	if _, err := g.svc.Sweep(g.ctx); err != nil {
		t.Fatal(err)
	}
	g.hold(1, 0, 1)
	got, err = g.svc.Confirm(g.ctx, b.ID, reservation.Payment{ID: "pay-b"})
	if !errors.Is(err, reservation.ErrRefundRequired) || got.ID != b.ID || !got.RefundRequired || got.Reason != reservation.ReasonExpired {
		t.Fatalf("late payment, swept, sold: %+v, %v; want the hold, refund required", got, err)
	}
	g.wantEvents(b.ID, reservation.EventHeld, reservation.EventCancelled, reservation.EventRefundRequired)
	g.wantAvail(0)

	// LateRefund.
	h := newSvc(t, cfg, &reservation.Options{LatePayment: reservation.LateRefund}, 5)
	c := h.hold(1, 0, 1)
	h.clock.Add(11 * time.Minute)
	got, err = h.svc.Confirm(h.ctx, c.ID, reservation.Payment{ID: "pay-c"})
	if !errors.Is(err, reservation.ErrRefundRequired) || !got.RefundRequired {
		t.Fatalf("LateRefund: %+v, %v; want refund required", got, err)
	}
	h.wantAvail(5)
}

// Rule: the default policy cancels a paid stay with a refund before its
// check-in day and refuses from that day on; holds cancel freely.
func testCancelPolicy(t *testing.T, cfg Config) {
	f := newSvc(t, cfg, nil, 2, 2)
	a := f.hold(1, 0, 2)
	if _, err := f.svc.Confirm(f.ctx, a.ID, reservation.Payment{ID: "p"}); err != nil {
		t.Fatal(err)
	}
	f.wantAvail(1, 1)
	got, err := f.svc.Cancel(f.ctx, a.ID)
	if err != nil || got.State != reservation.Cancelled || !got.RefundRequired || got.Reason != reservation.ReasonCancelled {
		t.Fatalf("Cancel before check-in: %+v, %v; want cancelled with refund", got, err)
	}
	f.wantEvents(a.ID, reservation.EventHeld, reservation.EventBooked, reservation.EventCancelled, reservation.EventRefundRequired)
	f.wantAvail(2, 2)
	if again, err := f.svc.Cancel(f.ctx, a.ID); err != nil || again.Version != got.Version {
		t.Fatalf("Cancel again: v%d, %v; want unchanged, nil", again.Version, err)
	}

	b := f.hold(1, 0, 2)
	if _, err := f.svc.Confirm(f.ctx, b.ID, reservation.Payment{ID: "q"}); err != nil {
		t.Fatal(err)
	}
	f.clock.Set(D0.Time().Add(9 * time.Hour)) // check-in day
	if _, err := f.svc.Cancel(f.ctx, b.ID); !errors.Is(err, reservation.ErrCancelRefused) {
		t.Fatalf("Cancel on the check-in day: %v; want ErrCancelRefused", err)
	}
	f.wantAvail(1, 1)
	f.clock.Set(D0.AddDays(2).Time().Add(time.Hour))
	if _, err := f.svc.Complete(f.ctx, b.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Cancel(f.ctx, b.ID); !errors.Is(err, reservation.ErrState) {
		t.Fatalf("Cancel of a completed stay: %v; want ErrState", err)
	}

	g := newSvc(t, cfg, nil, 2)
	c := g.hold(2, 0, 1)
	if got, err := g.svc.Cancel(g.ctx, c.ID); err != nil || got.RefundRequired {
		t.Fatalf("Cancel of a hold: %+v, %v", got, err)
	}
	g.wantAvail(2)
}

// Rule: the sweeper cancels expired holds once (one event each) and
// completes ended stays; Complete refuses before check-out.
func testSweepAndComplete(t *testing.T, cfg Config) {
	f := newSvc(t, cfg, &reservation.Options{CompleteAfter: time.Hour}, 5, 5)
	var holds []reservation.Booking
	for range 3 {
		holds = append(holds, f.hold(1, 0, 2))
	}
	paid := f.hold(1, 0, 2)
	if _, err := f.svc.Confirm(f.ctx, paid.ID, reservation.Payment{ID: "p"}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Complete(f.ctx, paid.ID); !errors.Is(err, reservation.ErrTooEarly) {
		t.Fatalf("Complete before check-out: %v; want ErrTooEarly", err)
	}
	f.clock.Add(9*time.Minute + 59*time.Second)
	if _, err := f.svc.Sweep(f.ctx); err != nil {
		t.Fatal(err)
	}
	for _, h := range holds {
		if got := f.get(h.ID); got.State != reservation.Reserved {
			t.Fatalf("hold swept a second before its deadline: %s", got.State)
		}
	}
	f.clock.Add(time.Second)
	other := f.handles(cfg, 2)[1]
	var wg sync.WaitGroup
	for _, svc := range []*reservation.Service{f.svc, other, f.svc, other} {
		wg.Go(func() {
			if _, err := svc.Sweep(f.ctx); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	for _, h := range holds {
		got := f.get(h.ID)
		if got.State != reservation.Cancelled || got.Reason != reservation.ReasonExpired {
			t.Fatalf("hold at its deadline after sweeps: %s (%s); want cancelled (expired)", got.State, got.Reason)
		}
		f.wantEvents(h.ID, reservation.EventHeld, reservation.EventCancelled)
	}
	f.wantAvail(4, 4)
	// Check-out is D0+2; CompleteAfter one hour.
	f.clock.Set(D0.AddDays(2).Time().Add(59 * time.Minute))
	if _, err := f.svc.Sweep(f.ctx); err != nil {
		t.Fatal(err)
	}
	if got := f.get(paid.ID); got.State != reservation.Booked {
		t.Fatalf("stay completed before CompleteAfter: %s", got.State)
	}
	f.clock.Set(D0.AddDays(2).Time().Add(time.Hour))
	if _, err := f.svc.Sweep(f.ctx); err != nil {
		t.Fatal(err)
	}
	if got := f.get(paid.ID); got.State != reservation.Completed || got.Reason != reservation.ReasonStayEnded {
		t.Fatalf("ended stay after the sweep: %s (%s); want completed", got.State, got.Reason)
	}
	f.wantEvents(paid.ID, reservation.EventHeld, reservation.EventBooked, reservation.EventCompleted)
	if got, err := f.svc.Complete(f.ctx, paid.ID); err != nil || got.State != reservation.Completed {
		t.Fatalf("Complete of a completed stay: %s, %v", got.State, err)
	}
}

// Rule: under a random concurrent mix of holds, payments, failures,
// cancellations, sweeps and clock moves, every night's availability equals
// the serial model computed from the bookings: initial minus Booked rooms
// minus rooms of holds before their deadline.
func testRandomWorkload(t *testing.T, cfg Config) {
	const nights, capacity = 6, 8
	counts := slices.Repeat([]int{capacity}, nights)
	f := newSvc(t, cfg, &reservation.Options{CompleteAfter: -1}, counts...)
	svcs := f.handles(cfg, 4)
	var mu sync.Mutex
	var ids []string // every booking created, once (a rebooking is returned again by duplicates)
	seen := map[string]bool{}
	pick := func(r *mrand.Rand) string {
		mu.Lock()
		defer mu.Unlock()
		if len(ids) == 0 {
			return ""
		}
		return ids[r.IntN(len(ids))]
	}
	add := func(id string) {
		mu.Lock()
		if !seen[id] {
			seen[id] = true
			ids = append(ids, id)
		}
		mu.Unlock()
	}
	var wg sync.WaitGroup
	for g := range 16 {
		wg.Go(func() {
			r := mrand.New(mrand.NewPCG(uint64(g), 7))
			svc := svcs[g%len(svcs)]
			for range 40 {
				var err error
				switch op := r.IntN(10); {
				case op < 4:
					from := r.IntN(nights)
					to := from + 1 + r.IntN(nights-from)
					req := f.req(1+r.IntN(3), from, to)
					req.TTL = time.Duration(1+r.IntN(5)) * time.Minute
					var b reservation.Booking
					if b, err = svc.Hold(f.ctx, req); err == nil {
						add(b.ID)
					}
				case op < 6:
					if id := pick(r); id != "" {
						var b reservation.Booking
						b, err = svc.Confirm(f.ctx, id, reservation.Payment{ID: fmt.Sprintf("pay-%s-%d", id, r.IntN(2))})
						if err == nil && b.ID != id {
							add(b.ID)
						}
					}
				case op < 7:
					if id := pick(r); id != "" {
						_, err = svc.Fail(f.ctx, id)
					}
				case op < 8:
					if id := pick(r); id != "" {
						_, err = svc.Cancel(f.ctx, id)
					}
				case op < 9:
					_, err = svc.Sweep(f.ctx)
				default:
					f.clock.Add(time.Duration(r.IntN(60)) * time.Second)
				}
				switch {
				case err == nil, errors.Is(err, reservation.ErrSoldOut), errors.Is(err, reservation.ErrState),
					errors.Is(err, reservation.ErrRefundRequired), errors.Is(err, reservation.ErrDuplicatePayment):
				default:
					t.Errorf("goroutine %d: %v", g, err)
					return
				}
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	check := func(label string) {
		t.Helper()
		now := f.clock.Now()
		want := slices.Clone(counts)
		states := map[reservation.State]int{}
		for _, id := range ids {
			b := f.get(id)
			states[b.State]++
			if b.State == reservation.Booked || b.Held(now) {
				for d := b.CheckIn; d < b.CheckOut; d++ {
					want[d-D0] -= b.Quantity
				}
			}
		}
		got := f.avail()
		t.Logf("%s: %d bookings %v; available %v", label, len(ids), states, got)
		if !slices.Equal(got, want) {
			t.Fatalf("%s: available %v; the bookings say %v", label, got, want)
		}
	}
	check("after the workload")
	f.clock.Add(time.Hour)
	check("every hold expired, before a sweep")
	if _, err := f.svc.Sweep(f.ctx); err != nil {
		t.Fatal(err)
	}
	check("after a sweep")
}
