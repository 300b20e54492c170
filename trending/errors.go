package trending

import "errors"

// Errors returned by this package. Match them with [errors.Is].
var (
	// ErrInvalidOptions is returned by New and NewSketch for options out
	// of range.
	ErrInvalidOptions = errors.New("trending: invalid options")

	// ErrIncompatible is returned by Merge for sketches of different
	// dimensions, seeds or modes.
	ErrIncompatible = errors.New("trending: incompatible sketches")

	// ErrTooManyRegions is returned when an observation names a new region
	// beyond Options.MaxRegions. The observation still counts globally.
	ErrTooManyRegions = errors.New("trending: too many regions")
)
