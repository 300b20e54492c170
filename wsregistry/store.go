package wsregistry

import (
	"context"
	"time"
)

// Conn is one live socket: User's Device is connected to the gateway Host
// until Expires, unless a heartbeat extends the lease.
type Conn struct {
	User, Device, Host string
	Expires            time.Time
}

// Message is one chat message. Seq is its sequence number in Conv,
// assigned by the [Router]; ID is unique per message and is what clients
// deduplicate on.
type Message struct {
	ID, Conv, From, To string
	Seq                uint64
	Kind               string // "text" unless set
	Body               []byte
	At                 time.Time
}

// Position is a point in an inbox, ordered by (Conv, Seq). The zero
// Position is before every message.
type Position struct {
	Conv string
	Seq  uint64
}

// Store is the adapter contract of the connection registry. A lease of
// (user, device) is live at now while Expires > now (the expiry is a
// predicate, never a background deletion); a store must never return an
// expired lease, whether or not it has already deleted it. Implementations
// must be safe for concurrent use by many processes.
type Store interface {
	// Put creates or replaces the lease of (c.User, c.Device): the
	// device is now on c.Host until c.Expires, whatever host held it
	// before. now is the caller's clock, for housekeeping of expired
	// leases.
	Put(ctx context.Context, c Conn, now time.Time) error

	// Renew sets the expiry of the lease of (user, device) to expires if
	// that lease is held by host and is live at now, atomically. It
	// returns an error matching ErrNotFound otherwise and changes nothing.
	Renew(ctx context.Context, user, device, host string, expires, now time.Time) error

	// Delete removes the lease of (user, device) if it is held by host,
	// atomically, expired or not. It returns an error matching ErrNotFound
	// if there is no such lease or another host holds it, and changes
	// nothing then.
	Delete(ctx context.Context, user, device, host string) error

	// List returns the leases of user that are live at now, sorted by
	// Device, or none.
	List(ctx context.Context, user string, now time.Time) ([]Conn, error)
}

// Inbox is the adapter contract of the offline inbox: messages kept per
// recipient until the recipient acknowledges them. Implementations must be
// safe for concurrent use by many processes.
type Inbox interface {
	// Append stores m under (m.To, m.Conv, m.Seq) and returns once it is
	// durable. Appending the same key again replaces the message.
	Append(ctx context.Context, m Message) error

	// Scan returns up to limit messages of user's inbox strictly after
	// the position, in (Conv, Seq) order.
	Scan(ctx context.Context, user string, after Position, limit int) ([]Message, error)

	// Delete removes user's messages of conv with lo <= Seq <= hi.
	// Deleting messages that are absent is not an error.
	Delete(ctx context.Context, user, conv string, lo, hi uint64) error
}

// Sequencer hands out per-conversation sequence numbers: 1, 2, 3, ...
// without duplicates, across processes. A number handed out by Next and
// never stored (its sender failed) leaves a gap, which clients tolerate.
// Sequences must survive restarts: a client's resync position is also an
// acknowledgement of everything at or below it.
type Sequencer interface {
	// Next returns the next sequence number of conv, starting at 1.
	Next(ctx context.Context, conv string) (uint64, error)

	// Last returns the last number Next returned for conv, or 0.
	Last(ctx context.Context, conv string) (uint64, error)
}

// BatchSequencer is an optional capability of a [Sequencer]: the last
// sequences of many conversations in one round trip. [Router.Resync] uses
// it, when the sequencer has it, to check a client's positions.
type BatchSequencer interface {
	// LastMany returns Last of each conversation, in the order given.
	LastMany(ctx context.Context, convs []string) ([]uint64, error)
}

// Transport carries a message from the host that routes it to the host
// that holds the recipient's socket. How a host receives is the adapter's
// own API (memstore.Transport.Listen, redisbus.Bus.Listen): it passes each
// message to a [Handler].
type Transport interface {
	// Deliver hands m to host. It returns an error matching ErrHostGone
	// when nobody listens on host, and may pass back the handler's error
	// (ErrNotConnected) when the transport carries replies. A nil error
	// means handed over, not that the client received it: delivery to the
	// client is confirmed only by its acknowledgement.
	Deliver(ctx context.Context, host string, m Message) error
}

// Handler receives the messages delivered to a host and writes them to the
// recipient's sockets. It returns ErrNotConnected when the recipient has no
// socket on the host.
type Handler func(ctx context.Context, m Message) error

// LastSeenStore keeps the time each user was last seen.
type LastSeenStore interface {
	// SetLastSeen records that user was seen at at, keeping the later of
	// at and the stored time, so that updates may arrive in any order and
	// more than once.
	SetLastSeen(ctx context.Context, user string, at time.Time) error

	// LastSeen returns the stored time, or an error matching ErrNotFound.
	LastSeen(ctx context.Context, user string) (time.Time, error)
}
