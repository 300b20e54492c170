package archivesource_test

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sysblocks/sysblocks/archive"
	archmem "github.com/sysblocks/sysblocks/archive/memstore"
	"github.com/sysblocks/sysblocks/reservation"
	"github.com/sysblocks/sysblocks/reservation/archivesource"
	resmem "github.com/sysblocks/sysblocks/reservation/memstore"
)

func sample() reservation.Booking {
	at := time.Date(2031, 1, 1, 9, 0, 0, 123456789, time.UTC)
	return reservation.Booking{
		ID: "bk_1", Key: "key-1", User: "ann", Room: "deluxe", CheckIn: reservation.DateOf(2031, 1, 2),
		CheckOut: reservation.DateOf(2031, 1, 4), Quantity: 2, State: reservation.Cancelled, Reason: reservation.ReasonLatePayment,
		ExpiresAt: at.Add(10 * time.Minute), PaymentID: "pay", InvoiceID: "inv", RefundRequired: true, Rebooks: "bk_0",
		Created: at, Updated: at.Add(time.Hour), Version: 3,
	}
}

func TestEncodeDecode(t *testing.T) {
	b := sample()
	r, err := archivesource.Encode(b)
	if err != nil {
		t.Fatal(err)
	}
	if r.Owner != "ann" || r.ID != "bk_1" || !r.At.Equal(b.Created) {
		t.Fatalf("Encode = %+v; want Owner ann, ID bk_1, At = Created", r)
	}
	got, err := archivesource.Decode(r)
	if err != nil || got != b {
		t.Fatalf("Decode(Encode(b)) = %+v, %v;\nwant %+v", got, err, b)
	}
	// Times in another zone come back as the same instants, in UTC.
	z := b
	z.Created = b.Created.In(time.FixedZone("X", 3600))
	r, _ = archivesource.Encode(z)
	if got, err := archivesource.Decode(r); err != nil || got != b {
		t.Fatalf("Decode of a booking created in another zone = %+v, %v", got, err)
	}
	for name, bad := range map[string]reservation.Booking{
		"no id":      {User: "a", Created: b.Created},
		"no user":    {ID: "x", Created: b.Created},
		"no created": {ID: "x", User: "a"},
	} {
		if _, err := archivesource.Encode(bad); !errors.Is(err, archive.ErrInvalid) {
			t.Errorf("Encode(%s) err = %v; want ErrInvalid", name, err)
		}
	}
}

func TestDecodeRefuses(t *testing.T) {
	good, _ := archivesource.Encode(sample())
	edit := func(f func(*archive.Record)) archive.Record {
		r := good
		f(&r)
		return r
	}
	for name, r := range map[string]archive.Record{
		"not json":      edit(func(r *archive.Record) { r.Data = []byte("nope") }),
		"empty":         edit(func(r *archive.Record) { r.Data = nil }),
		"trailing data": edit(func(r *archive.Record) { r.Data = append(append([]byte{}, r.Data...), "{}"...) }),
		"other owner":   edit(func(r *archive.Record) { r.Owner = "bob" }),
		"other id":      edit(func(r *archive.Record) { r.ID = "bk_2" }),
		"other at":      edit(func(r *archive.Record) { r.At = r.At.Add(time.Nanosecond) }),
		"unknown field": edit(func(r *archive.Record) { r.Data = []byte(`{"id":"bk_1","evil":1}`) }),
		"bad state": edit(func(r *archive.Record) {
			r.Data = []byte(`{"id":"bk_1","user":"ann","state":"gone","created":"` + r.At.Format(time.RFC3339Nano) + `","version":1,"quantity":1,"check_in":"2031-01-02","check_out":"2031-01-03"}`)
		}),
		"bad dates": edit(func(r *archive.Record) {
			r.Data = []byte(`{"id":"bk_1","user":"ann","state":"booked","created":"` + r.At.Format(time.RFC3339Nano) + `","version":1,"quantity":1,"check_in":"2031-01-03","check_out":"2031-01-02"}`)
		}),
	} {
		if _, err := archivesource.Decode(r); !errors.Is(err, archive.ErrInvalid) {
			t.Errorf("Decode(%s) err = %v; want ErrInvalid", name, err)
		}
	}
}

// Decode never panics, refuses with ErrInvalid, and what it accepts
// encodes back to a record that decodes to the same booking.
func FuzzDecode(f *testing.F) {
	good, _ := archivesource.Encode(sample())
	f.Add(good.Owner, good.ID, good.At.UnixNano(), good.Data)
	f.Add("ann", "bk_1", int64(0), []byte(`{"id":"bk_1"}`))
	f.Add("", "", int64(-1), []byte(`null`))
	f.Add("a", "b", int64(1), []byte(`{"check_in":"2031-02-30"}`))
	f.Fuzz(func(t *testing.T, owner, id string, at int64, data []byte) {
		r := archive.Record{Owner: owner, ID: id, At: time.Unix(0, at).UTC(), Data: data}
		b, err := archivesource.Decode(r)
		if err != nil {
			if !errors.Is(err, archive.ErrInvalid) {
				t.Fatalf("Decode err = %v; want ErrInvalid", err)
			}
			return
		}
		r2, err := archivesource.Encode(b)
		if err != nil {
			t.Fatalf("Encode(Decode(r)) err = %v", err)
		}
		b2, err := archivesource.Decode(r2)
		if err != nil || b2 != b {
			t.Fatalf("round trip = %+v, %v;\nwant %+v", b2, err, b)
		}
	})
}

type memFixture struct {
	svc   *reservation.Service
	src   *archivesource.Source
	cold  *archmem.Store
	clock atomic.Pointer[time.Time]
}

func newMem(t *testing.T) *memFixture {
	f := &memFixture{cold: archmem.New()}
	f.set(janFirst)
	svc, err := reservation.New(resmem.New(), &reservation.Options{Now: func() time.Time { return *f.clock.Load() }})
	if err != nil {
		t.Fatal(err)
	}
	f.svc, f.src = svc, archivesource.New(svc)
	jan2 := reservation.DateOf(2031, 1, 2)
	if err := svc.SetInventory(context.Background(), "room", jan2, jan2+1, 10_000); err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *memFixture) set(at time.Time) { f.clock.Store(&at) }

func (f *memFixture) hold(t *testing.T, user string, i int) reservation.Booking {
	jan2 := reservation.DateOf(2031, 1, 2)
	b, err := f.svc.Hold(context.Background(), reservation.HoldRequest{Key: fmt.Sprintf("%s-%d", user, i), User: user, Room: "room",
		Quantity: 1, CheckIn: jan2, CheckOut: jan2 + 1})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// End to end on memory stores: cancelled bookings move, live ones stay,
// and the merged history lists all of them once.
func TestArchiveBookings(t *testing.T) {
	ctx := context.Background()
	f := newMem(t)
	var all []string
	for i := range 30 {
		f.set(janFirst.Add(time.Duration(i) * time.Second))
		b := f.hold(t, "ann", i)
		if i%3 != 0 {
			if _, err := f.svc.Fail(ctx, b.ID); err != nil {
				t.Fatal(err)
			}
		}
		all = append([]string{b.ID}, all...) // newest first
	}
	a, err := archive.New(f.src, f.cold, &archive.Options{Age: 24 * time.Hour, Batch: 7,
		Now: func() time.Time { return janFirst.Add(48 * time.Hour) }})
	if err != nil {
		t.Fatal(err)
	}
	if moved, err := a.RunOnce(ctx); err != nil || moved != 20 {
		t.Fatalf("RunOnce = %d, %v; want 20 cancelled bookings moved", moved, err)
	}
	if f.cold.Len() != 20 {
		t.Fatalf("cold store has %d records; want 20", f.cold.Len())
	}
	live, err := f.svc.UserBookings(ctx, "ann", reservation.Cursor{}, 100)
	if err != nil || len(live) != 10 {
		t.Fatalf("UserBookings = %d, %v; want the 10 holds", len(live), err)
	}
	for _, b := range live {
		if b.State != reservation.Reserved {
			t.Fatalf("a %s booking stayed live", b.State)
		}
	}
	var got []string
	var after archive.Cursor
	for {
		page, next, err := archive.Merge(ctx, "ann", after, 4, f.src, f.cold)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range page {
			got = append(got, r.ID)
		}
		if next.IsZero() {
			break
		}
		after = next
	}
	if fmt.Sprint(got) != fmt.Sprint(all) {
		t.Fatalf("merged history = %v;\nwant %v", got, all)
	}
}

// A booking changed between Due and the delete (a cancelled hold marked
// for refund by a late payment) is not deleted: the stale copy in the cold
// store is hidden by the live one, and the next pass copies the new one.
func TestChangedAfterCopyStaysLive(t *testing.T) {
	ctx := context.Background()
	f := newMem(t)
	b := f.hold(t, "ann", 0)
	if _, err := f.svc.Cancel(ctx, b.ID); err != nil {
		t.Fatal(err)
	}
	recs, err := f.src.Due(ctx, janFirst.Add(time.Hour), 10)
	if err != nil || len(recs) != 1 {
		t.Fatalf("Due = %d, %v; want the cancelled booking", len(recs), err)
	}
	if err := f.cold.Put(ctx, recs); err != nil {
		t.Fatal(err)
	}
	// A late payment for the cancelled booking: it is refunded, which
	// changes the booking (version 3, RefundRequired).
	later := janFirst.Add(time.Minute)
	f.set(later)
	changed, err := f.svc.Confirm(ctx, b.ID, reservation.Payment{ID: "late"})
	if !errors.Is(err, reservation.ErrRefundRequired) || !changed.RefundRequired {
		t.Fatalf("Confirm after cancel = %+v, %v; want ErrRefundRequired", changed, err)
	}
	if err := f.src.DeleteRecords(ctx, recs); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Get(ctx, b.ID); err != nil {
		t.Fatalf("the changed booking was deleted: %v", err)
	}
	page, _, err := archive.Merge(ctx, "ann", archive.Cursor{}, 10, f.src, f.cold)
	if err != nil || len(page) != 1 {
		t.Fatalf("Merge = %d records, %v; want 1", len(page), err)
	}
	if got, _ := archivesource.Decode(page[0]); !got.RefundRequired {
		t.Fatal("Merge shows the stale archived copy, not the live booking")
	}
	// Plain Delete ignores versions but still never deletes live holds.
	h := f.hold(t, "ann", 1)
	if err := f.src.Delete(ctx, []string{b.ID, h.ID, "bk_unknown"}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Get(ctx, h.ID); err != nil {
		t.Fatalf("Delete removed a live hold: %v", err)
	}
	if _, err := f.svc.Get(ctx, b.ID); !errors.Is(err, reservation.ErrNotFound) {
		t.Fatalf("Delete left the cancelled booking: %v", err)
	}
}

// List fills pages larger than the service's page limit.
func TestListLargePage(t *testing.T) {
	ctx := context.Background()
	f := newMem(t)
	for i := range reservation.MaxListLimit + 5 {
		f.set(janFirst.Add(time.Duration(i) * time.Millisecond))
		f.hold(t, "ann", i)
	}
	got, err := f.src.List(ctx, "ann", archive.Cursor{}, reservation.MaxListLimit+1)
	if err != nil || len(got) != reservation.MaxListLimit+1 {
		t.Fatalf("List(limit %d) = %d records, %v", reservation.MaxListLimit+1, len(got), err)
	}
	for i := 1; i < len(got); i++ {
		if archive.Compare(got[i-1], got[i]) >= 0 {
			t.Fatalf("List is not in order at %d", i)
		}
	}
	if _, err := f.src.List(ctx, "ann", archive.Cursor{}, 0); !errors.Is(err, archive.ErrInvalid) {
		t.Fatalf("List(limit 0) err = %v; want ErrInvalid", err)
	}
}
