package archive

import "errors"

// Sentinel errors. Adapters wrap them with %w; match them with
// [errors.Is].
var (
	// ErrInvalid reports a bad argument, option or record: a limit below
	// 1, an empty owner, a record without Owner, ID or At, a time a
	// store cannot represent. Nothing was changed.
	ErrInvalid = errors.New("archive: invalid argument")

	// ErrNoProgress reports that a source returned, after deleting them,
	// the same due records again: its Delete does not remove what Due
	// returns. The records were written to the store and are still in the
	// source.
	ErrNoProgress = errors.New("archive: source returns deleted records again")

	// ErrRunning is returned by [Archiver.Run] when it is already
	// running.
	ErrRunning = errors.New("archive: already running")
)
