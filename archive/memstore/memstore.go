package memstore

import (
	"context"
	"fmt"
	"slices"
	"sync"

	"github.com/sysblocks/sysblocks/archive"
)

// Store is an in-memory [archive.Store]. The zero value is not usable;
// call New. It is safe for concurrent use.
type Store struct {
	mu     sync.RWMutex
	owners map[string][]archive.Record // each sorted by archive.Compare
}

// New returns an empty Store.
func New() *Store { return &Store{owners: make(map[string][]archive.Record)} }

// Put implements [archive.Store]. It copies the records' Data.
func (s *Store) Put(ctx context.Context, recs []archive.Record) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	for _, r := range recs {
		if r.Owner == "" || r.ID == "" || r.At.IsZero() {
			return fmt.Errorf("memstore: put record %q of owner %q at %v: %w", r.ID, r.Owner, r.At, archive.ErrInvalid)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, r := range recs {
		r.At = r.At.UTC()
		r.Data = slices.Clone(r.Data)
		list := s.owners[r.Owner]
		i, found := slices.BinarySearchFunc(list, r, archive.Compare)
		if found {
			list[i] = r
		} else {
			s.owners[r.Owner] = slices.Insert(list, i, r)
		}
	}
	return nil
}

// List implements [archive.Lister]. The records returned share no memory
// with the store.
func (s *Store) List(ctx context.Context, owner string, after archive.Cursor, limit int) ([]archive.Record, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if limit < 1 {
		return nil, fmt.Errorf("memstore: list %q: limit %d: %w", owner, limit, archive.ErrInvalid)
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	list := s.owners[owner]
	i := 0
	if !after.IsZero() {
		i, _ = slices.BinarySearchFunc(list, archive.Record{At: after.At, ID: after.ID}, archive.Compare)
		if i < len(list) && !after.After(list[i]) {
			i++ // the record at the cursor itself
		}
	}
	list = list[i:min(len(list), i+limit)]
	out := make([]archive.Record, len(list))
	for j, r := range list {
		r.Data = slices.Clone(r.Data)
		out[j] = r
	}
	return out, nil
}

// Len returns the number of records stored.
func (s *Store) Len() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	n := 0
	for _, l := range s.owners {
		n += len(l)
	}
	return n
}
