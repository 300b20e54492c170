// Package storetest is the conformance suite of [chat.Store], run by
// memstore in memory and sqlstore against MariaDB.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/sysblocks/sysblocks/examples/chat/chat"
)

// Run checks the chat.Store contract on stores returned by newStore, a
// fresh empty one per subtest.
func Run(t *testing.T, newStore func(t *testing.T) chat.Store) {
	ctx := context.Background()
	now := time.UnixMilli(1_700_000_000_000).UTC()
	t.Run("UserRoundTrip", func(t *testing.T) {
		s := newStore(t)
		u := chat.User{Name: "ann", Salt: []byte("salt"), Hash: []byte("hash"), Created: now}
		if err := s.CreateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
		got, err := s.User(ctx, "ann")
		if err != nil || string(got.Hash) != "hash" || string(got.Salt) != "salt" || !got.Created.Equal(now) {
			t.Fatalf("User: got %+v, %v; want %+v", got, err, u)
		}
		// Rule: a second CreateUser of the name is ErrExists and changes nothing.
		if err := s.CreateUser(ctx, chat.User{Name: "ann", Salt: []byte("x"), Hash: []byte("y"), Created: now}); !errors.Is(err, chat.ErrExists) {
			t.Fatalf("CreateUser twice: got %v; want ErrExists", err)
		}
		if got, _ := s.User(ctx, "ann"); string(got.Hash) != "hash" {
			t.Fatalf("after a refused CreateUser: got hash %q; want unchanged", got.Hash)
		}
		if _, err := s.User(ctx, "bob"); !errors.Is(err, chat.ErrNotFound) {
			t.Fatalf("User(absent): got %v; want ErrNotFound", err)
		}
	})
	t.Run("GroupMembers", func(t *testing.T) {
		s := newStore(t)
		g := chat.Group{ID: "g1", Name: "friends", Owner: "ann", Members: []string{"cat", "ann", "bob"}, Created: now}
		if err := s.CreateGroup(ctx, g); err != nil {
			t.Fatal(err)
		}
		if err := s.CreateGroup(ctx, chat.Group{ID: "g1", Name: "other", Owner: "eve", Created: now}); !errors.Is(err, chat.ErrExists) {
			t.Fatalf("CreateGroup twice: got %v; want ErrExists", err)
		}
		for range 2 { // Rule: adding a member twice is not an error.
			if err := s.AddMember(ctx, "g1", "dan"); err != nil {
				t.Fatal(err)
			}
		}
		got, err := s.Group(ctx, "g1")
		want := []string{"ann", "bob", "cat", "dan"}
		if err != nil || got.Name != "friends" || got.Owner != "ann" || !slices.Equal(got.Members, want) {
			t.Fatalf("Group: got %+v, %v; want friends/ann with %v", got, err, want)
		}
		if err := s.AddMember(ctx, "nope", "dan"); !errors.Is(err, chat.ErrNotFound) {
			t.Fatalf("AddMember(absent group): got %v; want ErrNotFound", err)
		}
		if _, err := s.Group(ctx, "nope"); !errors.Is(err, chat.ErrNotFound) {
			t.Fatalf("Group(absent): got %v; want ErrNotFound", err)
		}
		if err := s.CreateGroup(ctx, chat.Group{ID: "g0", Name: "z", Owner: "dan", Members: []string{"dan"}, Created: now}); err != nil {
			t.Fatal(err)
		}
		if ids, err := s.GroupsOf(ctx, "dan"); err != nil || !slices.Equal(ids, []string{"g0", "g1"}) {
			t.Fatalf("GroupsOf(dan): got %v, %v; want [g0 g1]", ids, err)
		}
		if ids, err := s.GroupsOf(ctx, "zed"); err != nil || len(ids) != 0 {
			t.Fatalf("GroupsOf(zed): got %v, %v; want none", ids, err)
		}
	})
	t.Run("ConcurrentCreate", func(t *testing.T) {
		// Rule: of N concurrent CreateUser calls for one name exactly one wins.
		s := newStore(t)
		const n = 16
		var wg sync.WaitGroup
		errs := make([]error, n)
		for i := range n {
			wg.Go(func() {
				errs[i] = s.CreateUser(ctx, chat.User{Name: "race", Salt: []byte{byte(i)}, Hash: []byte(fmt.Sprint(i)), Created: now})
			})
		}
		wg.Wait()
		wins := 0
		for _, err := range errs {
			switch {
			case err == nil:
				wins++
			case !errors.Is(err, chat.ErrExists):
				t.Errorf("CreateUser: got %v; want nil or ErrExists", err)
			}
		}
		if wins != 1 {
			t.Fatalf("winners: got %d; want 1", wins)
		}
		// Concurrent AddMember of distinct users all land.
		if err := s.CreateGroup(ctx, chat.Group{ID: "big", Name: "big", Owner: "o", Created: now}); err != nil {
			t.Fatal(err)
		}
		for i := range n {
			wg.Go(func() {
				if err := s.AddMember(ctx, "big", fmt.Sprintf("u%02d", i)); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		if g, err := s.Group(ctx, "big"); err != nil || len(g.Members) != n {
			t.Fatalf("members after concurrent adds: got %d, %v; want %d", len(g.Members), err, n)
		}
	})
}
