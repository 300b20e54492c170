package chat

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// Limits of the wire protocol.
const (
	// MaxText is the longest message text, in bytes.
	MaxText = 4096
	// MaxFrame is the longest frame a client may send; a longer one closes
	// the connection with 1009.
	MaxFrame = 16 << 10
	// MaxResyncConvs bounds the conversations named in one resync.
	MaxResyncConvs = 1024
)

// Frame types sent by clients.
const (
	TypeSend   = "send"   // a message to a user (To) or a group (Group)
	TypeAck    = "ack"    // delivered: removes (Conv, Seq) from the inbox; with ID and From, a receipt goes back
	TypeRead   = "read"   // read: a receipt for ID goes back to From
	TypeResync = "resync" // after a (re)connect: the last sequence per conversation
)

// Message kinds carried in frames of type "msg".
const (
	KindText      = "text"
	KindMedia     = "media"
	KindDelivered = "delivered"
	KindRead      = "read"
)

// Frame is a client's frame, decoded and checked by ParseFrame.
type Frame struct {
	Type  string            `json:"type"`
	ID    string            `json:"id,omitempty"`    // send: the client's message ID; ack, read: the message acknowledged
	To    string            `json:"to,omitempty"`    // send: recipient user
	Group string            `json:"group,omitempty"` // send: recipient group
	Text  string            `json:"text,omitempty"`  // send: text (a caption for media)
	Media string            `json:"media,omitempty"` // send: hash of an uploaded asset
	Conv  string            `json:"conv,omitempty"`  // ack, read: conversation of the message
	Seq   uint64            `json:"seq,omitempty"`   // ack: its sequence
	From  string            `json:"from,omitempty"`  // ack, read: its sender, who gets the receipt
	After map[string]uint64 `json:"after,omitempty"` // resync
}

// FrameError is the error of a frame that breaks the protocol. It matches
// ErrInvalid, or ErrTooLarge for a text over MaxText.
type FrameError struct {
	Code   string // wire code: "invalid", "too_large"
	Reason string
}

// Error returns "chat: frame: reason".
func (e *FrameError) Error() string { return "chat: frame: " + e.Reason }

// Unwrap returns ErrTooLarge or ErrInvalid.
func (e *FrameError) Unwrap() error {
	if e.Code == "too_large" {
		return ErrTooLarge
	}
	return ErrInvalid
}

func invalid(format string, args ...any) error {
	return &FrameError{Code: "invalid", Reason: fmt.Sprintf(format, args...)}
}

// ValidID reports whether s is a valid message ID: 1 to 64 ASCII letters,
// digits, '-' or '_'.
func ValidID(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, c := range []byte(s) {
		if !(c == '-' || c == '_' || '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z') {
			return false
		}
	}
	return true
}

// ParseFrame decodes and checks a client frame. Errors are *FrameError.
func ParseFrame(data []byte) (Frame, error) {
	var f Frame
	if len(data) > MaxFrame {
		return f, &FrameError{Code: "too_large", Reason: fmt.Sprintf("%d bytes, limit %d", len(data), MaxFrame)}
	}
	if err := json.Unmarshal(data, &f); err != nil {
		return Frame{}, invalid("not a JSON object: %v", err)
	}
	switch f.Type {
	case TypeSend:
		if !ValidID(f.ID) {
			return f, invalid("send: id %q: want 1 to 64 letters, digits, - or _", f.ID)
		}
		if (f.To == "") == (f.Group == "") {
			return f, invalid("send: want exactly one of to and group")
		}
		if f.To != "" && !ValidName(f.To) || f.Group != "" && !ValidName(f.Group) {
			return f, invalid("send: malformed recipient")
		}
		if len(f.Text) > MaxText {
			return f, &FrameError{Code: "too_large", Reason: fmt.Sprintf("send: text of %d bytes, limit %d", len(f.Text), MaxText)}
		}
		if !utf8.ValidString(f.Text) {
			return f, invalid("send: text is not UTF-8")
		}
		if f.Media != "" && !ValidHash(f.Media) {
			return f, invalid("send: media: want a hex SHA-256")
		}
		if f.Media == "" && strings.TrimSpace(f.Text) == "" {
			return f, invalid("send: empty message")
		}
	case TypeAck:
		if _, _, _, err := parseConv(f.Conv); err != nil || f.Seq == 0 {
			return f, invalid("ack: want a conversation and a sequence")
		}
		if f.ID != "" && (!ValidID(f.ID) || !ValidName(f.From)) {
			return f, invalid("ack: malformed id or from")
		}
	case TypeRead:
		if _, _, _, err := parseConv(f.Conv); err != nil || !ValidID(f.ID) || !ValidName(f.From) {
			return f, invalid("read: want conv, id and from")
		}
	case TypeResync:
		if len(f.After) > MaxResyncConvs {
			return f, invalid("resync: more than %d conversations", MaxResyncConvs)
		}
		for c := range f.After {
			if _, _, _, err := parseConv(c); err != nil {
				return f, invalid("resync: conversation %q", c)
			}
		}
	default:
		return f, invalid("unknown type %q", f.Type)
	}
	return f, nil
}

// Conversations are streams of one recipient: "u:<recipient>:<peer>" holds
// what peer sends to recipient (messages and receipts), and
// "g:<group>:<recipient>" what the group's members send to recipient. Each
// stream has a single reader, so its sequence numbers have no gaps from
// other readers.

// DirectConv is the conversation carrying peer's messages to recipient.
func DirectConv(recipient, peer string) string { return "u:" + recipient + ":" + peer }

// GroupConv is the conversation carrying group's messages to recipient.
func GroupConv(group, recipient string) string { return "g:" + group + ":" + recipient }

// parseConv returns the kind ('u' or 'g') and the two names of a
// conversation.
func parseConv(c string) (kind byte, a, b string, err error) {
	parts := strings.Split(c, ":")
	if len(parts) != 3 || (parts[0] != "u" && parts[0] != "g") || !ValidName(parts[1]) || !ValidName(parts[2]) {
		return 0, "", "", invalid("conversation %q", c)
	}
	return parts[0][0], parts[1], parts[2], nil
}

// MediaRef is the media of a message, as the recipient sees it.
type MediaRef struct {
	Hash string `json:"hash"`
	Type string `json:"type"`
	Size int64  `json:"size"`
	URL  string `json:"url"`
}

// payload is the body of a stored message (wsregistry.Message.Body).
type payload struct {
	Text  string    `json:"text,omitempty"`
	Group string    `json:"group,omitempty"`
	Media *MediaRef `json:"media,omitempty"`
	Ref   string    `json:"ref,omitempty"` // receipts: the ID of the message
}

// Out is a frame the server sends. Type is "hello", "sent", "msg",
// "synced" or "error".
type Out struct {
	Type    string    `json:"type"`
	ID      string    `json:"id,omitempty"`
	Conv    string    `json:"conv,omitempty"`
	Seq     uint64    `json:"seq,omitempty"`
	From    string    `json:"from,omitempty"`
	To      string    `json:"to,omitempty"`
	Group   string    `json:"group,omitempty"`
	Kind    string    `json:"kind,omitempty"`
	Text    string    `json:"text,omitempty"`
	Media   *MediaRef `json:"media,omitempty"`
	Ref     string    `json:"ref,omitempty"`
	At      int64     `json:"at,omitempty"` // Unix milliseconds
	User    string    `json:"user,omitempty"`
	Device  string    `json:"device,omitempty"`
	Host    string    `json:"host,omitempty"`
	Count   int       `json:"count,omitempty"`
	More    bool      `json:"more,omitempty"`
	Code    string    `json:"code,omitempty"`
	Message string    `json:"message,omitempty"`
}

func ms(t time.Time) int64 { return t.UnixMilli() }
