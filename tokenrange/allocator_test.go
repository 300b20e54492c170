package tokenrange_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/sysblocks/sysblocks/tokenrange"
	"github.com/sysblocks/sysblocks/tokenrange/memstore"
)

func TestValidNamespace(t *testing.T) {
	for _, ok := range []string{"links", "a", "tenant-1:links.v2_x", strings.Repeat("z", 64)} {
		if !tokenrange.ValidNamespace(ok) {
			t.Errorf("ValidNamespace(%q) = false; want true", ok)
		}
	}
	for _, bad := range []string{"", "has space", "slash/", "é", strings.Repeat("z", 65), "nul\x00", "star*"} {
		if tokenrange.ValidNamespace(bad) {
			t.Errorf("ValidNamespace(%q) = true; want false", bad)
		}
	}
}

// TestAllocatorValidation checks that bad arguments are rejected with
// ErrInvalid before the store is touched.
func TestAllocatorValidation(t *testing.T) {
	if _, err := tokenrange.NewAllocator(memstore.New(), &tokenrange.AllocatorOptions{Limit: tokenrange.MaxLimit + 1}); !errors.Is(err, tokenrange.ErrInvalid) {
		t.Errorf("limit above MaxLimit: err %v; want ErrInvalid", err)
	}
	if _, err := tokenrange.NewAllocator(nil, nil); !errors.Is(err, tokenrange.ErrInvalid) {
		t.Errorf("nil store: err %v; want ErrInvalid", err)
	}
	s := memstore.New()
	a, err := tokenrange.NewAllocator(s, nil)
	if err != nil {
		t.Fatal(err)
	}
	if a.Limit() != tokenrange.MaxLimit {
		t.Errorf("default Limit = %d; want MaxLimit", a.Limit())
	}
	ctx := context.Background()
	for _, tc := range []struct {
		ns string
		n  uint64
	}{{"", 1}, {"bad name", 1}, {"ok", 0}, {"ok", tokenrange.MaxRangeSize + 1}} {
		if _, err := a.Allocate(ctx, tc.ns, tc.n); !errors.Is(err, tokenrange.ErrInvalid) {
			t.Errorf("Allocate(%q, %d): err %v; want ErrInvalid", tc.ns, tc.n, err)
		}
	}
	if c, _ := s.Counter(ctx, "ok"); c != 0 {
		t.Errorf("rejected calls moved the counter to %d", c)
	}
	if _, err := tokenrange.NewLeaser(a, "bad name", nil); !errors.Is(err, tokenrange.ErrInvalid) {
		t.Errorf("NewLeaser with a bad namespace: err %v; want ErrInvalid", err)
	}
	if _, err := tokenrange.NewLeaser(nil, "ok", nil); !errors.Is(err, tokenrange.ErrInvalid) {
		t.Errorf("NewLeaser with nil allocator: err %v; want ErrInvalid", err)
	}
}

// TestAllocatorRetriesConflicts checks that ErrConflict is retried up to
// MaxAttempts and other errors are not retried.
func TestAllocatorRetriesConflicts(t *testing.T) {
	ctx := context.Background()
	conflict := fmt.Errorf("fake: deadlock: %w", tokenrange.ErrConflict)

	s := newFlakyStore(3, conflict)
	a, _ := tokenrange.NewAllocator(s, &tokenrange.AllocatorOptions{Backoff: time.Microsecond})
	r, err := a.Allocate(ctx, "links", 10)
	if err != nil || r != (tokenrange.Range{Lo: 0, Hi: 10}) || s.callCount() != 4 {
		t.Fatalf("after 3 conflicts: %v, %v after %d calls; want [0, 10) after 4", r, err, s.callCount())
	}

	s = newFlakyStore(10, conflict)
	a, _ = tokenrange.NewAllocator(s, &tokenrange.AllocatorOptions{Backoff: time.Microsecond, MaxAttempts: 3})
	if _, err := a.Allocate(ctx, "links", 10); !errors.Is(err, tokenrange.ErrConflict) || s.callCount() != 3 {
		t.Fatalf("persistent conflict: err %v after %d calls; want ErrConflict after 3", err, s.callCount())
	}

	other := errors.New("fake: connection refused")
	s = newFlakyStore(1, other)
	a, _ = tokenrange.NewAllocator(s, &tokenrange.AllocatorOptions{Backoff: time.Microsecond})
	if _, err := a.Allocate(ctx, "links", 10); !errors.Is(err, other) || s.callCount() != 1 {
		t.Fatalf("other error: err %v after %d calls; want it returned after 1", err, s.callCount())
	}

	s = newFlakyStore(100, conflict)
	a, _ = tokenrange.NewAllocator(s, &tokenrange.AllocatorOptions{Backoff: time.Hour})
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := a.Allocate(cctx, "links", 10); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled context: err %v; want context.Canceled", err)
	}
}

// TestAllocatorChecksStore checks that a range breaking the contract is
// reported, not passed on.
func TestAllocatorChecksStore(t *testing.T) {
	ctx := context.Background()
	for _, r := range []tokenrange.Range{{Lo: 5, Hi: 5}, {Lo: 0, Hi: 11}, {Lo: 995, Hi: 1001}} {
		a, _ := tokenrange.NewAllocator(badStore{r}, &tokenrange.AllocatorOptions{Limit: 1000})
		if got, err := a.Allocate(ctx, "links", 10); err == nil {
			t.Errorf("store returned %v for 10 tokens below 1000: Allocate = %v, nil; want an error", r, got)
		}
	}
}

func TestAllocatorRemaining(t *testing.T) {
	ctx := context.Background()
	a, _ := tokenrange.NewAllocator(memstore.New(), &tokenrange.AllocatorOptions{Limit: 100})
	if _, err := a.Allocate(ctx, "links", 30); err != nil {
		t.Fatal(err)
	}
	if n, err := a.Remaining(ctx, "links"); n != 70 || err != nil {
		t.Fatalf("Remaining = %d, %v; want 70", n, err)
	}
}
