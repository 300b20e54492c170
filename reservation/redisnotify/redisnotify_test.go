package redisnotify_test

import (
	"context"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/sysblocks/sysblocks/internal/testenv"
	"github.com/sysblocks/sysblocks/reservation"
	"github.com/sysblocks/sysblocks/reservation/memstore"
	"github.com/sysblocks/sysblocks/reservation/redisnotify"
)

var night = reservation.DateFromTime(time.Now().UTC()).AddDays(30)

// setup returns a Service on memstore with the real clock and the given
// sweep period, a Notifier on the test's Redis armed by it, and one room
// with one night of one room.
func setup(t *testing.T, sweep time.Duration) (*reservation.Service, *redisnotify.Notifier, *testenv.RedisEnv) {
	t.Helper()
	env := testenv.Redis(t)
	n := redisnotify.New(env.Client, &redisnotify.Options{Prefix: env.Key("hold:")})
	if err := n.Check(context.Background()); err != nil {
		t.Fatalf("the test server must publish expired events: %v", err)
	}
	svc, err := reservation.New(memstore.New(), &reservation.Options{Alarm: n, SweepInterval: sweep})
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.SetInventory(context.Background(), "r1", night, night+1, 1); err != nil {
		t.Fatal(err)
	}
	return svc, n, env
}

func hold(t *testing.T, svc *reservation.Service, ttl time.Duration) reservation.Booking {
	t.Helper()
	b, err := svc.Hold(context.Background(), reservation.HoldRequest{
		Key: "k-" + time.Now().Format(time.RFC3339Nano), User: "u", Room: "r1", Quantity: 1,
		CheckIn: night, CheckOut: night + 1, TTL: ttl,
	})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// waitFor polls cond; the limit only guards against a hang.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	limit := time.Now().Add(2 * time.Minute)
	for !cond() {
		if time.Now().After(limit) {
			t.Fatalf("%s: not after 2 minutes", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func state(t *testing.T, svc *reservation.Service, id string) reservation.Booking {
	t.Helper()
	b, err := svc.Get(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Arm sets the hold's key to expire at its deadline, to the millisecond.
func TestArmSetsDeadline(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	svc, n, env := setup(t, time.Hour)
	b := hold(t, svc, 10*time.Minute)
	at, err := env.Client.PExpireTime(context.Background(), n.Key(b.ID)).Result()
	if err != nil {
		t.Fatal(err)
	}
	want := b.ExpiresAt.Add(time.Millisecond - 1).Truncate(time.Millisecond) // rounded up
	if got := time.UnixMilli(at.Milliseconds()); !got.Equal(want) {
		t.Fatalf("key expires at %v; want %v", got, want)
	}
	if s := n.Stats(); s.Armed != 1 {
		t.Fatalf("Stats = %+v; want 1 armed", s)
	}
}

// With notifications on and a sweeper period far longer than the test, the
// expired hold is cancelled: only the Redis expiry event can have woken
// the sweeper.
func TestNotificationWakesSweeper(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	svc, n, _ := setup(t, time.Hour)
	ctx, cancel := context.WithCancel(context.Background())
	runs := make(chan error, 2)
	go func() { runs <- svc.Run(ctx) }()
	go func() { runs <- n.Run(ctx, svc.Wake) }()
	waitFor(t, "first sweep", func() bool { return svc.Stats().Sweeps >= 1 })
	b := hold(t, svc, 200*time.Millisecond)
	waitFor(t, "cancelled by a woken sweep", func() bool { return state(t, svc, b.ID).State == reservation.Cancelled })
	got := state(t, svc, b.ID)
	t.Logf("deadline -> cancelled: %v (expired events seen: %d)", got.Updated.Sub(got.ExpiresAt).Round(time.Millisecond), n.Stats().Expired)
	if n.Stats().Expired < 1 || svc.Stats().Sweeps < 2 {
		t.Fatalf("Stats: notifier %+v, service sweeps %d; want an event and a second sweep", n.Stats(), svc.Stats().Sweeps)
	}
	cancel()
	for range 2 {
		if err := <-runs; err != nil {
			t.Fatal(err)
		}
	}
}

// With every notification lost (keys armed, nobody subscribed), the rooms
// are available from the deadline on, and the hold is cancelled by the
// first sweep that starts after the deadline: within one SweepInterval
// plus one sweep.
func TestNotificationsOff(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	const period = 200 * time.Millisecond
	svc, n, _ := setup(t, period)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- svc.Run(ctx) }()
	b := hold(t, svc, 300*time.Millisecond)
	if n.Stats().Armed != 1 {
		t.Fatal("the hold did not arm its key")
	}
	time.Sleep(time.Until(b.ExpiresAt))
	nights, err := svc.Availability(ctx, "r1", night, night+1)
	if err != nil || nights[0].Available != 1 {
		t.Fatalf("availability after the deadline: %v, %v; want the room back", nights, err)
	}
	from := svc.Stats().Sweeps
	waitFor(t, "two sweeps after the deadline", func() bool { return svc.Stats().Sweeps >= from+2 })
	got := state(t, svc, b.ID)
	if got.State != reservation.Cancelled || got.Reason != reservation.ReasonExpired {
		t.Fatalf("two sweeps after the deadline: %s (%s); want cancelled (expired)", got.State, got.Reason)
	}
	t.Logf("deadline -> cancelled: %v with SweepInterval %v and no notifications", got.Updated.Sub(got.ExpiresAt).Round(time.Millisecond), period)
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// Run returns nil when its context ends, including before it subscribed.
func TestRunStops(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	env := testenv.Redis(t)
	n := redisnotify.New(env.Client, nil)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := n.Run(ctx, func() {}); err != nil {
		t.Fatalf("Run on a cancelled context: %v", err)
	}
	ctx, cancel = context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- n.Run(ctx, func() {}) }()
	time.Sleep(50 * time.Millisecond)
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
