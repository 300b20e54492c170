package chat

import (
	"context"
	"time"
)

// User is an account of the user service.
type User struct {
	Name    string
	Salt    []byte // random salt of the password hash
	Hash    []byte // PBKDF2-SHA256 of the password
	Created time.Time
}

// Group is a chat group and its members.
type Group struct {
	ID      string
	Name    string
	Owner   string
	Members []string // sorted
	Created time.Time
}

// Store keeps users and groups: the user service and the group service of
// the design notes (MariaDB in the real setup, memory in tests). Methods
// must be safe for concurrent use.
type Store interface {
	// CreateUser stores u. It returns an error matching ErrExists if a user
	// of that name exists, leaving it unchanged.
	CreateUser(ctx context.Context, u User) error
	// User returns the user called name, or an error matching ErrNotFound.
	User(ctx context.Context, name string) (User, error)
	// CreateGroup stores g with its members. It returns an error matching
	// ErrExists if the ID is taken, leaving that group unchanged.
	CreateGroup(ctx context.Context, g Group) error
	// AddMember adds user to group (adding a member twice is not an error).
	// It returns an error matching ErrNotFound if the group does not exist.
	AddMember(ctx context.Context, group, user string) error
	// Group returns the group with its members sorted, or an error matching
	// ErrNotFound.
	Group(ctx context.Context, id string) (Group, error)
	// GroupsOf returns the IDs of the groups user belongs to, sorted.
	GroupsOf(ctx context.Context, user string) ([]string, error)
}
