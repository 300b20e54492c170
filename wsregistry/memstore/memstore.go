package memstore

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/sysblocks/sysblocks/wsregistry"
)

// Store is a wsregistry.Store in memory.
type Store struct {
	mu    sync.Mutex
	users map[string]map[string]wsregistry.Conn // user -> device -> lease
}

var _ wsregistry.Store = (*Store)(nil)

// New returns an empty Store.
func New() *Store { return &Store{users: make(map[string]map[string]wsregistry.Conn)} }

// Put creates or replaces the lease of (c.User, c.Device) and drops the
// user's expired leases.
func (s *Store) Put(ctx context.Context, c wsregistry.Conn, now time.Time) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	devs := s.users[c.User]
	if devs == nil {
		devs = make(map[string]wsregistry.Conn)
		s.users[c.User] = devs
	}
	for d, old := range devs {
		if !old.Expires.After(now) {
			delete(devs, d)
		}
	}
	devs[c.Device] = c
	return nil
}

// Renew extends a live lease held by host.
func (s *Store) Renew(ctx context.Context, user, device, host string, expires, now time.Time) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.users[user][device]
	if !ok || c.Host != host || !c.Expires.After(now) {
		return fmt.Errorf("memstore: renew %s/%s on %s: %w", user, device, host, wsregistry.ErrNotFound)
	}
	c.Expires = expires
	s.users[user][device] = c
	return nil
}

// Delete removes the lease of (user, device) if host holds it.
func (s *Store) Delete(ctx context.Context, user, device, host string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.users[user][device]
	if !ok || c.Host != host {
		return fmt.Errorf("memstore: delete %s/%s on %s: %w", user, device, host, wsregistry.ErrNotFound)
	}
	delete(s.users[user], device)
	if len(s.users[user]) == 0 {
		delete(s.users, user)
	}
	return nil
}

// List returns the leases of user live at now, sorted by device.
func (s *Store) List(ctx context.Context, user string, now time.Time) ([]wsregistry.Conn, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []wsregistry.Conn
	for _, c := range s.users[user] {
		if c.Expires.After(now) {
			out = append(out, c)
		}
	}
	slices.SortFunc(out, func(a, b wsregistry.Conn) int { return cmp.Compare(a.Device, b.Device) })
	return out, nil
}

// Inbox is a wsregistry.Inbox in memory.
type Inbox struct {
	mu    sync.Mutex
	users map[string][]wsregistry.Message // sorted by (Conv, Seq)
}

var _ wsregistry.Inbox = (*Inbox)(nil)

// NewInbox returns an empty Inbox.
func NewInbox() *Inbox { return &Inbox{users: make(map[string][]wsregistry.Message)} }

func compareKey(conv string, seq uint64, m *wsregistry.Message) int {
	if c := cmp.Compare(m.Conv, conv); c != 0 {
		return c
	}
	return cmp.Compare(m.Seq, seq)
}

// Append stores a copy of m under (m.To, m.Conv, m.Seq).
func (b *Inbox) Append(ctx context.Context, m wsregistry.Message) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.Body = slices.Clone(m.Body)
	b.mu.Lock()
	defer b.mu.Unlock()
	list := b.users[m.To]
	i, found := slices.BinarySearchFunc(list, m, func(e, t wsregistry.Message) int { return compareKey(t.Conv, t.Seq, &e) })
	if found {
		list[i] = m
		return nil
	}
	b.users[m.To] = slices.Insert(list, i, m)
	return nil
}

// Scan returns up to limit messages of user strictly after the position.
func (b *Inbox) Scan(ctx context.Context, user string, after wsregistry.Position, limit int) ([]wsregistry.Message, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	list := b.users[user]
	i, found := slices.BinarySearchFunc(list, after, func(e wsregistry.Message, p wsregistry.Position) int {
		return compareKey(p.Conv, p.Seq, &e)
	})
	if found {
		i++
	}
	out := make([]wsregistry.Message, 0, min(limit, len(list)-i))
	for ; i < len(list) && len(out) < limit; i++ {
		m := list[i]
		m.Body = slices.Clone(m.Body)
		out = append(out, m)
	}
	return out, nil
}

// Delete removes user's messages of conv with lo <= Seq <= hi.
func (b *Inbox) Delete(ctx context.Context, user, conv string, lo, hi uint64) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	list := b.users[user]
	list = slices.DeleteFunc(list, func(m wsregistry.Message) bool {
		return m.Conv == conv && m.Seq >= lo && m.Seq <= hi
	})
	if len(list) == 0 {
		delete(b.users, user)
	} else {
		b.users[user] = list
	}
	return nil
}

// Len returns the number of messages in user's inbox.
func (b *Inbox) Len(user string) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.users[user])
}

// Sequencer is a wsregistry.Sequencer in memory.
type Sequencer struct {
	mu   sync.Mutex
	last map[string]uint64
}

var (
	_ wsregistry.Sequencer      = (*Sequencer)(nil)
	_ wsregistry.BatchSequencer = (*Sequencer)(nil)
)

// NewSequencer returns a Sequencer with every conversation at 0.
func NewSequencer() *Sequencer { return &Sequencer{last: make(map[string]uint64)} }

// Next returns the next sequence number of conv.
func (q *Sequencer) Next(ctx context.Context, conv string) (uint64, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	q.last[conv]++
	return q.last[conv], nil
}

// Last returns the last number handed out for conv, or 0.
func (q *Sequencer) Last(ctx context.Context, conv string) (uint64, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.last[conv], nil
}

// LastMany returns Last of each conversation, in the order given.
func (q *Sequencer) LastMany(ctx context.Context, convs []string) ([]uint64, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	out := make([]uint64, len(convs))
	for i, c := range convs {
		out[i] = q.last[c]
	}
	return out, nil
}

// Transport is a wsregistry.Transport between hosts of one process.
// Deliver calls the host's handler synchronously and returns its error.
type Transport struct {
	mu    sync.RWMutex
	hosts map[string]*listener
}

type listener struct{ h wsregistry.Handler }

var _ wsregistry.Transport = (*Transport)(nil)

// NewTransport returns a Transport with no hosts listening.
func NewTransport() *Transport { return &Transport{hosts: make(map[string]*listener)} }

// Listen makes h receive what is delivered to host, replacing any earlier
// handler, until stop is called.
func (t *Transport) Listen(host string, h wsregistry.Handler) (stop func()) {
	l := &listener{h: h}
	t.mu.Lock()
	t.hosts[host] = l
	t.mu.Unlock()
	return func() {
		t.mu.Lock()
		if t.hosts[host] == l {
			delete(t.hosts, host)
		}
		t.mu.Unlock()
	}
}

// Deliver passes m to host's handler; it returns an error matching
// wsregistry.ErrHostGone if nobody listens on host.
func (t *Transport) Deliver(ctx context.Context, host string, m wsregistry.Message) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	t.mu.RLock()
	l := t.hosts[host]
	t.mu.RUnlock()
	if l == nil {
		return fmt.Errorf("memstore: deliver to %s: %w", host, wsregistry.ErrHostGone)
	}
	m.Body = slices.Clone(m.Body)
	return l.h(ctx, m)
}

// LastSeen is a wsregistry.LastSeenStore in memory.
type LastSeen struct {
	mu sync.Mutex
	at map[string]time.Time
}

var _ wsregistry.LastSeenStore = (*LastSeen)(nil)

// NewLastSeen returns an empty LastSeen.
func NewLastSeen() *LastSeen { return &LastSeen{at: make(map[string]time.Time)} }

// SetLastSeen keeps the later of at and the stored time.
func (l *LastSeen) SetLastSeen(ctx context.Context, user string, at time.Time) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if old, ok := l.at[user]; !ok || at.After(old) {
		l.at[user] = at
	}
	return nil
}

// LastSeen returns the stored time of user.
func (l *LastSeen) LastSeen(ctx context.Context, user string) (time.Time, error) {
	if err := ctx.Err(); err != nil {
		return time.Time{}, err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	at, ok := l.at[user]
	if !ok {
		return time.Time{}, fmt.Errorf("memstore: last seen %s: %w", user, wsregistry.ErrNotFound)
	}
	return at, nil
}
