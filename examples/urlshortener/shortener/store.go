package shortener

import (
	"context"
	"time"
)

// ExpiredRetention is how long a store keeps a link after it expires, by
// default, before removing it: during that time the link answers 410 Gone
// instead of 404, and an alias stays taken. Cassandra removes the row with a
// TTL of (expiry - creation) + ExpiredRetention.
const ExpiredRetention = 7 * 24 * time.Hour

// Link is one short link.
type Link struct {
	// Code is the path of the short link: a generated code of the codec's
	// fixed length, or a custom alias.
	Code string
	// Target is the absolute http or https URL the code redirects to.
	Target string
	// Created is when the link was made, on the service's clock.
	Created time.Time
	// Expires is when the link stops redirecting; zero means never.
	Expires time.Time
	// Alias is true for a custom alias, false for a generated code.
	Alias bool
}

// Expired reports whether l has expired at now: expiry is a predicate,
// checked on every read, so it is exact whatever the store's cleanup does.
func (l *Link) Expired(now time.Time) bool {
	return !l.Expires.IsZero() && !now.Before(l.Expires)
}

// LinkStore keeps links by code. It is the storage contract of the
// service; package storetest checks an implementation against it.
// Implementations must be safe for concurrent use.
type LinkStore interface {
	// Put stores a link under a generated code. Generated codes come from
	// a token range and are unique by construction, so Put need not be
	// conditional; it may return an error matching ErrExists if it finds
	// the code taken.
	Put(ctx context.Context, l Link) error

	// Claim stores a link under a custom alias only if no link holds that
	// code, and returns an error matching ErrExists otherwise. Among
	// concurrent Claims of one code exactly one succeeds, and a Claim that
	// returned ErrExists changed nothing. A link that expired still holds
	// its code until the store removes it (see ExpiredRetention).
	Claim(ctx context.Context, l Link) error

	// Get returns the link under code, expired or not, or an error
	// matching ErrNotFound.
	Get(ctx context.Context, code string) (Link, error)

	// Delete removes the link under code, or returns an error matching
	// ErrNotFound when there is none.
	Delete(ctx context.Context, code string) error
}

// DayCount is the number of clicks of one code on one UTC day.
type DayCount struct {
	Day    time.Time // midnight UTC
	Clicks int64
}

// ClickCounts keeps click totals per code per UTC day. Implementations
// must be safe for concurrent use.
type ClickCounts interface {
	// Add adds n clicks to code on the UTC day of day.
	Add(ctx context.Context, code string, day time.Time, n int64) error
	// Days returns the counts of code, oldest day first, without days
	// with no clicks. A code with no clicks gives an empty slice.
	Days(ctx context.Context, code string) ([]DayCount, error)
}

// Day returns midnight UTC of t's UTC day.
func Day(t time.Time) time.Time {
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}
