package chat

import "errors"

// Sentinel errors of the chat service. Wrapped errors match them with
// errors.Is.
var (
	// ErrNotFound reports an unknown user, group or media object.
	ErrNotFound = errors.New("chat: not found")

	// ErrExists reports a user or group that already exists.
	ErrExists = errors.New("chat: already exists")

	// ErrInvalid reports a malformed name, frame, or request.
	ErrInvalid = errors.New("chat: invalid input")

	// ErrTooLarge reports a message body or media upload above its limit.
	ErrTooLarge = errors.New("chat: too large")

	// ErrForbidden reports a wrong password or a sender that is not a
	// member of the group it writes to.
	ErrForbidden = errors.New("chat: forbidden")
)
