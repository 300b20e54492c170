package rides

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/sysblocks/sysblocks/archive"
)

// TripSource is a [TripStore] seen by the archive block: an
// [archive.Source] of the ended trips (Due and Delete) and an
// [archive.Lister] of a rider's ended trips still in the store, for
// [archive.Merge]. It is safe for concurrent use.
//
// A trip becomes an [archive.Record] with Owner = Rider, ID = the trip ID,
// At = Ended and Data = the trip as JSON ([EncodeTrip], [DecodeTrip]). A
// trip is due once it is completed or cancelled and its last change
// (Updated, the moment it ended) is older than the archiver's cutoff. An
// ended trip never changes again, so its record never changes either, and
// Delete needs no version check: it removes only ended trips.
type TripSource struct {
	trips TripStore
}

var (
	_ archive.Source = (*TripSource)(nil)
	_ archive.Lister = (*TripSource)(nil)
)

// NewTripSource returns the TripSource of trips.
func NewTripSource(trips TripStore) *TripSource { return &TripSource{trips: trips} }

var endStates = []State{Completed, Cancelled}

// Due implements [archive.Source]: up to limit completed or cancelled
// trips last changed before cutoff, oldest change first.
func (s *TripSource) Due(ctx context.Context, cutoff time.Time, limit int) ([]archive.Record, error) {
	if limit < 1 {
		return nil, fmt.Errorf("rides: due: limit %d: %w", limit, archive.ErrInvalid)
	}
	ts, err := s.trips.List(ctx, endStates, cutoff, limit)
	if err != nil {
		return nil, err
	}
	return encodeTrips(ts)
}

// Delete implements [archive.Source] with [TripStore.DeleteEnded]: trips
// that are absent or not ended are skipped.
func (s *TripSource) Delete(ctx context.Context, ids []string) error {
	return s.trips.DeleteEnded(ctx, ids)
}

// List implements [archive.Lister]: owner's ended trips still in the
// store, latest end first.
func (s *TripSource) List(ctx context.Context, owner string, after archive.Cursor, limit int) ([]archive.Record, error) {
	if limit < 1 {
		return nil, fmt.Errorf("rides: list ended trips of %q: limit %d: %w", owner, limit, archive.ErrInvalid)
	}
	ts, err := s.trips.Ended(ctx, owner, after, limit)
	if err != nil {
		return nil, err
	}
	return encodeTrips(ts)
}

func encodeTrips(ts []Trip) ([]archive.Record, error) {
	out := make([]archive.Record, len(ts))
	for i, t := range ts {
		r, err := EncodeTrip(t)
		if err != nil {
			return nil, err
		}
		out[i] = r
	}
	return out, nil
}

// tripWire is the JSON form of a trip in an archived record. Field names
// are part of the archive format: never rename one.
type tripWire struct {
	ID          string    `json:"id"`
	Rider       string    `json:"rider"`
	Driver      string    `json:"driver,omitempty"`
	State       State     `json:"state"`
	Premium     bool      `json:"premium,omitempty"`
	PickupLat   float64   `json:"pickup_lat"`
	PickupLng   float64   `json:"pickup_lng"`
	DropLat     float64   `json:"drop_lat"`
	DropLng     float64   `json:"drop_lng"`
	Surge       float64   `json:"surge"`
	Fare        float64   `json:"fare"`
	PickupETAMS int64     `json:"pickup_eta_ms,omitempty"`
	Reason      string    `json:"reason,omitempty"`
	Created     time.Time `json:"created"`
	Updated     time.Time `json:"updated"`
	Ended       time.Time `json:"ended"`
	Version     int64     `json:"version"`
}

// EncodeTrip returns the archive record of an ended trip: Owner = Rider,
// ID = ID, At = Ended (in UTC), Data = the trip as JSON. A trip that has
// not ended, or has no ID, Rider or Ended time, returns an error matching
// [archive.ErrInvalid].
func EncodeTrip(t Trip) (archive.Record, error) {
	if t.ID == "" || t.Rider == "" || !t.State.Terminal() || t.Ended.IsZero() {
		return archive.Record{}, fmt.Errorf("rides: encode trip %q of rider %q, %s, ended %v: %w", t.ID, t.Rider, t.State, t.Ended, archive.ErrInvalid)
	}
	data, err := json.Marshal(tripWire{
		ID: t.ID, Rider: t.Rider, Driver: t.Driver, State: t.State, Premium: t.Premium,
		PickupLat: t.PickupLat, PickupLng: t.PickupLng, DropLat: t.DropLat, DropLng: t.DropLng,
		Surge: t.Surge, Fare: t.Fare, PickupETAMS: t.PickupETA.Milliseconds(), Reason: t.Reason,
		Created: t.Created.UTC(), Updated: t.Updated.UTC(), Ended: t.Ended.UTC(), Version: t.Version,
	})
	if err != nil { // NaN or infinite coordinates or prices
		return archive.Record{}, fmt.Errorf("rides: encode trip %q: %w: %w", t.ID, archive.ErrInvalid, err)
	}
	return archive.Record{Owner: t.Rider, ID: t.ID, At: t.Ended.UTC(), Data: data}, nil
}

// DecodeTrip returns the trip of a record made by [EncodeTrip]. Data that
// is not such a trip (malformed JSON, unknown fields, a state that is not
// an end state, a negative version) or that disagrees with the record's
// Owner, ID or At returns an error matching [archive.ErrInvalid].
func DecodeTrip(r archive.Record) (Trip, error) {
	var w tripWire
	dec := json.NewDecoder(bytes.NewReader(r.Data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&w); err != nil {
		return Trip{}, fmt.Errorf("rides: decode record %q: %w: %w", r.ID, archive.ErrInvalid, err)
	}
	if dec.More() {
		return Trip{}, fmt.Errorf("rides: decode record %q: data after the trip: %w", r.ID, archive.ErrInvalid)
	}
	switch {
	case w.ID != r.ID || w.Rider != r.Owner || !w.Ended.Equal(r.At):
		return Trip{}, fmt.Errorf("rides: decode record %q: trip %q of rider %q ended %v does not match: %w",
			r.ID, w.ID, w.Rider, w.Ended, archive.ErrInvalid)
	case !w.State.Terminal() || w.Version < 0 || w.ID == "" || w.Rider == "":
		return Trip{}, fmt.Errorf("rides: decode record %q: not an ended trip: %w", r.ID, archive.ErrInvalid)
	}
	return Trip{
		ID: w.ID, Rider: w.Rider, Driver: w.Driver, State: w.State, Premium: w.Premium,
		PickupLat: w.PickupLat, PickupLng: w.PickupLng, DropLat: w.DropLat, DropLng: w.DropLng,
		Surge: w.Surge, Fare: w.Fare, PickupETA: time.Duration(w.PickupETAMS) * time.Millisecond, Reason: w.Reason,
		Created: w.Created.UTC(), Updated: w.Updated.UTC(), Ended: w.Ended.UTC(), Version: w.Version,
	}, nil
}

// EncodeCursor returns the opaque form of a history position, as the API
// hands it out ("next"): URL-safe base64 of "<unix nanoseconds>.<trip id>".
// The zero Cursor is the empty string.
func EncodeCursor(c archive.Cursor) string {
	if c.IsZero() {
		return ""
	}
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(c.At.UnixNano(), 10) + "." + c.ID))
}

// DecodeCursor parses a cursor made by [EncodeCursor]; the empty string is
// the zero Cursor (the newest trip). Anything else returns an error
// matching [ErrInvalidInput].
func DecodeCursor(s string) (archive.Cursor, error) {
	if s == "" {
		return archive.Cursor{}, nil
	}
	bad := inputErr("cursor %.80q: not a cursor this service returned", s)
	if len(s) > 128 {
		return archive.Cursor{}, bad
	}
	b, err := base64.RawURLEncoding.Strict().DecodeString(s)
	if err != nil {
		return archive.Cursor{}, bad
	}
	ns, id, ok := strings.Cut(string(b), ".")
	if !ok || !validID(id) || ns == "" || ns[0] == '+' || ns[0] == '-' || (len(ns) > 1 && ns[0] == '0') {
		return archive.Cursor{}, bad
	}
	n, err := strconv.ParseInt(ns, 10, 64)
	if err != nil || n <= 0 {
		return archive.Cursor{}, bad
	}
	return archive.Cursor{At: time.Unix(0, n).UTC(), ID: id}, nil
}
