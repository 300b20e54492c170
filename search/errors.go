package search

import "errors"

// Errors returned by this package. Wrapped errors match them with
// [errors.Is].
var (
	// ErrInvalidDocument is returned for a document or change event that
	// cannot be indexed: an empty ID, an unknown operation, a zero version,
	// or an event whose ID differs from its document's.
	ErrInvalidDocument = errors.New("search: invalid document")

	// ErrInvalidQuery is returned for a query that cannot run: a negative
	// offset, limit or word count, a limit above Options.MaxLimit, or a
	// range whose minimum exceeds its maximum (or is NaN).
	ErrInvalidQuery = errors.New("search: invalid query")

	// ErrInvalidOptions is returned by New for options out of range.
	ErrInvalidOptions = errors.New("search: invalid options")

	// ErrCorruptSnapshot is returned when a snapshot cannot be decoded: bad
	// magic, unknown format version, truncated data or a checksum mismatch.
	// The index is left unchanged.
	ErrCorruptSnapshot = errors.New("search: corrupt snapshot")

	// ErrRebuildInProgress is returned by Rebuild while another rebuild of
	// the same index is running.
	ErrRebuildInProgress = errors.New("search: rebuild in progress")
)
