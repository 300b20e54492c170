package wsregistry

import (
	"errors"
	"fmt"
)

// Sentinel errors. Adapters wrap them with %w; match them with
// [errors.Is].
var (
	// ErrInvalid reports a bad argument or option: an empty or malformed
	// user, device, host or conversation, a zero sequence, a message sent
	// to its own sender. It is matched by every [*InputError]. Nothing was
	// changed.
	ErrInvalid = errors.New("wsregistry: invalid argument")

	// ErrTooLarge reports a message body above RouterOptions.MaxBody. It
	// is matched by every [*TooLargeError]. Nothing was stored.
	ErrTooLarge = errors.New("wsregistry: message too large")

	// ErrUnknownConversation reports an acknowledgement or a resync
	// position for a conversation that has never had a message, or a
	// position beyond the conversation's last sequence. Nothing was
	// changed.
	ErrUnknownConversation = errors.New("wsregistry: unknown conversation")

	// ErrNotFound reports that no live lease matches: a heartbeat or an
	// unregister for a (user, device) that has expired, was never
	// registered, or is now held by another host; a last-seen time for a
	// user never seen.
	ErrNotFound = errors.New("wsregistry: not found")

	// ErrHostGone is returned by a [Transport] when nobody listens on the
	// target host (it stopped or crashed). The [Router] treats it as proof
	// that its lookup was stale.
	ErrHostGone = errors.New("wsregistry: host gone")

	// ErrNotConnected is returned by a host's [Handler] (and passed back by
	// transports that carry replies) when the recipient holds no socket on
	// that host. The [Router] treats it as proof that its lookup was stale.
	ErrNotConnected = errors.New("wsregistry: recipient not connected to host")

	// ErrClosed reports use of an adapter after Close.
	ErrClosed = errors.New("wsregistry: closed")
)

// InputError is the error of a call with a bad argument. It matches
// [ErrInvalid].
type InputError struct {
	Op     string // "register", "send", "ack", ...
	Field  string // "user", "device", "host", "conv", "seq", ...
	Reason string // "empty", "longer than 256 bytes", ...
}

// Error returns "wsregistry: send: user: empty".
func (e *InputError) Error() string {
	return fmt.Sprintf("wsregistry: %s: %s: %s", e.Op, e.Field, e.Reason)
}

// Unwrap returns [ErrInvalid].
func (e *InputError) Unwrap() error { return ErrInvalid }

// TooLargeError is the error of a send whose body exceeds the limit. It
// matches [ErrTooLarge].
type TooLargeError struct {
	Size, Max int
}

// Error returns "wsregistry: send: body of 70000 bytes exceeds 65536".
func (e *TooLargeError) Error() string {
	return fmt.Sprintf("wsregistry: send: body of %d bytes exceeds %d", e.Size, e.Max)
}

// Unwrap returns [ErrTooLarge].
func (e *TooLargeError) Unwrap() error { return ErrTooLarge }

// ConversationError is the error of an acknowledgement or resync position
// that names a conversation the [Sequencer] does not know, or a sequence
// beyond its last one. It matches [ErrUnknownConversation].
type ConversationError struct {
	Op   string
	Conv string
	Seq  uint64 // the sequence given
	Last uint64 // the conversation's last sequence (0: never used)
}

// Error returns "wsregistry: ack: conversation "c": sequence 9 beyond last 4".
func (e *ConversationError) Error() string {
	if e.Last == 0 {
		return fmt.Sprintf("wsregistry: %s: conversation %q has no messages", e.Op, e.Conv)
	}
	return fmt.Sprintf("wsregistry: %s: conversation %q: sequence %d beyond last %d", e.Op, e.Conv, e.Seq, e.Last)
}

// Unwrap returns [ErrUnknownConversation].
func (e *ConversationError) Unwrap() error { return ErrUnknownConversation }
