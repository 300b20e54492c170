package booking

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/sysblocks/sysblocks/archive"
	"github.com/sysblocks/sysblocks/reservation/archivesource"
)

// Limits of a page of GET /users/{id}/bookings.
const (
	DefaultHistoryLimit = 20
	MaxHistoryLimit     = 100
)

// noRecords is the cold store of a Service without Config.Archive.
type noRecords struct{}

func (noRecords) List(context.Context, string, archive.Cursor, int) ([]archive.Record, error) {
	return nil, nil
}

// History is one page of a user's bookings, newest first.
type History struct {
	Bookings []BookingView `json:"bookings"`
	// Next is the cursor of the next page; empty on the last page.
	Next string `json:"next_cursor,omitempty"`
}

// EncodeCursor returns the opaque form of c.
func EncodeCursor(c archive.Cursor) string {
	if c.IsZero() {
		return ""
	}
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(c.At.UnixNano(), 10) + "." + c.ID))
}

// DecodeCursor parses a cursor made by EncodeCursor; "" is the start.
func DecodeCursor(s string) (archive.Cursor, error) {
	if s == "" {
		return archive.Cursor{}, nil
	}
	bad := invalid("invalid_cursor", "cursor", "not a cursor of this listing")
	if len(s) > 200 {
		return archive.Cursor{}, bad
	}
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return archive.Cursor{}, bad
	}
	at, id, ok := strings.Cut(string(raw), ".")
	ns, err := strconv.ParseInt(at, 10, 64)
	if !ok || err != nil || id == "" || len(id) > 64 {
		return archive.Cursor{}, bad
	}
	return archive.Cursor{At: time.Unix(0, ns).UTC(), ID: id}, nil
}

// UserBookings returns a page of the user's bookings, newest first: the
// live ones (the availability database) merged with the archived ones
// (Config.Archive, Cassandra in the real setup), each once. after is the
// cursor of the previous page ("" for the first), limit the page size
// (zero means DefaultHistoryLimit).
func (s *Service) UserBookings(ctx context.Context, user, after string, limit int) (History, error) {
	if err := CheckID("user", user); err != nil {
		return History{}, err
	}
	if limit == 0 {
		limit = DefaultHistoryLimit
	}
	if limit < 1 || limit > MaxHistoryLimit {
		return History{}, invalid("invalid_limit", "limit", fmt.Sprintf("want 1 to %d", MaxHistoryLimit))
	}
	cur, err := DecodeCursor(after)
	if err != nil {
		return History{}, err
	}
	recs, next, err := archive.Merge(ctx, user, cur, limit, s.live, s.cold)
	if err != nil {
		return History{}, err
	}
	h := History{Bookings: make([]BookingView, 0, len(recs)), Next: EncodeCursor(next)}
	for _, r := range recs {
		b, err := archivesource.Decode(r)
		if err != nil {
			return History{}, err
		}
		h.Bookings = append(h.Bookings, ViewOf(b))
	}
	return h, nil
}

// Archive runs one pass of the archiver: the bookings cancelled or
// completed more than Config.ArchiveAge ago move to Config.Archive. Run
// does this every Config.ArchiveInterval.
func (s *Service) Archive(ctx context.Context) (int, error) {
	if s.arch == nil {
		return 0, nil
	}
	return s.arch.RunOnce(ctx)
}

func (s *Service) serveUserBookings(w http.ResponseWriter, r *http.Request) {
	var limit int
	h, err := History{}, intParam(r, "limit", &limit)
	if err == nil {
		h, err = s.UserBookings(r.Context(), r.PathValue("id"), r.URL.Query().Get("cursor"), limit)
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, h)
}
