package shortid

import (
	"errors"
	"strconv"
)

// Sentinel errors. Errors returned by this package match one of them with
// [errors.Is].
var (
	// ErrLength reports a code or alias of the wrong length, or a code
	// length outside [1, MaxLength].
	ErrLength = errors.New("shortid: wrong length")
	// ErrCharset reports a character outside the allowed alphabet.
	ErrCharset = errors.New("shortid: character not allowed")
	// ErrRange reports a token, or the token of a decoded code, outside the
	// codec's space.
	ErrRange = errors.New("shortid: value out of range")
	// ErrReserved reports an alias equal to a reserved word.
	ErrReserved = errors.New("shortid: reserved word")
	// ErrCodeLike reports an alias that has the shape of a generated code
	// and could therefore collide with one issued later.
	ErrCodeLike = errors.New("shortid: alias looks like a generated code")
	// ErrCapacity reports a request volume that no code of at most
	// MaxLength characters can serve, or that overflows uint64.
	ErrCapacity = errors.New("shortid: capacity exceeded")
)

// DecodeError describes a code that [Codec.Decode] rejected. It matches its
// Reason with [errors.Is].
type DecodeError struct {
	Code   string // the input, truncated to 64 bytes
	Reason error  // ErrLength, ErrCharset or ErrRange
	Index  int    // byte offset of the first bad character for ErrCharset; -1 otherwise
	Want   int    // the codec's length
}

// Error returns a message such as
// `shortid: decode "ab$": character '$' at 2 not allowed`.
func (e *DecodeError) Error() string {
	q := strconv.Quote(e.Code)
	switch e.Reason {
	case ErrLength:
		return "shortid: decode " + q + ": length " + strconv.Itoa(len(e.Code)) + ", want " + strconv.Itoa(e.Want)
	case ErrCharset:
		return "shortid: decode " + q + ": " + badChar(e.Code, e.Index)
	default:
		return "shortid: decode " + q + ": value out of range"
	}
}

// Unwrap returns Reason.
func (e *DecodeError) Unwrap() error { return e.Reason }

// AliasError describes an alias that [Alias.Validate] rejected. It matches
// its Reason with [errors.Is].
type AliasError struct {
	Alias  string // the input, truncated to 64 bytes
	Reason error  // ErrLength, ErrCharset, ErrReserved or ErrCodeLike
	Index  int    // byte offset of the first bad character for ErrCharset; -1 otherwise
	Min    int    // the validator's length bounds
	Max    int
}

// Error returns a message such as `shortid: alias "admin": reserved word`.
func (e *AliasError) Error() string {
	q := strconv.Quote(e.Alias)
	switch e.Reason {
	case ErrLength:
		return "shortid: alias " + q + ": length " + strconv.Itoa(len(e.Alias)) +
			" outside [" + strconv.Itoa(e.Min) + ", " + strconv.Itoa(e.Max) + "]"
	case ErrCharset:
		return "shortid: alias " + q + ": " + badChar(e.Alias, e.Index)
	case ErrReserved:
		return "shortid: alias " + q + ": reserved word"
	default:
		return "shortid: alias " + q + ": could collide with a generated code"
	}
}

// Unwrap returns Reason.
func (e *AliasError) Unwrap() error { return e.Reason }

// truncate bounds the copy of untrusted input kept in an error.
func truncate(s string) string {
	if len(s) > 64 {
		return s[:64]
	}
	return s
}

// badChar describes the byte at i of s, which may have been truncated.
func badChar(s string, i int) string {
	if i >= 0 && i < len(s) {
		return "character " + strconv.QuoteRune(rune(s[i])) + " at " + strconv.Itoa(i) + " not allowed"
	}
	return "character at " + strconv.Itoa(i) + " not allowed"
}
