package reservation_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/sysblocks/sysblocks/reservation"
	"github.com/sysblocks/sysblocks/reservation/memstore"
	"github.com/sysblocks/sysblocks/reservation/storetest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var (
	d0 = storetest.D0
	t0 = time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC)
)

func newService(t *testing.T, opts *reservation.Options, rooms int) (*reservation.Service, *storetest.Clock) {
	t.Helper()
	clock := storetest.NewClock(t0)
	var o reservation.Options
	if opts != nil {
		o = *opts
	}
	if o.Now == nil {
		o.Now = clock.Now
	}
	svc, err := reservation.New(memstore.New(), &o)
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.SetInventory(context.Background(), "r1", d0, d0+3, rooms); err != nil {
		t.Fatal(err)
	}
	return svc, clock
}

func request(key string) reservation.HoldRequest {
	return reservation.HoldRequest{Key: key, User: "u1", Room: "r1", Quantity: 1, CheckIn: d0, CheckOut: d0 + 2}
}

func availability(t *testing.T, svc *reservation.Service) []int {
	t.Helper()
	nights, err := svc.Availability(context.Background(), "r1", d0, d0+3)
	if err != nil {
		t.Fatal(err)
	}
	var out []int
	for _, n := range nights {
		out = append(out, n.Available)
	}
	return out
}

func TestNewRejectsBadOptions(t *testing.T) {
	if _, err := reservation.New(nil, nil); !errors.Is(err, reservation.ErrInvalid) {
		t.Fatalf("New(nil store): %v; want ErrInvalid", err)
	}
	for i, o := range []reservation.Options{
		{HoldTTL: -time.Second},
		{HoldTTL: 2 * time.Hour}, // above the default MaxTTL
		{MaxTTL: 48 * time.Hour}, // above the default KeyRetention
		{SweepInterval: -1},
		{MaxNights: -1},
		{LatePayment: 7},
	} {
		if _, err := reservation.New(memstore.New(), &o); !errors.Is(err, reservation.ErrInvalid) {
			t.Errorf("options %d (%+v): %v; want ErrInvalid", i, o, err)
		}
	}
	if _, err := reservation.New(memstore.New(), &reservation.Options{MaxTTL: 48 * time.Hour, KeyRetention: 72 * time.Hour}); err != nil {
		t.Fatalf("consistent options: %v", err)
	}
}

// Bad requests return ErrInvalid and change nothing.
func TestHoldValidation(t *testing.T) {
	svc, _ := newService(t, &reservation.Options{MaxNights: 2, MaxQuantity: 5}, 10)
	ctx := context.Background()
	ok := request("k")
	for name, edit := range map[string]func(*reservation.HoldRequest){
		"no key":          func(r *reservation.HoldRequest) { r.Key = "" },
		"space in key":    func(r *reservation.HoldRequest) { r.Key = "a b" },
		"long key":        func(r *reservation.HoldRequest) { r.Key = strings.Repeat("k", 256) },
		"no user":         func(r *reservation.HoldRequest) { r.User = "" },
		"no room":         func(r *reservation.HoldRequest) { r.Room = "" },
		"room with NUL":   func(r *reservation.HoldRequest) { r.Room = "r\x00" },
		"long room":       func(r *reservation.HoldRequest) { r.Room = strings.Repeat("r", 65) },
		"zero quantity":   func(r *reservation.HoldRequest) { r.Quantity = 0 },
		"quantity > max":  func(r *reservation.HoldRequest) { r.Quantity = 6 },
		"empty stay":      func(r *reservation.HoldRequest) { r.CheckOut = r.CheckIn },
		"reversed stay":   func(r *reservation.HoldRequest) { r.CheckIn, r.CheckOut = r.CheckOut, r.CheckIn },
		"too many nights": func(r *reservation.HoldRequest) { r.CheckOut = r.CheckIn + 3 },
		"past check-in": func(r *reservation.HoldRequest) {
			r.CheckIn, r.CheckOut = reservation.DateFromTime(t0)-2, reservation.DateFromTime(t0)
		},
		"negative ttl": func(r *reservation.HoldRequest) { r.TTL = -time.Second },
		"ttl > max":    func(r *reservation.HoldRequest) { r.TTL = 2 * time.Hour },
		"date out of range": func(r *reservation.HoldRequest) {
			r.CheckIn, r.CheckOut = reservation.MaxDate, reservation.MaxDate+1
		},
	} {
		r := ok
		edit(&r)
		if _, err := svc.Hold(ctx, r); !errors.Is(err, reservation.ErrInvalid) {
			t.Errorf("%s: %v; want ErrInvalid", name, err)
		}
	}
	if got := availability(t, svc); fmt.Sprint(got) != "[10 10 10]" {
		t.Fatalf("available after bad requests: %v; want [10 10 10]", got)
	}
	// Yesterday (UTC) is still accepted, for time zones behind UTC.
	r := ok
	r.CheckIn, r.CheckOut = reservation.DateFromTime(t0)-1, reservation.DateFromTime(t0)+1
	if err := svc.SetInventory(ctx, "r1", r.CheckIn, r.CheckOut, 1); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Hold(ctx, r); err != nil {
		t.Fatalf("check-in yesterday: %v", err)
	}
	for _, id := range []string{"", "a b", strings.Repeat("x", 65)} {
		if _, err := svc.Confirm(ctx, id, reservation.Payment{ID: "p"}); !errors.Is(err, reservation.ErrInvalid) {
			t.Errorf("Confirm(%q): %v; want ErrInvalid", id, err)
		}
	}
	if _, err := svc.Confirm(ctx, "bk_none", reservation.Payment{ID: ""}); !errors.Is(err, reservation.ErrInvalid) {
		t.Errorf("Confirm with no payment ID: %v; want ErrInvalid", err)
	}
	for name, op := range map[string]func(string) (reservation.Booking, error){
		"Get": func(id string) (reservation.Booking, error) { return svc.Get(ctx, id) },
		"Confirm": func(id string) (reservation.Booking, error) {
			return svc.Confirm(ctx, id, reservation.Payment{ID: "p"})
		},
		"Fail":     func(id string) (reservation.Booking, error) { return svc.Fail(ctx, id) },
		"Cancel":   func(id string) (reservation.Booking, error) { return svc.Cancel(ctx, id) },
		"Complete": func(id string) (reservation.Booking, error) { return svc.Complete(ctx, id) },
	} {
		if _, err := op("bk_none"); !errors.Is(err, reservation.ErrNotFound) {
			t.Errorf("%s of an unknown ID: %v; want ErrNotFound", name, err)
		}
	}
	if err := svc.SetInventory(ctx, "r1", d0, d0+1, -1); !errors.Is(err, reservation.ErrInvalid) {
		t.Errorf("SetInventory(-1): %v; want ErrInvalid", err)
	}
}

// The hold's TTL defaults to HoldTTL and its deadline is computed from
// Options.Now; a replay returns the original deadline.
func TestHoldDeadline(t *testing.T) {
	svc, clock := newService(t, &reservation.Options{HoldTTL: 7 * time.Minute}, 5)
	ctx := context.Background()
	b, err := svc.Hold(ctx, request("k"))
	if err != nil {
		t.Fatal(err)
	}
	if want := t0.Add(7 * time.Minute); !b.ExpiresAt.Equal(want) || b.State != reservation.Reserved || b.Version != 1 {
		t.Fatalf("hold = %+v; want reserved until %v", b, want)
	}
	clock.Add(time.Minute)
	again, err := svc.Hold(ctx, request("k"))
	if err != nil || again.ID != b.ID || !again.ExpiresAt.Equal(b.ExpiresAt) {
		t.Fatalf("replay a minute later: %+v, %v; want %s until %v", again, err, b.ID, b.ExpiresAt)
	}
	if s := svc.Stats(); s.Holds != 1 || s.Replays != 1 {
		t.Fatalf("Stats = %+v; want 1 hold, 1 replay", s)
	}
	r := request("k")
	r.TTL = 5 * time.Minute // a different request under the same key
	if _, err := svc.Hold(ctx, r); !errors.Is(err, reservation.ErrIdempotencyMismatch) {
		t.Fatalf("same key, other TTL: %v; want ErrIdempotencyMismatch", err)
	}
}

type alarm struct {
	mu    sync.Mutex
	armed map[string]time.Time
	err   error
}

func (a *alarm) Arm(_ context.Context, id string, deadline time.Time) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.armed == nil {
		a.armed = map[string]time.Time{}
	}
	a.armed[id] = deadline
	return a.err
}

// Every new hold arms the alarm with its deadline; replays do not; alarm
// and emitter failures are counted, never returned.
func TestAlarmAndEmitterFailures(t *testing.T) {
	al := &alarm{err: errors.New("redis down")}
	emitter := reservation.EmitterFunc(func(context.Context, reservation.Event) error { return errors.New("kafka down") })
	svc, _ := newService(t, &reservation.Options{Alarm: al, Emitter: emitter}, 5)
	ctx := context.Background()
	b, err := svc.Hold(ctx, request("k"))
	if err != nil {
		t.Fatalf("Hold with a failing alarm and emitter: %v", err)
	}
	if _, err := svc.Hold(ctx, request("k")); err != nil {
		t.Fatal(err)
	}
	if len(al.armed) != 1 || !al.armed[b.ID].Equal(b.ExpiresAt) {
		t.Fatalf("armed %v; want only %s at %v", al.armed, b.ID, b.ExpiresAt)
	}
	if _, err := svc.Confirm(ctx, b.ID, reservation.Payment{ID: "p"}); err != nil {
		t.Fatal(err)
	}
	if s := svc.Stats(); s.AlarmErrors != 1 || s.EmitErrors != 2 || s.Booked != 1 {
		t.Fatalf("Stats = %+v; want 1 alarm error, 2 emit errors, 1 booked", s)
	}
}

// waitSweeps waits until the Service has completed n more sweeps than
// from. It waits on sweep passes, not on time.
func waitSweeps(t *testing.T, svc *reservation.Service, from, n uint64) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second) // a hang guard, not a timing claim
	for svc.Stats().Sweeps < from+n {
		if time.Now().After(deadline) {
			t.Fatalf("only %d sweeps in 30s", svc.Stats().Sweeps-from)
		}
		time.Sleep(time.Millisecond)
	}
}

// With no wake-up at all, Run's periodic pass bounds the Cancelled state:
// the first sweep that starts after the deadline cancels the hold. The
// capacity is free at the deadline itself, before any sweep.
func TestRunBoundWithoutWake(t *testing.T) {
	rec := &storetest.Recorder{}
	svc, clock := newService(t, &reservation.Options{SweepInterval: 2 * time.Millisecond, Emitter: rec}, 1)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- svc.Run(ctx) }()
	waitSweeps(t, svc, 0, 1) // Run is running
	if err := svc.Run(ctx); !errors.Is(err, reservation.ErrRunning) {
		t.Fatalf("second Run: %v; want ErrRunning", err)
	}
	b, err := svc.Hold(context.Background(), request("k"))
	if err != nil {
		t.Fatal(err)
	}
	s0 := svc.Stats().Sweeps
	waitSweeps(t, svc, s0, 3)
	if got, _ := svc.Get(ctx, b.ID); got.State != reservation.Reserved {
		t.Fatalf("hold is %s before its deadline; want reserved", got.State)
	}
	clock.Set(b.ExpiresAt)
	if got := availability(t, svc); fmt.Sprint(got) != "[1 1 1]" {
		t.Fatalf("available at the deadline, before a sweep: %v; want [1 1 1]", got)
	}
	s1 := svc.Stats().Sweeps
	// A pass in progress when the clock moved may have read it before;
	// the next one started after.
	waitSweeps(t, svc, s1, 2)
	if got, _ := svc.Get(ctx, b.ID); got.State != reservation.Cancelled || got.Reason != reservation.ReasonExpired {
		t.Fatalf("two sweeps after the deadline: %s (%s); want cancelled (expired)", got.State, got.Reason)
	}
	if ev := rec.Events(b.ID); fmt.Sprint(ev) != "[held cancelled]" {
		t.Fatalf("events %v", ev)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run after cancel: %v; want nil", err)
	}
}

// Wake makes Run sweep at once, whatever its period.
func TestWake(t *testing.T) {
	svc, clock := newService(t, &reservation.Options{SweepInterval: time.Hour}, 1)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- svc.Run(ctx) }()
	waitSweeps(t, svc, 0, 1) // the pass Run makes at start
	b, err := svc.Hold(ctx, request("k"))
	if err != nil {
		t.Fatal(err)
	}
	clock.Set(b.ExpiresAt)
	svc.Wake()
	waitSweeps(t, svc, 1, 1)
	if got, _ := svc.Get(ctx, b.ID); got.State != reservation.Cancelled {
		t.Fatalf("after Wake: %s; want cancelled", got.State)
	}
	for range 10 {
		svc.Wake() // never blocks
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// Sweep reports what it did and forgets keys older than KeyRetention.
func TestSweepResult(t *testing.T) {
	svc, clock := newService(t, &reservation.Options{KeyRetention: 2 * time.Hour}, 5)
	ctx := context.Background()
	for i := range 3 {
		if _, err := svc.Hold(ctx, request(fmt.Sprint("k", i))); err != nil {
			t.Fatal(err)
		}
	}
	clock.Add(time.Hour)
	res, err := svc.Sweep(ctx)
	if err != nil || res != (reservation.SweepResult{Expired: 3}) {
		t.Fatalf("Sweep = %+v, %v; want 3 expired", res, err)
	}
	clock.Add(time.Hour + time.Microsecond)
	res, err = svc.Sweep(ctx)
	if err != nil || res != (reservation.SweepResult{KeysPruned: 3}) {
		t.Fatalf("Sweep 2h later = %+v, %v; want 3 keys pruned", res, err)
	}
	b, err := svc.Hold(ctx, request("k0"))
	if err != nil || b.State != reservation.Reserved || !b.ExpiresAt.Equal(clock.Now().Add(reservation.DefaultHoldTTL)) {
		t.Fatalf("Hold with a forgotten key: %+v, %v; want a new hold", b, err)
	}
}

// A store that keeps reporting conflicts makes the operation fail after
// MaxRetries attempts with ErrConflict.
func TestRetriesExhausted(t *testing.T) {
	st := &conflicting{Store: memstore.New()}
	svc, err := reservation.New(st, &reservation.Options{Now: func() time.Time { return t0 }, MaxRetries: 3})
	if err != nil {
		t.Fatal(err)
	}
	_, err = svc.Hold(context.Background(), request("k"))
	if !errors.Is(err, reservation.ErrConflict) || st.calls != 3 {
		t.Fatalf("Hold on a store in conflict: %v after %d calls; want ErrConflict after 3", err, st.calls)
	}
	if s := svc.Stats(); s.Retries != 2 {
		t.Fatalf("Stats.Retries = %d; want 2", s.Retries)
	}
}

type conflicting struct {
	reservation.Store
	calls int
}

func (c *conflicting) Hold(context.Context, reservation.Booking, string, time.Time) (reservation.Booking, bool, error) {
	c.calls++
	return reservation.Booking{}, false, fmt.Errorf("test: %w", reservation.ErrConflict)
}

// The Effect table is the state machine of the design notes.
func TestEffectOf(t *testing.T) {
	states := []reservation.State{reservation.Reserved, reservation.Booked, reservation.Cancelled, reservation.Completed}
	allowed := map[[2]reservation.State]reservation.Effect{
		{reservation.Reserved, reservation.Booked}:     reservation.EffectBook,
		{reservation.Reserved, reservation.Cancelled}:  reservation.EffectReleaseHold,
		{reservation.Booked, reservation.Cancelled}:    reservation.EffectReleaseStay,
		{reservation.Booked, reservation.Completed}:    reservation.EffectNone,
		{reservation.Cancelled, reservation.Cancelled}: reservation.EffectNone,
	}
	for _, from := range states {
		for _, to := range states {
			e, ok := reservation.EffectOf(from, to)
			want, wantOK := allowed[[2]reservation.State{from, to}]
			if ok != wantOK || (ok && e != want) {
				t.Errorf("EffectOf(%s, %s) = %d, %v; want %d, %v", from, to, e, ok, want, wantOK)
			}
		}
	}
}

// TestRoomBookings checks that RoomBookings lists the live hold until its
// deadline on the Service's clock, refuses bad arguments, and that the
// listed quantities match Availability.
func TestRoomBookings(t *testing.T) {
	ctx := context.Background()
	svc, clock := newService(t, &reservation.Options{HoldTTL: time.Minute}, 5)
	h, err := svc.Hold(ctx, request("k1"))
	if err != nil {
		t.Fatal(err)
	}
	h2 := request("k2")
	h2.Quantity, h2.CheckIn, h2.CheckOut = 2, d0+1, d0+3
	b, err := svc.Hold(ctx, h2)
	if err != nil {
		t.Fatal(err)
	}
	if b, err = svc.Confirm(ctx, b.ID, reservation.Payment{ID: "p2"}); err != nil {
		t.Fatal(err)
	}
	list := func() []string {
		t.Helper()
		got, err := svc.RoomBookings(ctx, "r1", d0, d0+3, 10)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, x := range got {
			out = append(out, x.ID+"/"+string(x.State))
		}
		return out
	}
	if got, want := fmt.Sprint(list()), fmt.Sprint([]string{h.ID + "/reserved", b.ID + "/booked"}); got != want {
		t.Fatalf("RoomBookings = %s; want %s", got, want)
	}
	if got := availability(t, svc); fmt.Sprint(got) != "[4 2 3]" {
		t.Fatalf("availability = %v; want [4 2 3]", got)
	}
	clock.Add(time.Minute) // the hold's deadline: it holds nothing, though not swept
	if got, want := fmt.Sprint(list()), fmt.Sprint([]string{b.ID + "/booked"}); got != want {
		t.Fatalf("RoomBookings at the deadline = %s; want %s", got, want)
	}
	for _, c := range []struct {
		room     string
		from, to reservation.Date
		limit    int
	}{
		{"", d0, d0 + 1, 1},
		{"r 1", d0, d0 + 1, 1},
		{"r1", d0 + 1, d0, 1},
		{"r1", d0, d0 + reservation.MaxInventoryNights + 1, 1},
		{"r1", d0, d0 + 1, 0},
		{"r1", d0, d0 + 1, reservation.MaxRoomBookings + 1},
	} {
		if _, err := svc.RoomBookings(ctx, c.room, c.from, c.to, c.limit); !errors.Is(err, reservation.ErrInvalid) {
			t.Errorf("RoomBookings(%q, %s, %s, %d) = %v; want ErrInvalid", c.room, c.from, c.to, c.limit, err)
		}
	}
}
