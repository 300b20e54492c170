package geogrid

import (
	"context"
	"time"
)

// Entry is the last known position of one object, as an [Index] stores it.
type Entry struct {
	ID  string
	Lat float64 // degrees, [-90, 90]
	Lng float64 // degrees, [-180, 180]
	At  int64   // time of the fix in Unix microseconds
}

// Query asks an [Index] for the entries near a point.
type Query struct {
	Lat, Lng float64 // centre in degrees
	Meters   float64 // great-circle radius
	// After excludes stale entries: only entries with At > After (Unix
	// microseconds) are visited. This is how the time-to-live is enforced:
	// a stale entry is never a result, whether or not it was pruned yet.
	After int64
}

// Segment is one leaf of an index's adaptive grid and the number of entries
// it holds (fresh or stale).
type Segment struct {
	Cell  Cell
	Count int
}

// Segmentation configures the adaptive grid of an [Index]: a leaf cell
// splits into its four children when it holds more than MaxPerCell entries,
// and a cell's subtree merges back into one leaf when it holds fewer than
// MinPerCell. The gap between the two keeps a cell from flapping.
type Segmentation struct {
	// MaxPerCell is the number of entries above which a leaf splits.
	// Zero means 64.
	MaxPerCell int
	// MinPerCell is the number of entries below which a subtree merges.
	// Zero means MaxPerCell/4. It must be less than MaxPerCell.
	MinPerCell int
	// MinLevel is the coarsest level a segment can have; cells of this
	// level are the roots of the grid and never merge. Zero means 6 (cells
	// about 100 km across). Use a negative value for level 0 (cube faces).
	MinLevel int
	// MaxLevel is the finest level a segment can have: a leaf at this level
	// holds any number of entries. Zero means 22 (cells about 2 m across).
	MaxLevel int
}

// Normalize returns s with defaults filled in, or an [*InputError] when the
// values contradict each other.
func (s Segmentation) Normalize() (Segmentation, error) {
	if s.MaxPerCell == 0 {
		s.MaxPerCell = 64
	}
	if s.MinPerCell == 0 {
		s.MinPerCell = s.MaxPerCell / 4
	}
	switch {
	case s.MinLevel == 0:
		s.MinLevel = 6
	case s.MinLevel < 0:
		s.MinLevel = 0
	}
	if s.MaxLevel == 0 {
		s.MaxLevel = 22
	}
	bad := func(f string, v int, why string) error {
		return &InputError{Op: "segmentation", Field: f, Value: float64(v), Reason: why}
	}
	switch {
	case s.MaxPerCell < 1:
		return s, bad("MaxPerCell", s.MaxPerCell, "must be positive")
	case s.MinPerCell < 0 || s.MinPerCell >= s.MaxPerCell:
		return s, bad("MinPerCell", s.MinPerCell, "must be in [0, MaxPerCell)")
	case s.MinLevel > MaxLevel:
		return s, bad("MinLevel", s.MinLevel, "must be in 0..30")
	case s.MaxLevel < s.MinLevel || s.MaxLevel > MaxLevel:
		return s, bad("MaxLevel", s.MaxLevel, "must be in MinLevel..30")
	}
	return s, nil
}

// Index is the adapter contract: a store of the last position of each id,
// organised as an adaptive grid of cells. The [Grid] validates input and
// computes distances, ranking and staleness; an Index only stores and finds.
// Implementations must be safe for concurrent use.
type Index interface {
	// Update stores e as the position of e.ID. If the stored position is
	// newer (its At is greater than e.At) the call changes nothing and
	// returns nil, so late, reordered fixes never move an object back.
	// Cell membership changes only when the position leaves the object's
	// current leaf cell. After the move the leaf that received the entry
	// splits if it holds more than MaxPerCell entries, and the subtree it
	// left merges if it fell below MinPerCell. No entry is ever lost or
	// counted in two cells.
	Update(ctx context.Context, e Entry) error

	// Remove deletes id. It returns an error matching [ErrNotFound] if id
	// is not stored.
	Remove(ctx context.Context, id string) error

	// Get returns the stored entry of id, fresh or stale, or an error
	// matching [ErrNotFound].
	Get(ctx context.Context, id string) (Entry, error)

	// Search calls visit for every entry with At > q.After whose
	// great-circle distance from (q.Lat, q.Lng) is at most q.Meters. It may
	// also visit entries a little farther away (the caller filters by exact
	// distance) but never an entry with At <= q.After. It stops early when
	// visit returns false. visit must not call back into the Index.
	Search(ctx context.Context, q Query, visit func(Entry) bool) error

	// Segments calls visit once for each leaf cell of the grid with the
	// number of entries it holds. Every stored entry is counted in exactly
	// one leaf: the leaf that contains its position.
	Segments(ctx context.Context, visit func(Segment) bool) error

	// Prune removes every entry with At <= before (Unix microseconds) and
	// returns how many it removed.
	Prune(ctx context.Context, before int64) (int, error)
}

// Claims is the compare-and-set store behind dispatch: a key (a trip, or a
// driver) is held by at most one owner at a time. Implementations must be
// safe for concurrent use: of any number of concurrent Claim calls on a free
// key, exactly one wins.
type Claims interface {
	// Claim makes owner the holder of key for ttl if the key is free (never
	// claimed, released, or its previous claim expired by now). It returns
	// the holder after the call: owner if it won (or already held the
	// key), the other holder if it lost. Claiming again by the holder does
	// not extend the claim.
	Claim(ctx context.Context, key, owner string, now time.Time, ttl time.Duration) (holder string, err error)

	// Holder returns the current holder of key, or an error matching
	// [ErrNotFound] if it is free.
	Holder(ctx context.Context, key string, now time.Time) (string, error)

	// Release frees key if owner holds it. It returns an error matching
	// [ErrNotFound] if owner does not hold it.
	Release(ctx context.Context, key, owner string, now time.Time) error
}
