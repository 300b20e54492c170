package tokenrange

import "errors"

// Sentinel errors. Adapters wrap them with %w; match them with [errors.Is].
var (
	// ErrExhausted is returned when a namespace has no tokens left below
	// the limit.
	ErrExhausted = errors.New("tokenrange: token space exhausted")

	// ErrConflict is returned by a Store when a reservation was rolled
	// back because of contention (a deadlock or a lock wait timeout) and
	// issued nothing, so that it is safe to retry. The [Allocator] retries
	// it.
	ErrConflict = errors.New("tokenrange: conflict, nothing issued")

	// ErrInvalid is returned for a bad namespace, range size or limit.
	ErrInvalid = errors.New("tokenrange: invalid argument")

	// ErrClosed is returned by a [Leaser] after Close.
	ErrClosed = errors.New("tokenrange: closed")

	// ErrRunning is returned by [Leaser.Run] when it is already running.
	ErrRunning = errors.New("tokenrange: already running")
)
