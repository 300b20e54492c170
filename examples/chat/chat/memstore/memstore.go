// Package memstore is the in-memory [chat.Store]: users and groups in maps,
// for tests and the single-process mode of the chat example.
package memstore

import (
	"context"
	"fmt"
	"slices"
	"sync"

	"github.com/sysblocks/sysblocks/examples/chat/chat"
)

// Store is a chat.Store in process memory. It is safe for concurrent use.
type Store struct {
	mu     sync.Mutex
	users  map[string]chat.User
	groups map[string]chat.Group
}

// New returns an empty Store.
func New() *Store {
	return &Store{users: map[string]chat.User{}, groups: map[string]chat.Group{}}
}

// CreateUser implements chat.Store.
func (s *Store) CreateUser(ctx context.Context, u chat.User) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.users[u.Name]; ok {
		return fmt.Errorf("memstore: user %q: %w", u.Name, chat.ErrExists)
	}
	u.Salt, u.Hash = slices.Clone(u.Salt), slices.Clone(u.Hash)
	s.users[u.Name] = u
	return nil
}

// User implements chat.Store.
func (s *Store) User(ctx context.Context, name string) (chat.User, error) {
	if err := ctx.Err(); err != nil {
		return chat.User{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ok := s.users[name]
	if !ok {
		return chat.User{}, fmt.Errorf("memstore: user %q: %w", name, chat.ErrNotFound)
	}
	return u, nil
}

// CreateGroup implements chat.Store.
func (s *Store) CreateGroup(ctx context.Context, g chat.Group) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.groups[g.ID]; ok {
		return fmt.Errorf("memstore: group %q: %w", g.ID, chat.ErrExists)
	}
	g.Members = slices.Compact(slices.Sorted(slices.Values(g.Members)))
	s.groups[g.ID] = g
	return nil
}

// AddMember implements chat.Store.
func (s *Store) AddMember(ctx context.Context, group, user string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	g, ok := s.groups[group]
	if !ok {
		return fmt.Errorf("memstore: group %q: %w", group, chat.ErrNotFound)
	}
	if i, found := slices.BinarySearch(g.Members, user); !found {
		g.Members = slices.Insert(slices.Clone(g.Members), i, user)
		s.groups[group] = g
	}
	return nil
}

// Group implements chat.Store.
func (s *Store) Group(ctx context.Context, id string) (chat.Group, error) {
	if err := ctx.Err(); err != nil {
		return chat.Group{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	g, ok := s.groups[id]
	if !ok {
		return chat.Group{}, fmt.Errorf("memstore: group %q: %w", id, chat.ErrNotFound)
	}
	g.Members = slices.Clone(g.Members)
	return g, nil
}

// GroupsOf implements chat.Store.
func (s *Store) GroupsOf(ctx context.Context, user string) ([]string, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var ids []string
	for id, g := range s.groups {
		if _, found := slices.BinarySearch(g.Members, user); found {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	return ids, nil
}
