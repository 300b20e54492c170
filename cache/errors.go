package cache

import (
	"errors"
	"strconv"
)

var (
	// ErrNotFound reports that the key has no value: the loader said so
	// (now, or within NegativeTTL, through a negative entry), or the cache
	// has no loader and the store holds nothing for the key. Get returns
	// ErrNotFound itself, so == works as well as errors.Is. A loader signals
	// absence by returning ErrNotFound (or an error matched by
	// Options.IsNotFound).
	ErrNotFound = errors.New("cache: not found")

	// ErrLoadFailed is matched by every [*LoadError]: the loader failed, or
	// a cached failure (Options.CacheErrors) was served.
	ErrLoadFailed = errors.New("cache: load failed")

	// ErrInvalidOptions is returned by [New] for a missing store or codec or
	// an out-of-range option.
	ErrInvalidOptions = errors.New("cache: invalid options")
)

// LoadError is the error Get returns when the loader fails with an error
// other than not-found, or when it serves a failure cached under
// Options.CacheErrors. It matches [ErrLoadFailed] with errors.Is and, when
// the failure is live (Cached false), the loader's own error too.
type LoadError struct {
	// Key is the key whose load failed.
	Key string
	// Cached is true when the failure was read from a negative entry: the
	// loader was not called. Only the message of the original error
	// survives in a cached failure.
	Cached bool
	// Err is the loader's error, or an error carrying its message when
	// Cached is true.
	Err error
}

// Error returns "cache: load "key": message", with " (cached)" for a cached
// failure.
func (e *LoadError) Error() string {
	s := "cache: load " + strconv.Quote(e.Key)
	if e.Cached {
		s += " (cached)"
	}
	return s + ": " + e.Err.Error()
}

// Unwrap returns [ErrLoadFailed] and the loader's error.
func (e *LoadError) Unwrap() []error { return []error{ErrLoadFailed, e.Err} }
