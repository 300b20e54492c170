// Package sqlstore is the MariaDB/MySQL adapter of [chat.Store]: the user
// service and the group service of the design notes, in the tables
// chat_users, chat_groups and chat_members. A group and its first members
// are written in one transaction. Times are stored as Unix milliseconds.
package sqlstore

import (
	"context"
	"database/sql"
	_ "embed"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/sysblocks/sysblocks/examples/chat/chat"
)

//go:embed schema.sql
var schema string

// Store is a chat.Store on a *sql.DB. It is safe for concurrent use; it
// never closes the database.
type Store struct {
	db *sql.DB
}

// New returns a Store on db, which must reach a MySQL-protocol server.
func New(db *sql.DB) *Store { return &Store{db: db} }

// CreateSchema creates the tables if they do not exist.
func (s *Store) CreateSchema(ctx context.Context) error {
	for _, stmt := range strings.Split(schema, ";") {
		if strings.TrimSpace(stmt) == "" {
			continue
		}
		if _, err := s.db.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("sqlstore: create schema: %w", err)
		}
	}
	return nil
}

func duplicate(err error) bool {
	var me *mysql.MySQLError
	return errors.As(err, &me) && me.Number == 1062 // ER_DUP_ENTRY
}

// CreateUser implements chat.Store.
func (s *Store) CreateUser(ctx context.Context, u chat.User) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO chat_users (name, salt, hash, created_ms) VALUES (?, ?, ?, ?)`,
		u.Name, u.Salt, u.Hash, u.Created.UnixMilli())
	if duplicate(err) {
		return fmt.Errorf("sqlstore: user %q: %w", u.Name, chat.ErrExists)
	}
	if err != nil {
		return fmt.Errorf("sqlstore: create user %q: %w", u.Name, err)
	}
	return nil
}

// User implements chat.Store.
func (s *Store) User(ctx context.Context, name string) (chat.User, error) {
	u := chat.User{Name: name}
	var created int64
	err := s.db.QueryRowContext(ctx, `SELECT salt, hash, created_ms FROM chat_users WHERE name = ?`, name).
		Scan(&u.Salt, &u.Hash, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return chat.User{}, fmt.Errorf("sqlstore: user %q: %w", name, chat.ErrNotFound)
	}
	if err != nil {
		return chat.User{}, fmt.Errorf("sqlstore: user %q: %w", name, err)
	}
	u.Created = time.UnixMilli(created).UTC()
	return u, nil
}

// CreateGroup implements chat.Store.
func (s *Store) CreateGroup(ctx context.Context, g chat.Group) (err error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlstore: create group %q: %w", g.ID, err)
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	_, err = tx.ExecContext(ctx, `INSERT INTO chat_groups (id, name, owner, created_ms) VALUES (?, ?, ?, ?)`,
		g.ID, g.Name, g.Owner, g.Created.UnixMilli())
	if duplicate(err) {
		return fmt.Errorf("sqlstore: group %q: %w", g.ID, chat.ErrExists)
	}
	if err != nil {
		return fmt.Errorf("sqlstore: create group %q: %w", g.ID, err)
	}
	for _, m := range g.Members {
		if _, err = tx.ExecContext(ctx, `INSERT IGNORE INTO chat_members (group_id, user) VALUES (?, ?)`, g.ID, m); err != nil {
			return fmt.Errorf("sqlstore: create group %q: %w", g.ID, err)
		}
	}
	if err = tx.Commit(); err != nil {
		return fmt.Errorf("sqlstore: create group %q: %w", g.ID, err)
	}
	return nil
}

// AddMember implements chat.Store.
func (s *Store) AddMember(ctx context.Context, group, user string) error {
	res, err := s.db.ExecContext(ctx, `INSERT IGNORE INTO chat_members (group_id, user)
		SELECT id, ? FROM chat_groups WHERE id = ?`, user, group)
	if err != nil {
		return fmt.Errorf("sqlstore: add %q to %q: %w", user, group, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		var one int
		err := s.db.QueryRowContext(ctx, `SELECT 1 FROM chat_groups WHERE id = ?`, group).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("sqlstore: group %q: %w", group, chat.ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("sqlstore: add %q to %q: %w", user, group, err)
		}
	}
	return nil
}

// Group implements chat.Store.
func (s *Store) Group(ctx context.Context, id string) (chat.Group, error) {
	g := chat.Group{ID: id}
	var created int64
	err := s.db.QueryRowContext(ctx, `SELECT name, owner, created_ms FROM chat_groups WHERE id = ?`, id).
		Scan(&g.Name, &g.Owner, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return chat.Group{}, fmt.Errorf("sqlstore: group %q: %w", id, chat.ErrNotFound)
	}
	if err != nil {
		return chat.Group{}, fmt.Errorf("sqlstore: group %q: %w", id, err)
	}
	g.Created = time.UnixMilli(created).UTC()
	rows, err := s.db.QueryContext(ctx, `SELECT user FROM chat_members WHERE group_id = ? ORDER BY user`, id)
	if err != nil {
		return chat.Group{}, fmt.Errorf("sqlstore: group %q: %w", id, err)
	}
	defer rows.Close()
	for rows.Next() {
		var m string
		if err := rows.Scan(&m); err != nil {
			return chat.Group{}, fmt.Errorf("sqlstore: group %q: %w", id, err)
		}
		g.Members = append(g.Members, m)
	}
	if err := rows.Err(); err != nil {
		return chat.Group{}, fmt.Errorf("sqlstore: group %q: %w", id, err)
	}
	return g, nil
}

// GroupsOf implements chat.Store.
func (s *Store) GroupsOf(ctx context.Context, user string) ([]string, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT group_id FROM chat_members WHERE user = ? ORDER BY group_id`, user)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: groups of %q: %w", user, err)
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("sqlstore: groups of %q: %w", user, err)
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlstore: groups of %q: %w", user, err)
	}
	return ids, nil
}
