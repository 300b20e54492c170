package memstore_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/sysblocks/sysblocks/examples/urlshortener/shortener"
	"github.com/sysblocks/sysblocks/examples/urlshortener/shortener/memstore"
	"github.com/sysblocks/sysblocks/examples/urlshortener/shortener/storetest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) storetest.Stores {
		return storetest.Stores{Links: memstore.NewLinks(nil), Counts: memstore.NewClicks()}
	})
}

// An expired link is kept for Retention (answering Get, holding its
// alias) and then counts as absent, as a Cassandra TTL would remove it.
func TestRetention(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	s := memstore.NewLinks(&memstore.Options{Retention: time.Hour, Now: func() time.Time { return now }})
	l := shortener.Link{Code: "sale", Target: "https://a.example/", Created: now, Expires: now.Add(time.Minute), Alias: true}
	if err := s.Claim(ctx, l); err != nil {
		t.Fatal(err)
	}
	now = now.Add(time.Minute + time.Hour - time.Nanosecond)
	if _, err := s.Get(ctx, "sale"); err != nil {
		t.Fatalf("Get within retention: %v", err)
	}
	if err := s.Claim(ctx, l); !errors.Is(err, shortener.ErrExists) {
		t.Fatalf("Claim within retention err = %v; want ErrExists", err)
	}
	now = now.Add(time.Nanosecond)
	if _, err := s.Get(ctx, "sale"); !errors.Is(err, shortener.ErrNotFound) {
		t.Fatalf("Get after retention err = %v; want ErrNotFound", err)
	}
	l.Target = "https://b.example/"
	if err := s.Claim(ctx, l); err != nil {
		t.Fatalf("Claim after retention: %v", err)
	}
}

func TestCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	s := memstore.NewLinks(nil)
	if err := s.Put(ctx, shortener.Link{Code: "x"}); !errors.Is(err, context.Canceled) {
		t.Fatalf("Put on a cancelled ctx err = %v; want context.Canceled", err)
	}
	if s.Len() != 0 {
		t.Fatalf("Len = %d after a cancelled Put; want 0", s.Len())
	}
}
