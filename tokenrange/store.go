package tokenrange

import (
	"context"
	"fmt"
)

// MaxLimit is the largest end of a token space that every store supports
// (2^62). It exceeds 62^10, the largest space of 10-character base62 codes,
// and leaves room below 2^63 for Redis's signed counters.
const MaxLimit uint64 = 1 << 62

// MaxRangeSize is the largest number of tokens one Reserve may ask for
// (2^40).
const MaxRangeSize uint64 = 1 << 40

// Range is the half-open interval [Lo, Hi) of tokens.
type Range struct {
	Lo, Hi uint64
}

// Len returns Hi - Lo.
func (r Range) Len() uint64 { return r.Hi - r.Lo }

// Contains reports whether Lo <= token < Hi.
func (r Range) Contains(token uint64) bool { return r.Lo <= token && token < r.Hi }

// String returns "[lo, hi)".
func (r Range) String() string { return fmt.Sprintf("[%d, %d)", r.Lo, r.Hi) }

// Store is a durable set of counters, one per namespace. It is the adapter
// contract; the package storetest checks it. Implementations must be safe
// for concurrent use, and several Store values (in one process or many)
// opened on the same backend must behave as one.
type Store interface {
	// Reserve takes the next tokens of namespace. Let c be the counter of
	// namespace (0 for a namespace never seen). If c >= limit, Reserve
	// returns an error matching ErrExhausted and changes nothing.
	// Otherwise it moves the counter to hi = min(c+n, limit) and returns
	// [c, hi), atomically with respect to every other Reserve on the
	// backend, and durably before it returns. A range is issued at most
	// once: no later Reserve returns any of its tokens, even if this call's
	// caller never saw the reply.
	//
	// The caller guarantees 1 <= n <= MaxRangeSize, 1 <= limit <= MaxLimit
	// and a namespace accepted by [ValidNamespace]. When the backend rolled
	// the operation back because of contention and issued nothing, Reserve
	// returns an error matching ErrConflict; it does not retry itself.
	// Reserve honours ctx: once ctx is done it returns ctx's error, and the
	// range may or may not have been issued (it is then lost, never
	// reissued).
	Reserve(ctx context.Context, namespace string, n, limit uint64) (Range, error)

	// Counter returns the counter of namespace (0 for a namespace never
	// seen). Every token below min(counter, limit) has been issued by
	// Reserve; none at or above it has. The counter may exceed limit after
	// exhaustion.
	Counter(ctx context.Context, namespace string) (uint64, error)
}

// Auditor is implemented by stores that record every issued range (sqlstore
// and memstore do). Find it with a type assertion.
type Auditor interface {
	// Issued returns the ranges issued for namespace, in increasing order.
	// Together they cover [0, Counter) with no gap and no overlap.
	Issued(ctx context.Context, namespace string) ([]Range, error)
}

// MaxNamespaceLen is the longest namespace name.
const MaxNamespaceLen = 64

// ValidNamespace reports whether name is 1 to 64 bytes of ASCII letters,
// digits, '.', '_', ':' and '-'. Namespaces name counters in every backend
// (a SQL key, a Redis key suffix), so they are kept to a safe alphabet.
func ValidNamespace(name string) bool {
	if len(name) == 0 || len(name) > MaxNamespaceLen {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case c == '.', c == '_', c == ':', c == '-':
		default:
			return false
		}
	}
	return true
}
