package archive

import (
	"context"
	"fmt"
	"slices"
)

// MaxLimit is the largest page [Merge] returns.
const MaxLimit = 1000

// Merge returns one page of owner's records from both the live and the
// cold lister, newest first (At descending, then ID descending), starting
// strictly after the position after (the zero Cursor starts at the
// newest), at most limit (1 to [MaxLimit]) records: the design notes'
// Orders View Service.
//
// A record present in both (an archiver stopped between writing the cold
// copy and deleting the live one) appears once, as its live copy, which is
// the current one. next is the position to pass as after for the next
// page, or the zero Cursor when there is no next page. Merge asks each
// lister for limit+1 records, the live one first and then the cold one, so
// that a record moved between the two reads is found in the cold store.
//
// Pages are consistent while records move: a record keeps its (At, ID)
// when it moves, so it is on the same page whichever side it is read
// from, and a record moved between two page reads is neither skipped nor
// repeated.
func Merge(ctx context.Context, owner string, after Cursor, limit int, live, cold Lister) (recs []Record, next Cursor, err error) {
	if owner == "" {
		return nil, Cursor{}, fmt.Errorf("archive: merge: empty owner: %w", ErrInvalid)
	}
	if limit < 1 || limit > MaxLimit {
		return nil, Cursor{}, fmt.Errorf("archive: merge: limit %d: want 1 to %d: %w", limit, MaxLimit, ErrInvalid)
	}
	if live == nil || cold == nil {
		return nil, Cursor{}, fmt.Errorf("archive: merge: nil lister: %w", ErrInvalid)
	}
	// Live first, then cold: a record that leaves the live store after
	// the live read was already in the cold store before it left (an
	// archiver writes before it deletes), so the cold read finds it. In
	// the other order, or with both reads at once, a record moved
	// between the two reads would be missed.
	l, err := live.List(ctx, owner, after, limit+1)
	if err != nil {
		return nil, Cursor{}, fmt.Errorf("archive: merge: live: %w", err)
	}
	c, err := cold.List(ctx, owner, after, limit+1)
	if err != nil {
		return nil, Cursor{}, fmt.Errorf("archive: merge: cold: %w", err)
	}
	out := make([]Record, 0, min(len(l)+len(c), limit+1))
	seen := make(map[string]struct{}, len(l))
	for _, r := range l {
		seen[r.ID] = struct{}{}
	}
	out = append(out, l...)
	for _, r := range c {
		if _, dup := seen[r.ID]; !dup {
			out = append(out, r)
		}
	}
	// Both lists are sorted; a stable sort keeps the live copy first.
	slices.SortStableFunc(out, Compare)
	if len(out) <= limit {
		return out, Cursor{}, nil
	}
	out = out[:limit:limit]
	return out, Of(out[limit-1]), nil
}
