package gateway

import (
	"errors"
	"fmt"
)

// Errors returned by the gateway and its token authenticator. Compare with
// [errors.Is]; they may be wrapped.
var (
	// ErrNoToken is returned by [Tokens.Authenticate] when the request carries
	// neither a "token" query parameter nor an "Authorization: Bearer" header.
	ErrNoToken = errors.New("gateway: no token")
	// ErrMalformedToken is returned when a token is not in the issued format.
	ErrMalformedToken = errors.New("gateway: malformed token")
	// ErrBadSignature is returned when a token's signature does not match its
	// content: it was forged, altered, or signed with another secret.
	ErrBadSignature = errors.New("gateway: bad token signature")
	// ErrExpiredToken is returned when a token is authentic but its expiry has passed.
	ErrExpiredToken = errors.New("gateway: token expired")
	// ErrWeakSecret is returned by [NewTokens] for a secret shorter than 16 bytes.
	ErrWeakSecret = errors.New("gateway: token secret shorter than 16 bytes")

	// ErrClosed is returned by [Conn.Send] and [Conn.Close] once the connection is closing.
	ErrClosed = errors.New("gateway: connection closed")
	// ErrQueueFull is returned by [Conn.Send] when the connection's send queue is
	// full; the connection is then closed with [CloseQueueFull]. It is also the
	// cause passed to [Handler.Close].
	ErrQueueFull = errors.New("gateway: send queue full")
	// ErrRateLimited is the cause passed to [Handler.Close] when a client sent
	// messages faster than Options.Rate allows; the connection is closed with
	// [CloseRateLimited].
	ErrRateLimited = errors.New("gateway: rate limit exceeded")
	// ErrPongTimeout is the cause passed to [Handler.Close] when the peer did not
	// answer a ping within Options.PongTimeout.
	ErrPongTimeout = errors.New("gateway: pong timeout")
	// ErrWriteTimeout is the cause passed to [Handler.Close] when writing one
	// message took longer than Options.WriteTimeout.
	ErrWriteTimeout = errors.New("gateway: write timeout")
	// ErrShutdown is the cause passed to [Handler.Close] for connections closed
	// by [Gateway.Shutdown].
	ErrShutdown = errors.New("gateway: shutting down")
	// ErrInvalidCloseCode is returned by [Conn.Close] for a code that may not be
	// sent in a close frame, or a reason longer than 123 bytes.
	ErrInvalidCloseCode = errors.New("gateway: invalid close code")
)

// Close codes sent by the gateway. Codes below 4000 are defined by RFC 6455;
// 4000-4999 are private to this package.
const (
	CloseNormal          = 1000 // normal closure
	CloseGoingAway       = 1001 // Gateway.Shutdown
	CloseUnsupportedData = 1003 // binary message where text is expected
	CloseInvalidPayload  = 1007 // message content is not valid (for handlers: invalid JSON, bad UTF-8)
	ClosePolicyViolation = 1008 // generic policy violation
	CloseMessageTooBig   = 1009 // message longer than Options.MaxMessageBytes
	CloseInternalError   = 1011 // a Handler returned an error that is not a *CloseError
	CloseQueueFull       = 4008 // the send queue overflowed: the client reads too slowly
	CloseRateLimited     = 4029 // the client sent faster than Options.Rate and Options.Burst allow
)

// CloseError is a websocket close code with its reason. A [Handler] returns
// one (see [CloseWith]) to close the connection with that code; [Handler.Close]
// receives one when the peer closed the connection or the handler asked for it.
type CloseError struct {
	Code   int
	Reason string
}

// Error implements error.
func (e *CloseError) Error() string {
	return fmt.Sprintf("gateway: closed with %d %q", e.Code, e.Reason)
}

// CloseWith returns a *CloseError. A [Handler] returns it from Open or Message
// to close the connection with that code, for example
// CloseWith(CloseInvalidPayload, "invalid json").
func CloseWith(code int, reason string) error {
	return &CloseError{Code: code, Reason: reason}
}

// validCloseCode reports whether code may be sent in a close frame.
func validCloseCode(code int) bool {
	switch {
	case code >= 1000 && code <= 1003, code >= 1007 && code <= 1011, code >= 3000 && code <= 4999:
		return true
	}
	return false
}
