package storetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/sysblocks/sysblocks/wsregistry"
)

// Goroutines is the number of goroutines in the concurrent cases.
const Goroutines = 64

// Unique returns prefix followed by a random suffix.
func Unique(prefix string) string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return prefix + "-" + hex.EncodeToString(b)
}

// base is the clock of the suite: a fixed time, so that expiry does not
// depend on the machine's clock.
var base = time.Date(2031, 5, 1, 12, 0, 0, 0, time.UTC)

func ms(n int) time.Time { return base.Add(time.Duration(n) * time.Millisecond) }

// RunStore runs the wsregistry.Store conformance cases as subtests of t.
func RunStore(t *testing.T, open func(tb testing.TB) wsregistry.Store) {
	ctx := context.Background()
	t.Run("ExpiryPredicate", func(t *testing.T) {
		s := open(t)
		u := Unique("u")
		put(t, s, wsregistry.Conn{User: u, Device: "phone", Host: "h1", Expires: ms(1000)}, ms(0))
		for _, tc := range []struct {
			now  int
			want int
		}{{0, 1}, {999, 1}, {1000, 0}, {5000, 0}} {
			got := list(t, s, u, ms(tc.now))
			if len(got) != tc.want {
				t.Errorf("List at +%dms: got %d leases; want %d (a lease is live while Expires > now)", tc.now, len(got), tc.want)
			}
		}
		if err := s.Renew(ctx, u, "phone", "h1", ms(5000), ms(1000)); !errors.Is(err, wsregistry.ErrNotFound) {
			t.Errorf("Renew at the deadline: got %v; want ErrNotFound", err)
		}
		if got := list(t, s, u, ms(999)); len(got) != 1 || !got[0].Expires.Equal(ms(1000)) {
			t.Errorf("failed Renew changed the lease: got %+v", got)
		}
	})
	t.Run("Renew", func(t *testing.T) {
		s := open(t)
		u := Unique("u")
		put(t, s, wsregistry.Conn{User: u, Device: "phone", Host: "h1", Expires: ms(1000)}, ms(0))
		if err := s.Renew(ctx, u, "phone", "h1", ms(3000), ms(900)); err != nil {
			t.Fatalf("Renew: %v", err)
		}
		got := list(t, s, u, ms(2000))
		if len(got) != 1 || got[0].Host != "h1" || !got[0].Expires.Equal(ms(3000)) {
			t.Fatalf("after Renew: got %+v; want one lease on h1 until +3000ms", got)
		}
		if err := s.Renew(ctx, u, "phone", "h2", ms(9000), ms(900)); !errors.Is(err, wsregistry.ErrNotFound) {
			t.Errorf("Renew by another host: got %v; want ErrNotFound", err)
		}
		if err := s.Renew(ctx, u, "tablet", "h1", ms(9000), ms(900)); !errors.Is(err, wsregistry.ErrNotFound) {
			t.Errorf("Renew of an unknown device: got %v; want ErrNotFound", err)
		}
		if err := s.Renew(ctx, Unique("nobody"), "phone", "h1", ms(9000), ms(900)); !errors.Is(err, wsregistry.ErrNotFound) {
			t.Errorf("Renew of an unknown user: got %v; want ErrNotFound", err)
		}
		if got := list(t, s, u, ms(2999)); len(got) != 1 || !got[0].Expires.Equal(ms(3000)) {
			t.Errorf("failed Renews changed the lease: got %+v", got)
		}
	})
	t.Run("TakeoverAndDelete", func(t *testing.T) {
		s := open(t)
		u := Unique("u")
		put(t, s, wsregistry.Conn{User: u, Device: "phone", Host: "h1", Expires: ms(1000)}, ms(0))
		put(t, s, wsregistry.Conn{User: u, Device: "phone", Host: "h2", Expires: ms(1500)}, ms(100))
		got := list(t, s, u, ms(200))
		if len(got) != 1 || got[0].Host != "h2" {
			t.Fatalf("after takeover: got %+v; want the device on h2 only", got)
		}
		if err := s.Renew(ctx, u, "phone", "h1", ms(5000), ms(200)); !errors.Is(err, wsregistry.ErrNotFound) {
			t.Errorf("Renew by the old host: got %v; want ErrNotFound", err)
		}
		if err := s.Delete(ctx, u, "phone", "h1"); !errors.Is(err, wsregistry.ErrNotFound) {
			t.Errorf("Delete by the old host: got %v; want ErrNotFound", err)
		}
		if got := list(t, s, u, ms(200)); len(got) != 1 || got[0].Host != "h2" {
			t.Fatalf("old host's Delete removed the new lease: got %+v", got)
		}
		if err := s.Delete(ctx, u, "phone", "h2"); err != nil {
			t.Fatalf("Delete by the holder: %v", err)
		}
		if got := list(t, s, u, ms(200)); len(got) != 0 {
			t.Errorf("after Delete: got %+v; want none", got)
		}
		if err := s.Delete(ctx, u, "phone", "h2"); !errors.Is(err, wsregistry.ErrNotFound) {
			t.Errorf("second Delete: got %v; want ErrNotFound", err)
		}
	})
	t.Run("MultiDevice", func(t *testing.T) {
		s, other := open(t), open(t)
		u := Unique("u")
		put(t, s, wsregistry.Conn{User: u, Device: "phone", Host: "h1", Expires: ms(1000)}, ms(0))
		put(t, other, wsregistry.Conn{User: u, Device: "laptop", Host: "h2", Expires: ms(2000)}, ms(0))
		put(t, s, wsregistry.Conn{User: u, Device: "tablet", Host: "h1", Expires: ms(3000)}, ms(0))
		want := []wsregistry.Conn{
			{User: u, Device: "laptop", Host: "h2", Expires: ms(2000)},
			{User: u, Device: "phone", Host: "h1", Expires: ms(1000)},
			{User: u, Device: "tablet", Host: "h1", Expires: ms(3000)},
		}
		if got := list(t, other, u, ms(10)); !equalConns(got, want) {
			t.Fatalf("List: got %+v; want %+v", got, want)
		}
		if got := list(t, s, u, ms(1500)); !equalConns(got, []wsregistry.Conn{want[0], want[2]}) {
			t.Fatalf("List at +1500ms: got %+v; want laptop and tablet", got)
		}
		// A Put at a later time drops expired leases but never live ones.
		put(t, s, wsregistry.Conn{User: u, Device: "watch", Host: "h3", Expires: ms(4000)}, ms(2500))
		got := list(t, s, u, ms(2500))
		if len(got) != 2 || got[0].Device != "tablet" || got[1].Device != "watch" {
			t.Fatalf("List at +2500ms: got %+v; want tablet and watch", got)
		}
		if got := list(t, s, Unique("nobody"), ms(0)); len(got) != 0 {
			t.Errorf("List of an unknown user: got %+v; want none", got)
		}
	})
	t.Run("ConcurrentDevices", func(t *testing.T) {
		u := Unique("u")
		var wg sync.WaitGroup
		errs := make(chan error, Goroutines*3)
		for i := range Goroutines {
			s := open(t)
			wg.Go(func() {
				dev := fmt.Sprintf("d%03d", i)
				host := fmt.Sprintf("h%d", i%4)
				if err := s.Put(ctx, wsregistry.Conn{User: u, Device: dev, Host: host, Expires: ms(1000)}, ms(0)); err != nil {
					errs <- err
					return
				}
				if err := s.Renew(ctx, u, dev, host, ms(5000), ms(500)); err != nil {
					errs <- fmt.Errorf("renew %s: %w", dev, err)
				}
				if i%2 == 1 {
					if err := s.Delete(ctx, u, dev, host); err != nil {
						errs <- fmt.Errorf("delete %s: %w", dev, err)
					}
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		got := list(t, open(t), u, ms(4999))
		if len(got) != Goroutines/2 {
			t.Fatalf("got %d leases; want %d", len(got), Goroutines/2)
		}
		for i, c := range got {
			if want := fmt.Sprintf("d%03d", 2*i); c.Device != want || !c.Expires.Equal(ms(5000)) {
				t.Errorf("lease %d: got %+v; want device %s until +5000ms", i, c, want)
			}
		}
	})
	t.Run("RenewRacesTakeover", func(t *testing.T) {
		// One host heartbeats while another takes the device over: after
		// both, the device is on the new host, never renewed back to the
		// old one.
		for range 20 {
			u := Unique("u")
			s1, s2 := open(t), open(t)
			put(t, s1, wsregistry.Conn{User: u, Device: "phone", Host: "old", Expires: ms(1000)}, ms(0))
			var wg sync.WaitGroup
			wg.Go(func() { _ = s1.Renew(ctx, u, "phone", "old", ms(9000), ms(10)) })
			wg.Go(func() { put(t, s2, wsregistry.Conn{User: u, Device: "phone", Host: "new", Expires: ms(2000)}, ms(10)) })
			wg.Wait()
			got := list(t, s1, u, ms(10))
			if len(got) != 1 || got[0].Host != "new" {
				t.Fatalf("got %+v; want the device on the new host", got)
			}
		}
	})
	t.Run("Cancelled", func(t *testing.T) {
		s := open(t)
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		u := Unique("u")
		if err := s.Put(cctx, wsregistry.Conn{User: u, Device: "d", Host: "h", Expires: ms(1000)}, ms(0)); !errors.Is(err, context.Canceled) {
			t.Errorf("Put: got %v; want context.Canceled", err)
		}
		if _, err := s.List(cctx, u, ms(0)); !errors.Is(err, context.Canceled) {
			t.Errorf("List: got %v; want context.Canceled", err)
		}
		if got := list(t, s, u, ms(0)); len(got) != 0 {
			t.Errorf("cancelled Put stored %+v", got)
		}
	})
}

func put(t testing.TB, s wsregistry.Store, c wsregistry.Conn, now time.Time) {
	t.Helper()
	if err := s.Put(context.Background(), c, now); err != nil {
		t.Fatalf("Put %+v: %v", c, err)
	}
}

func list(t testing.TB, s wsregistry.Store, user string, now time.Time) []wsregistry.Conn {
	t.Helper()
	got, err := s.List(context.Background(), user, now)
	if err != nil {
		t.Fatalf("List %s: %v", user, err)
	}
	return got
}

func equalConns(a, b []wsregistry.Conn) bool {
	return slices.EqualFunc(a, b, func(x, y wsregistry.Conn) bool {
		return x.User == y.User && x.Device == y.Device && x.Host == y.Host && x.Expires.Equal(y.Expires)
	})
}
