package archivesource

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/sysblocks/sysblocks/archive"
	"github.com/sysblocks/sysblocks/reservation"
)

// Source is a [reservation.Service] seen as an [archive.Source], an
// [archive.RecordDeleter] and an [archive.Lister]. It is safe for
// concurrent use.
type Source struct {
	svc *reservation.Service
}

var (
	_ archive.Source        = (*Source)(nil)
	_ archive.RecordDeleter = (*Source)(nil)
	_ archive.Lister        = (*Source)(nil)
)

// New returns the Source of svc.
func New(svc *reservation.Service) *Source { return &Source{svc: svc} }

// Due implements [archive.Source]: up to limit Cancelled or Completed
// bookings last changed before cutoff, oldest change first. A limit above
// [reservation.MaxListLimit] returns at most that many.
func (s *Source) Due(ctx context.Context, cutoff time.Time, limit int) ([]archive.Record, error) {
	if limit < 1 {
		return nil, fmt.Errorf("archivesource: due: limit %d: %w", limit, archive.ErrInvalid)
	}
	bs, err := s.svc.Archivable(ctx, cutoff, min(limit, reservation.MaxListLimit))
	if err != nil {
		return nil, err
	}
	return encodeAll(bs)
}

// Delete implements [archive.Source]: it purges the bookings with the
// given IDs that are Cancelled or Completed, at whatever version.
func (s *Source) Delete(ctx context.Context, ids []string) error {
	refs := make([]reservation.Ref, len(ids))
	for i, id := range ids {
		refs[i] = reservation.Ref{ID: id}
	}
	return s.purge(ctx, refs)
}

// DeleteRecords implements [archive.RecordDeleter]: it purges each booking
// only if it is Cancelled or Completed at the version encoded in its
// record.
func (s *Source) DeleteRecords(ctx context.Context, recs []archive.Record) error {
	refs := make([]reservation.Ref, len(recs))
	for i, r := range recs {
		b, err := Decode(r)
		if err != nil {
			return err
		}
		refs[i] = reservation.Ref{ID: b.ID, Version: b.Version}
	}
	return s.purge(ctx, refs)
}

func (s *Source) purge(ctx context.Context, refs []reservation.Ref) error {
	for len(refs) > 0 {
		n := min(len(refs), reservation.MaxPurge)
		if _, err := s.svc.Purge(ctx, refs[:n]); err != nil {
			return err
		}
		refs = refs[n:]
	}
	return nil
}

// List implements [archive.Lister]: owner's bookings still in the live
// store, in every state, newest Created first.
func (s *Source) List(ctx context.Context, owner string, after archive.Cursor, limit int) ([]archive.Record, error) {
	if limit < 1 {
		return nil, fmt.Errorf("archivesource: list %q: limit %d: %w", owner, limit, archive.ErrInvalid)
	}
	var out []archive.Record
	cur := reservation.Cursor{Created: after.At, ID: after.ID}
	for len(out) < limit {
		n := min(limit-len(out), reservation.MaxListLimit)
		bs, err := s.svc.UserBookings(ctx, owner, cur, n)
		if err != nil {
			return nil, err
		}
		recs, err := encodeAll(bs)
		if err != nil {
			return nil, err
		}
		out = append(out, recs...)
		if len(bs) < n {
			break
		}
		last := bs[len(bs)-1]
		cur = reservation.Cursor{Created: last.Created, ID: last.ID}
	}
	return out, nil
}

func encodeAll(bs []reservation.Booking) ([]archive.Record, error) {
	out := make([]archive.Record, len(bs))
	for i, b := range bs {
		r, err := Encode(b)
		if err != nil {
			return nil, err
		}
		out[i] = r
	}
	return out, nil
}

// wire is the JSON form of a booking in a record. Field names are part of
// the archive format: never rename one.
type wire struct {
	ID             string            `json:"id"`
	Key            string            `json:"key"`
	User           string            `json:"user"`
	Room           string            `json:"room"`
	CheckIn        reservation.Date  `json:"check_in"`
	CheckOut       reservation.Date  `json:"check_out"`
	Quantity       int               `json:"quantity"`
	State          reservation.State `json:"state"`
	Reason         string            `json:"reason,omitempty"`
	ExpiresAt      time.Time         `json:"expires_at"`
	PaymentID      string            `json:"payment_id,omitempty"`
	InvoiceID      string            `json:"invoice_id,omitempty"`
	RefundRequired bool              `json:"refund_required,omitempty"`
	Rebooks        string            `json:"rebooks,omitempty"`
	Created        time.Time         `json:"created"`
	Updated        time.Time         `json:"updated"`
	Version        int64             `json:"version"`
}

// Encode returns the record of b: Owner = b.User, ID = b.ID, At =
// b.Created (in UTC) and Data = b as JSON. A booking without ID, User or
// Created returns an error matching [archive.ErrInvalid].
func Encode(b reservation.Booking) (archive.Record, error) {
	if b.ID == "" || b.User == "" || b.Created.IsZero() {
		return archive.Record{}, fmt.Errorf("archivesource: encode booking %q of user %q created %v: %w", b.ID, b.User, b.Created, archive.ErrInvalid)
	}
	data, err := json.Marshal(wire{
		ID: b.ID, Key: b.Key, User: b.User, Room: b.Room, CheckIn: b.CheckIn, CheckOut: b.CheckOut,
		Quantity: b.Quantity, State: b.State, Reason: string(b.Reason), ExpiresAt: b.ExpiresAt.UTC(),
		PaymentID: b.PaymentID, InvoiceID: b.InvoiceID, RefundRequired: b.RefundRequired, Rebooks: b.Rebooks,
		Created: b.Created.UTC(), Updated: b.Updated.UTC(), Version: b.Version,
	})
	if err != nil {
		return archive.Record{}, fmt.Errorf("archivesource: encode booking %q: %w", b.ID, err)
	}
	return archive.Record{Owner: b.User, ID: b.ID, At: b.Created.UTC(), Data: data}, nil
}

// Decode returns the booking of a record made by [Encode]. Data that is
// not such a booking (malformed JSON, unknown fields, an invalid state or
// date, a version below 1) or that disagrees with the record's Owner, ID
// or At returns an error matching [archive.ErrInvalid].
func Decode(r archive.Record) (reservation.Booking, error) {
	var w wire
	dec := json.NewDecoder(bytes.NewReader(r.Data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&w); err != nil {
		return reservation.Booking{}, fmt.Errorf("archivesource: decode record %q: %w: %w", r.ID, archive.ErrInvalid, err)
	}
	if dec.More() {
		return reservation.Booking{}, fmt.Errorf("archivesource: decode record %q: data after the booking: %w", r.ID, archive.ErrInvalid)
	}
	switch {
	case w.ID != r.ID || w.User != r.Owner || !w.Created.Equal(r.At):
		return reservation.Booking{}, fmt.Errorf("archivesource: decode record %q: booking %q of user %q created %v does not match: %w",
			r.ID, w.ID, w.User, w.Created, archive.ErrInvalid)
	case !w.State.Valid() || w.Version < 1 || w.Quantity < 1 || !w.CheckIn.Valid() || !w.CheckOut.Valid() || w.CheckIn >= w.CheckOut:
		return reservation.Booking{}, fmt.Errorf("archivesource: decode record %q: invalid booking: %w", r.ID, archive.ErrInvalid)
	}
	return reservation.Booking{
		ID: w.ID, Key: w.Key, User: w.User, Room: w.Room, CheckIn: w.CheckIn, CheckOut: w.CheckOut,
		Quantity: w.Quantity, State: w.State, Reason: reservation.Reason(w.Reason), ExpiresAt: w.ExpiresAt.UTC(),
		PaymentID: w.PaymentID, InvoiceID: w.InvoiceID, RefundRequired: w.RefundRequired, Rebooks: w.Rebooks,
		Created: w.Created.UTC(), Updated: w.Updated.UTC(), Version: w.Version,
	}, nil
}
