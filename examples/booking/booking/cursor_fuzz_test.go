package booking_test

import (
	"errors"
	"testing"
	"time"

	"github.com/sysblocks/sysblocks/archive"
	"github.com/sysblocks/sysblocks/examples/booking/booking"
)

// FuzzDecodeCursor checks that any cursor string either decodes to a
// cursor that encodes back to the same string, or fails with ErrInvalid.
func FuzzDecodeCursor(f *testing.F) {
	f.Add("")
	f.Add(booking.EncodeCursor(archive.Cursor{At: time.Date(2026, 3, 1, 10, 0, 0, 123, time.UTC), ID: "bk_abc"}))
	f.Add(booking.EncodeCursor(archive.Cursor{At: time.Unix(0, -5).UTC(), ID: "x"}))
	f.Add("bm90LWEtY3Vyc29y")
	f.Add("!!!")
	f.Add("MTIzLg")
	f.Fuzz(func(t *testing.T, s string) {
		c, err := booking.DecodeCursor(s)
		if err != nil {
			if !errors.Is(err, booking.ErrInvalid) {
				t.Fatalf("DecodeCursor(%q): %v; want ErrInvalid", s, err)
			}
			return
		}
		if s == "" {
			if !c.IsZero() {
				t.Fatalf("DecodeCursor(\"\") = %+v; want the zero cursor", c)
			}
			return
		}
		again, err := booking.DecodeCursor(booking.EncodeCursor(c))
		if err != nil || !again.At.Equal(c.At) || again.ID != c.ID {
			t.Fatalf("round trip of %q: %+v, %v; want %+v", s, again, err, c)
		}
	})
}
