package shortener

import "errors"

// Sentinel errors. Stores wrap ErrNotFound and ErrExists with %w; the
// service's input errors match one of the others.
var (
	// ErrNotFound reports a code that holds no link.
	ErrNotFound = errors.New("shortener: link not found")
	// ErrExists reports a code that already holds a link.
	ErrExists = errors.New("shortener: code taken")
	// ErrExpired reports a link whose expiry has passed.
	ErrExpired = errors.New("shortener: link expired")
	// ErrBadURL reports a target that is not an acceptable absolute
	// http or https URL.
	ErrBadURL = errors.New("shortener: bad url")
	// ErrBadAlias reports a custom alias that the alias rules reject.
	ErrBadAlias = errors.New("shortener: bad alias")
	// ErrBadCode reports a code that can be neither a generated code nor
	// an alias, so no link can hold it.
	ErrBadCode = errors.New("shortener: malformed code")
	// ErrBadExpiry reports an expiry that is not in the future.
	ErrBadExpiry = errors.New("shortener: bad expiry")
	// ErrRateLimited reports a client over its creation rate.
	ErrRateLimited = errors.New("shortener: rate limited")
	// ErrRunning is returned by Run when it is already running.
	ErrRunning = errors.New("shortener: already running")
)

// InputError is a rejected request field. It matches its Reason (one of
// ErrBadURL, ErrBadAlias, ErrBadExpiry, ErrBadCode) with errors.Is.
type InputError struct {
	Field  string // "url", "alias", "expires_at" or "code"
	Reason error
	Detail string
}

// Error returns a message such as `shortener: bad url: scheme "javascript" not allowed`.
func (e *InputError) Error() string { return e.Reason.Error() + ": " + e.Detail }

// Unwrap returns Reason.
func (e *InputError) Unwrap() error { return e.Reason }
