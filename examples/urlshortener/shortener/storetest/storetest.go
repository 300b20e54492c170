// Package storetest is the conformance suite of the URL shortener's stores:
// every shortener.LinkStore and shortener.ClickCounts implementation runs
// it, memstore in memory and cqlstore against a real Cassandra.
package storetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/sysblocks/sysblocks/examples/urlshortener/shortener"
)

// Stores are the implementations under test. Both may be fresh or shared
// between calls: every case uses codes of its own.
type Stores struct {
	Links  shortener.LinkStore
	Counts shortener.ClickCounts
}

// Run runs every case against the stores that newStores returns.
func Run(t *testing.T, newStores func(t *testing.T) Stores) {
	t.Run("PutGet", func(t *testing.T) { testPutGet(t, newStores(t)) })
	t.Run("Absent", func(t *testing.T) { testAbsent(t, newStores(t)) })
	t.Run("ClaimOnce", func(t *testing.T) { testClaimOnce(t, newStores(t)) })
	t.Run("ClaimRace", func(t *testing.T) { testClaimRace(t, newStores(t)) })
	t.Run("Delete", func(t *testing.T) { testDelete(t, newStores(t)) })
	t.Run("Counts", func(t *testing.T) { testCounts(t, newStores(t)) })
	t.Run("CountsConcurrent", func(t *testing.T) { testCountsConcurrent(t, newStores(t)) })
}

func code(prefix string) string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return prefix + "-" + hex.EncodeToString(b)
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return c
}

var t0 = time.Date(2030, 3, 4, 5, 6, 7, 8_000_000, time.UTC)

func sameLink(t *testing.T, got, want shortener.Link) {
	t.Helper()
	if got.Code != want.Code || got.Target != want.Target || got.Alias != want.Alias ||
		!got.Created.Equal(want.Created) || !got.Expires.Equal(want.Expires) {
		t.Fatalf("got %+v; want %+v", got, want)
	}
}

// Put stores a link that Get returns field for field (times to the
// millisecond), with and without expiry.
func testPutGet(t *testing.T, s Stores) {
	c := ctx(t)
	forever := shortener.Link{Code: code("pg"), Target: "https://example.com/a?b=c", Created: t0}
	expiring := shortener.Link{Code: code("pg"), Target: "http://example.org/", Created: t0, Expires: t0.Add(time.Hour)}
	for _, l := range []shortener.Link{forever, expiring} {
		if err := s.Links.Put(c, l); err != nil {
			t.Fatalf("Put(%s): %v", l.Code, err)
		}
		got, err := s.Links.Get(c, l.Code)
		if err != nil {
			t.Fatalf("Get(%s): %v", l.Code, err)
		}
		sameLink(t, got, l)
	}
}

// Get and Delete of a code never stored return ErrNotFound.
func testAbsent(t *testing.T, s Stores) {
	c := ctx(t)
	k := code("absent")
	if _, err := s.Links.Get(c, k); !errors.Is(err, shortener.ErrNotFound) {
		t.Fatalf("Get(absent) err = %v; want ErrNotFound", err)
	}
	if err := s.Links.Delete(c, k); !errors.Is(err, shortener.ErrNotFound) {
		t.Fatalf("Delete(absent) err = %v; want ErrNotFound", err)
	}
}

// A second Claim of a code returns ErrExists and leaves the first link.
func testClaimOnce(t *testing.T, s Stores) {
	c := ctx(t)
	k := code("claim")
	first := shortener.Link{Code: k, Target: "https://first.example/", Created: t0, Alias: true}
	if err := s.Links.Claim(c, first); err != nil {
		t.Fatalf("first Claim: %v", err)
	}
	second := first
	second.Target = "https://second.example/"
	if err := s.Links.Claim(c, second); !errors.Is(err, shortener.ErrExists) {
		t.Fatalf("second Claim err = %v; want ErrExists", err)
	}
	got, err := s.Links.Get(c, k)
	if err != nil {
		t.Fatal(err)
	}
	sameLink(t, got, first)
}

// Of 50 concurrent Claims of one code exactly one succeeds, the rest get
// ErrExists, and the stored link is the winner's.
func testClaimRace(t *testing.T, s Stores) {
	c := ctx(t)
	k := code("race")
	const n = 50
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			errs[i] = s.Links.Claim(c, shortener.Link{Code: k, Target: fmt.Sprintf("https://claimant%d.example/", i), Created: t0, Alias: true})
		})
	}
	close(start)
	wg.Wait()
	winner := -1
	for i, err := range errs {
		switch {
		case err == nil && winner >= 0:
			t.Fatalf("claimants %d and %d both won", winner, i)
		case err == nil:
			winner = i
		case !errors.Is(err, shortener.ErrExists):
			t.Fatalf("claimant %d: err = %v; want nil or ErrExists", i, err)
		}
	}
	if winner < 0 {
		t.Fatalf("no claimant won")
	}
	got, err := s.Links.Get(c, k)
	if err != nil {
		t.Fatal(err)
	}
	if want := fmt.Sprintf("https://claimant%d.example/", winner); got.Target != want {
		t.Fatalf("stored target %q; want the winner's %q", got.Target, want)
	}
}

// Delete removes a link once; the code can then be claimed again.
func testDelete(t *testing.T, s Stores) {
	c := ctx(t)
	k := code("del")
	l := shortener.Link{Code: k, Target: "https://example.com/", Created: t0, Alias: true}
	if err := s.Links.Claim(c, l); err != nil {
		t.Fatal(err)
	}
	if err := s.Links.Delete(c, k); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if _, err := s.Links.Get(c, k); !errors.Is(err, shortener.ErrNotFound) {
		t.Fatalf("Get after Delete err = %v; want ErrNotFound", err)
	}
	if err := s.Links.Delete(c, k); !errors.Is(err, shortener.ErrNotFound) {
		t.Fatalf("second Delete err = %v; want ErrNotFound", err)
	}
	l.Target = "https://again.example/"
	if err := s.Links.Claim(c, l); err != nil {
		t.Fatalf("Claim after Delete: %v", err)
	}
}

// Counts add up per UTC day, come back oldest first, and a code without
// clicks has none.
func testCounts(t *testing.T, s Stores) {
	c := ctx(t)
	k := code("cnt")
	d1 := time.Date(2030, 1, 2, 23, 59, 0, 0, time.UTC)
	d0 := time.Date(2030, 1, 1, 0, 0, 1, 0, time.UTC)
	for _, a := range []struct {
		day time.Time
		n   int64
	}{{d1, 2}, {d0, 1}, {d1.Add(-time.Hour), 3}, {d0.Add(time.Hour), 4}} {
		if err := s.Counts.Add(c, k, a.day, a.n); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.Counts.Days(c, k)
	if err != nil {
		t.Fatal(err)
	}
	want := []shortener.DayCount{{Day: shortener.Day(d0), Clicks: 5}, {Day: shortener.Day(d1), Clicks: 5}}
	if len(got) != len(want) || !got[0].Day.Equal(want[0].Day) || got[0].Clicks != 5 || !got[1].Day.Equal(want[1].Day) || got[1].Clicks != 5 {
		t.Fatalf("Days = %v; want %v", got, want)
	}
	none, err := s.Counts.Days(c, code("none"))
	if err != nil || len(none) != 0 {
		t.Fatalf("Days(no clicks) = %v, %v; want empty", none, err)
	}
}

// Concurrent Adds lose nothing.
func testCountsConcurrent(t *testing.T, s Stores) {
	c := ctx(t)
	k := code("conc")
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			for range 10 {
				if err := s.Counts.Add(c, k, t0, 1); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	got, err := s.Counts.Days(c, k)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Clicks != 200 {
		t.Fatalf("Days = %v; want one day with 200", got)
	}
}
