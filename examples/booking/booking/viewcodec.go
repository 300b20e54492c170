package booking

import (
	"encoding/binary"
	"errors"
	"math"
	"time"

	"github.com/sysblocks/sysblocks/reservation"
)

// ViewCodec stores a View in the cache in a compact binary form: a
// version byte, then uvarints and length-prefixed strings. Decoding it is
// tens of times cheaper than JSON, which matters because a cached view is
// decoded on every read. The zero value is ready to use.
type ViewCodec struct{}

const viewFormat = 2

// errView reports bytes that are not an encoded View.
var errView = errors.New("booking: undecodable view")

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// Encode implements cache.Codec.
func (ViewCodec) Encode(v View) ([]byte, error) {
	n := 32 + len(v.Hotel)
	for _, r := range v.Rooms {
		n += 16 + len(r.Room) + len(r.Name) + 12*len(r.Nights) + 64*len(r.Bookings)
	}
	b := make([]byte, 0, n)
	b = append(b, viewFormat)
	b = appendString(b, v.Hotel)
	b = binary.AppendVarint(b, int64(v.From))
	b = binary.AppendVarint(b, int64(v.To))
	b = binary.AppendVarint(b, v.Generated.UnixNano())
	b = binary.AppendUvarint(b, uint64(len(v.Rooms)))
	for _, r := range v.Rooms {
		b = appendString(b, r.Room)
		b = appendString(b, r.Name)
		b = binary.AppendUvarint(b, uint64(len(r.Nights)))
		for _, n := range r.Nights {
			b = binary.AppendVarint(b, int64(n.Date))
			b = binary.AppendUvarint(b, uint64(n.Offered))
			b = binary.AppendUvarint(b, uint64(n.Available))
		}
		b = binary.AppendUvarint(b, uint64(len(r.Bookings)))
		for _, x := range r.Bookings {
			b = appendString(b, x.ID)
			b = appendString(b, x.User)
			b = appendString(b, string(x.State))
			b = binary.AppendVarint(b, int64(x.CheckIn))
			b = binary.AppendVarint(b, int64(x.CheckOut))
			b = binary.AppendUvarint(b, uint64(x.Quantity))
			var exp int64 // 0: no deadline
			if x.ExpiresAt != nil {
				exp = x.ExpiresAt.UnixNano()
			}
			b = binary.AppendVarint(b, exp)
		}
		more := byte(0)
		if r.More {
			more = 1
		}
		b = append(b, more)
	}
	return b, nil
}

type viewReader struct {
	b   []byte
	err bool
}

func (r *viewReader) uvarint(max uint64) uint64 {
	v, n := binary.Uvarint(r.b)
	if n <= 0 || v > max {
		r.err, r.b = true, nil
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *viewReader) varint(min, max int64) int64 {
	v, n := binary.Varint(r.b)
	if n <= 0 || v < min || v > max {
		r.err, r.b = true, nil
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *viewReader) flag() bool {
	if len(r.b) == 0 || r.b[0] > 1 {
		r.err, r.b = true, nil
		return false
	}
	f := r.b[0] == 1
	r.b = r.b[1:]
	return f
}

func (r *viewReader) string() string {
	n := r.uvarint(math.MaxInt32)
	if n > uint64(len(r.b)) {
		r.err, r.b = true, nil
		return ""
	}
	s := string(r.b[:n])
	r.b = r.b[n:]
	return s
}

// Decode implements cache.Codec. Bytes that are not an encoded View
// return an error (the cache then treats them as a miss).
func (ViewCodec) Decode(b []byte) (View, error) {
	if len(b) == 0 || b[0] != viewFormat {
		return View{}, errView
	}
	r := &viewReader{b: b[1:]}
	v := View{Hotel: r.string()}
	v.From = reservation.Date(r.varint(int64(reservation.MinDate), int64(reservation.MaxDate)))
	v.To = reservation.Date(r.varint(int64(reservation.MinDate), int64(reservation.MaxDate)))
	v.Generated = time.Unix(0, r.varint(math.MinInt64, math.MaxInt64)).UTC()
	rooms := r.uvarint(uint64(len(r.b)))
	v.Rooms = make([]RoomView, 0, rooms)
	for range rooms {
		rv := RoomView{Room: r.string(), Name: r.string()}
		nights := r.uvarint(uint64(len(r.b)) / 3)
		rv.Nights = make([]NightView, 0, nights)
		for range nights {
			n := NightView{Date: reservation.Date(r.varint(int64(reservation.MinDate), int64(reservation.MaxDate)))}
			n.Offered = int(r.uvarint(reservation.MaxRooms))
			n.Available = int(r.uvarint(uint64(n.Offered)))
			n.Taken = n.Offered - n.Available
			rv.Nights = append(rv.Nights, n)
		}
		count := r.uvarint(uint64(len(r.b)) / 8)
		rv.Bookings = make([]ViewBooking, 0, count)
		for range count {
			x := ViewBooking{ID: r.string(), User: r.string(), Room: rv.Room, State: reservation.State(r.string())}
			x.CheckIn = reservation.Date(r.varint(int64(reservation.MinDate), int64(reservation.MaxDate)))
			x.CheckOut = reservation.Date(r.varint(int64(x.CheckIn)+1, int64(reservation.MaxDate)))
			x.Nights = int(x.CheckOut - x.CheckIn)
			x.Quantity = int(r.uvarint(reservation.MaxRooms))
			if exp := r.varint(math.MinInt64, math.MaxInt64); exp != 0 {
				t := time.Unix(0, exp).UTC()
				x.ExpiresAt = &t
			}
			if !x.State.Valid() || (x.ExpiresAt != nil) != (x.State == reservation.Reserved) {
				r.err, r.b = true, nil
			}
			rv.Bookings = append(rv.Bookings, x)
		}
		rv.More = r.flag()
		v.Rooms = append(v.Rooms, rv)
	}
	if r.err || len(r.b) != 0 {
		return View{}, errView
	}
	return v, nil
}
