package cache

import (
	"bytes"
	"context"
	"errors"
	"sync"
	"testing"
	"time"
)

// Rule: encode then decode returns the same entry, for every kind.
func TestEntryRoundTrip(t *testing.T) {
	exp := time.Date(2030, 1, 1, 0, 0, 0, 123, time.UTC)
	for _, tc := range []struct {
		kind    entryKind
		payload []byte
	}{{kindValue, []byte("https://example.com")}, {kindValue, nil}, {kindNotFound, nil}, {kindFailed, []byte("db down")}} {
		b := appendEntry(nil, tc.kind, exp, tc.payload)
		e, err := decodeEntry(b)
		if err != nil || e.kind != tc.kind || e.expires != exp.UnixNano() || !bytes.Equal(e.payload, tc.payload) {
			t.Fatalf("decode(encode(%d, %q)) = %+v, %v", tc.kind, tc.payload, e, err)
		}
		if !e.fresh(exp.Add(-1)) || e.fresh(exp) {
			t.Fatalf("fresh: want true 1ns before expiry and false at it")
		}
	}
}

// mapStore is a minimal Store for tests inside the package.
type mapStore struct {
	mu sync.Mutex
	m  map[string][]byte
}

func (s *mapStore) Get(_ context.Context, k string) ([]byte, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.m[k]
	return bytes.Clone(v), ok, nil
}

func (s *mapStore) Set(_ context.Context, k string, v []byte, _ time.Duration) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.m[k] = bytes.Clone(v)
	return nil
}

func (s *mapStore) Delete(_ context.Context, k string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.m, k)
	return nil
}

// FuzzDecodeEntry feeds arbitrary stored bytes to the decoder and to Get:
// decoding never panics, what decodes re-encodes to the same bytes, and
// Get answers with a value, ErrNotFound, a *LoadError, or a reload.
func FuzzDecodeEntry(f *testing.F) {
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	f.Add(appendEntry(nil, kindValue, now.Add(time.Hour), []byte("v")))
	f.Add(appendEntry(nil, kindNotFound, now.Add(time.Hour), nil))
	f.Add(appendEntry(nil, kindFailed, now.Add(time.Hour), []byte("boom")))
	f.Add(appendEntry(nil, kindValue, now.Add(-time.Hour), []byte("old")))
	f.Add([]byte{})
	f.Add([]byte{1})
	f.Add([]byte("plain"))
	f.Add([]byte{2, 0, 0, 0, 0, 0, 0, 0, 0, 'x'})
	f.Fuzz(func(t *testing.T, b []byte) {
		if e, err := decodeEntry(b); err == nil {
			again := appendEntry(nil, e.kind, time.Unix(0, e.expires), e.payload)
			if !bytes.Equal(again, b) {
				t.Fatalf("re-encode of %q = %q", b, again)
			}
		}
		s := &mapStore{m: map[string][]byte{"k": bytes.Clone(b)}}
		c, err := New(s, StringCodec{}, func(context.Context, string) (string, error) { return "loaded", nil },
			&Options{Now: func() time.Time { return now }})
		if err != nil {
			t.Fatal(err)
		}
		v, err := c.Get(context.Background(), "k")
		var le *LoadError
		switch {
		case err == nil, err == ErrNotFound:
		case errors.As(err, &le) && le.Cached:
		default:
			t.Fatalf("Get over %q = %q, %v", b, v, err)
		}
		if err == nil && v != "loaded" {
			if e, derr := decodeEntry(b); derr != nil || e.kind != kindValue || string(e.payload) != v {
				t.Fatalf("Get over %q = %q: neither the stored value nor a reload", b, v)
			}
		}
	})
}
