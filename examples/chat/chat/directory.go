package chat

import (
	"context"
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/sysblocks/sysblocks/cache"
)

// MaxGroupMembers bounds the size of a group.
const MaxGroupMembers = 256

// Directory is the user service and the group service: accounts with
// passwords, groups and their members, read through a cache (the Redis
// cache of the design notes) in front of the Store. It is safe for
// concurrent use.
type Directory struct {
	store   Store
	members *cache.Cache[[]string]
	users   *cache.Cache[string]
	now     func() time.Time
}

// NewDirectory returns a Directory on store, caching member lists and user
// existence in cacheStore (cache/memstore or cache/redisstore). opts may be
// nil; its Now is the clock of account and group creation.
func NewDirectory(store Store, cacheStore cache.Store, opts *cache.Options) (*Directory, error) {
	var o cache.Options
	if opts != nil {
		o = *opts
	}
	if o.TTL == 0 {
		o.TTL = time.Minute
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	d := &Directory{store: store, now: o.Now}
	var err error
	d.members, err = cache.New(cacheStore, cache.JSONCodec[[]string]{}, func(ctx context.Context, key string) ([]string, error) {
		g, err := store.Group(ctx, key[len("members:"):])
		if errors.Is(err, ErrNotFound) {
			return nil, cache.ErrNotFound
		}
		return g.Members, err
	}, &o)
	if err != nil {
		return nil, err
	}
	d.users, err = cache.New(cacheStore, cache.StringCodec{}, func(ctx context.Context, key string) (string, error) {
		u, err := store.User(ctx, key[len("user:"):])
		if errors.Is(err, ErrNotFound) {
			return "", cache.ErrNotFound
		}
		return u.Name, err
	}, &o)
	if err != nil {
		return nil, err
	}
	return d, nil
}

// ValidName reports whether s is a valid user or group name: 1 to 32
// ASCII letters, digits, '-', '_' or '.'.
func ValidName(s string) bool {
	if s == "" || len(s) > 32 {
		return false
	}
	for _, c := range []byte(s) {
		if !(c == '-' || c == '_' || c == '.' || '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z') {
			return false
		}
	}
	return true
}

func hashPassword(password string, salt []byte) []byte {
	h, _ := pbkdf2.Key(sha256.New, password, salt, 4096, 32) // only fails for FIPS-disallowed parameters
	return h
}

// Login checks the password of user, creating the account on its first
// login. It returns an error matching ErrForbidden for a wrong password and
// ErrInvalid for a malformed name or an empty password.
func (d *Directory) Login(ctx context.Context, user, password string) error {
	if !ValidName(user) || password == "" || len(password) > 256 {
		return fmt.Errorf("chat: login %q: %w", user, ErrInvalid)
	}
	u, err := d.store.User(ctx, user)
	if errors.Is(err, ErrNotFound) {
		salt := make([]byte, 16)
		_, _ = rand.Read(salt)
		err = d.store.CreateUser(ctx, User{Name: user, Salt: salt, Hash: hashPassword(password, salt), Created: d.now().UTC()})
		if err == nil {
			_ = d.users.Delete(ctx, "user:"+user) // drop a negative entry
			return nil
		}
		if !errors.Is(err, ErrExists) {
			return err
		}
		u, err = d.store.User(ctx, user) // lost a race with another first login
	}
	if err != nil {
		return err
	}
	if !hmac.Equal(hashPassword(password, u.Salt), u.Hash) {
		return fmt.Errorf("chat: login %q: %w", user, ErrForbidden)
	}
	return nil
}

// UserExists reports whether user has an account, through the cache
// (absence is cached too, for the cache's negative TTL).
func (d *Directory) UserExists(ctx context.Context, user string) (bool, error) {
	if !ValidName(user) {
		return false, nil
	}
	_, err := d.users.Get(ctx, "user:"+user)
	if errors.Is(err, cache.ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}

// CreateGroup creates a group owned by owner with the given members (the
// owner is always one). Every member must have an account.
func (d *Directory) CreateGroup(ctx context.Context, id, name, owner string, members []string) (Group, error) {
	if !ValidName(id) || name == "" || len(name) > 128 {
		return Group{}, fmt.Errorf("chat: create group %q: %w", id, ErrInvalid)
	}
	all := slices.Compact(slices.Sorted(slices.Values(append([]string{owner}, members...))))
	if len(all) > MaxGroupMembers {
		return Group{}, fmt.Errorf("chat: create group %q: %d members: %w", id, len(all), ErrTooLarge)
	}
	for _, m := range all {
		ok, err := d.UserExists(ctx, m)
		if err != nil {
			return Group{}, err
		}
		if !ok {
			return Group{}, fmt.Errorf("chat: create group %q: member %q: %w", id, m, ErrNotFound)
		}
	}
	g := Group{ID: id, Name: name, Owner: owner, Members: all, Created: d.now().UTC()}
	if err := d.store.CreateGroup(ctx, g); err != nil {
		return Group{}, err
	}
	_ = d.members.Delete(ctx, "members:"+id) // drop a negative entry
	return g, nil
}

// AddMember adds user to group on behalf of by, who must be a member.
func (d *Directory) AddMember(ctx context.Context, group, by, user string) error {
	if ok, err := d.IsMember(ctx, group, by); err != nil {
		return err
	} else if !ok {
		return fmt.Errorf("chat: add to %q: %q is not a member: %w", group, by, ErrForbidden)
	}
	if ok, err := d.UserExists(ctx, user); err != nil {
		return err
	} else if !ok {
		return fmt.Errorf("chat: add to %q: user %q: %w", group, user, ErrNotFound)
	}
	if err := d.store.AddMember(ctx, group, user); err != nil {
		return err
	}
	return d.members.Delete(ctx, "members:"+group)
}

// Members returns the sorted members of group through the cache, or an
// error matching ErrNotFound.
func (d *Directory) Members(ctx context.Context, group string) ([]string, error) {
	if !ValidName(group) {
		return nil, fmt.Errorf("chat: group %q: %w", group, ErrNotFound)
	}
	m, err := d.members.Get(ctx, "members:"+group)
	if errors.Is(err, cache.ErrNotFound) {
		return nil, fmt.Errorf("chat: group %q: %w", group, ErrNotFound)
	}
	return m, err
}

// IsMember reports whether user belongs to group; a missing group is an
// error matching ErrNotFound.
func (d *Directory) IsMember(ctx context.Context, group, user string) (bool, error) {
	m, err := d.Members(ctx, group)
	if err != nil {
		return false, err
	}
	_, ok := slices.BinarySearch(m, user)
	return ok, nil
}

// Group returns group with its members (from the store, not the cache).
func (d *Directory) Group(ctx context.Context, id string) (Group, error) {
	return d.store.Group(ctx, id)
}

// GroupsOf returns the groups user belongs to.
func (d *Directory) GroupsOf(ctx context.Context, user string) ([]string, error) {
	return d.store.GroupsOf(ctx, user)
}

// CacheStats returns the counters of the member-list cache.
func (d *Directory) CacheStats() cache.Stats { return d.members.Stats() }
