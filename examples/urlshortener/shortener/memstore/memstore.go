// Package memstore implements the URL shortener's stores in process memory:
// Links (shortener.LinkStore) and Clicks (shortener.ClickCounts). They last
// as long as the process and suit tests and `go run` without servers.
package memstore

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/sysblocks/sysblocks/examples/urlshortener/shortener"
)

// Options configures Links. The zero value is valid.
type Options struct {
	// Retention is how long an expired link is kept (answering 410 and
	// holding its alias) before it counts as absent, as Cassandra's TTL
	// does in cqlstore. Zero means shortener.ExpiredRetention.
	Retention time.Duration
	// Now is the clock of that removal. Nil means time.Now.
	Now func() time.Time
}

// Links is an in-memory shortener.LinkStore. It is safe for concurrent use.
type Links struct {
	retention time.Duration
	now       func() time.Time

	mu sync.RWMutex
	m  map[string]shortener.Link
}

// NewLinks returns an empty store. opts may be nil.
func NewLinks(opts *Options) *Links {
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.Retention <= 0 {
		o.Retention = shortener.ExpiredRetention
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Links{retention: o.Retention, now: o.Now, m: map[string]shortener.Link{}}
}

// gone reports whether l has outlived its retention: it then counts as
// absent (Cassandra's TTL would have removed it).
func (s *Links) gone(l *shortener.Link) bool {
	return !l.Expires.IsZero() && !s.now().Before(l.Expires.Add(s.retention))
}

// Put implements shortener.LinkStore.
func (s *Links) Put(ctx context.Context, l shortener.Link) error {
	return s.insert(ctx, l)
}

// Claim implements shortener.LinkStore: the check and the insert happen
// under one lock, so one of concurrent claimants wins.
func (s *Links) Claim(ctx context.Context, l shortener.Link) error {
	return s.insert(ctx, l)
}

func (s *Links) insert(ctx context.Context, l shortener.Link) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if old, ok := s.m[l.Code]; ok && !s.gone(&old) {
		return fmt.Errorf("memstore: %q: %w", l.Code, shortener.ErrExists)
	}
	s.m[l.Code] = l
	return nil
}

// Get implements shortener.LinkStore.
func (s *Links) Get(ctx context.Context, code string) (shortener.Link, error) {
	if err := ctx.Err(); err != nil {
		return shortener.Link{}, err
	}
	s.mu.RLock()
	l, ok := s.m[code]
	s.mu.RUnlock()
	if !ok || s.gone(&l) {
		return shortener.Link{}, shortener.ErrNotFound
	}
	return l, nil
}

// Delete implements shortener.LinkStore.
func (s *Links) Delete(ctx context.Context, code string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	l, ok := s.m[code]
	if !ok || s.gone(&l) {
		delete(s.m, code)
		return fmt.Errorf("memstore: %q: %w", code, shortener.ErrNotFound)
	}
	delete(s.m, code)
	return nil
}

// Len returns the number of links held, expired ones included.
func (s *Links) Len() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.m)
}

// Clicks is an in-memory shortener.ClickCounts. It is safe for concurrent
// use. The zero value is not usable; call NewClicks.
type Clicks struct {
	mu sync.Mutex
	m  map[string]map[time.Time]int64
}

// NewClicks returns an empty Clicks.
func NewClicks() *Clicks { return &Clicks{m: map[string]map[time.Time]int64{}} }

// Add implements shortener.ClickCounts.
func (c *Clicks) Add(ctx context.Context, code string, day time.Time, n int64) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	d := shortener.Day(day)
	c.mu.Lock()
	defer c.mu.Unlock()
	days := c.m[code]
	if days == nil {
		days = map[time.Time]int64{}
		c.m[code] = days
	}
	days[d] += n
	return nil
}

// Days implements shortener.ClickCounts.
func (c *Clicks) Days(ctx context.Context, code string) ([]shortener.DayCount, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	c.mu.Lock()
	out := make([]shortener.DayCount, 0, len(c.m[code]))
	for d, n := range c.m[code] {
		if n != 0 {
			out = append(out, shortener.DayCount{Day: d, Clicks: n})
		}
	}
	c.mu.Unlock()
	slices.SortFunc(out, func(a, b shortener.DayCount) int { return cmp.Compare(a.Day.Unix(), b.Day.Unix()) })
	return out, nil
}
