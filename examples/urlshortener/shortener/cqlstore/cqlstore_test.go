package cqlstore_test

import (
	"context"
	"testing"
	"time"

	"github.com/sysblocks/sysblocks/examples/urlshortener/shortener"
	"github.com/sysblocks/sysblocks/examples/urlshortener/shortener/cqlstore"
	"github.com/sysblocks/sysblocks/examples/urlshortener/shortener/storetest"
	"github.com/sysblocks/sysblocks/internal/testenv"
)

func TestConformance(t *testing.T) {
	env := testenv.Cassandra(t)
	s := cqlstore.New(env.Session, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := s.CreateSchema(ctx); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateSchema(ctx); err != nil {
		t.Fatalf("second CreateSchema: %v", err)
	}
	storetest.Run(t, func(t *testing.T) storetest.Stores { return storetest.Stores{Links: s, Counts: s} })
}

// Rows of expiring links carry a TTL of (expiry - creation) + retention;
// links without expiry, or whose TTL would end past 2038, carry none.
func TestTTL(t *testing.T) {
	env := testenv.Cassandra(t)
	s := cqlstore.New(env.Session, &cqlstore.Options{Retention: time.Hour})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := s.CreateSchema(ctx); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC().Truncate(time.Millisecond)
	cases := []struct {
		l        shortener.Link
		min, max int
	}{
		{shortener.Link{Code: "forever", Target: "https://a.example/", Created: now}, 0, 0},
		{shortener.Link{Code: "soon", Target: "https://a.example/", Created: now, Expires: now.Add(time.Minute)}, 3500, 3660},
		{shortener.Link{Code: "far", Target: "https://a.example/", Created: now, Expires: time.Date(2040, 1, 1, 0, 0, 0, 0, time.UTC)}, 0, 0},
	}
	for _, c := range cases {
		if err := s.Put(ctx, c.l); err != nil {
			t.Fatal(err)
		}
		var ttl *int
		if err := env.Session.Query(`SELECT TTL(target) FROM links WHERE code = ?`, c.l.Code).ScanContext(ctx, &ttl); err != nil {
			t.Fatal(err)
		}
		got := 0
		if ttl != nil {
			got = *ttl
		}
		if got < c.min || got > c.max {
			t.Errorf("%s: TTL %d; want within [%d, %d]", c.l.Code, got, c.min, c.max)
		}
	}
}
