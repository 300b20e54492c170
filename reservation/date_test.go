package reservation_test

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/sysblocks/sysblocks/reservation"
)

func TestDate(t *testing.T) {
	for _, c := range []struct {
		d    reservation.Date
		want string
	}{
		{reservation.MinDate, "1970-01-01"},
		{reservation.MaxDate, "9999-12-31"},
		{reservation.DateOf(2024, time.February, 29), "2024-02-29"},
		{reservation.DateOf(2023, time.February, 29), "2023-03-01"}, // normalised
		{reservation.DateOf(1969, time.December, 31), "1969-12-31"},
	} {
		if got := c.d.String(); got != c.want {
			t.Errorf("Date(%d).String() = %s; want %s", int32(c.d), got, c.want)
		}
	}
	if !(reservation.MaxDate + 1).Time().After(reservation.MaxDate.Time()) || (reservation.MaxDate + 1).Valid() {
		t.Fatal("MaxDate+1 should be invalid")
	}
	if d := reservation.DateOf(2030, 1, 10); d.AddDays(-9).String() != "2030-01-01" || d.Time() != time.Date(2030, 1, 10, 0, 0, 0, 0, time.UTC) {
		t.Fatalf("AddDays or Time wrong for %s", d)
	}
	// The calendar day of an instant is the one in its own location.
	at := time.Date(2030, 1, 10, 23, 30, 0, 0, time.UTC)
	if got := reservation.DateFromTime(at.In(time.FixedZone("E", 3600))); got.String() != "2030-01-11" {
		t.Fatalf("DateFromTime in UTC+1 = %s; want 2030-01-11", got)
	}
	if got := reservation.DateFromTime(at); got.String() != "2030-01-10" {
		t.Fatalf("DateFromTime in UTC = %s", got)
	}
	b, err := json.Marshal(struct{ D reservation.Date }{reservation.DateOf(2030, 5, 6)})
	if err != nil || string(b) != `{"D":"2030-05-06"}` {
		t.Fatalf("JSON = %s, %v", b, err)
	}
	var v struct{ D reservation.Date }
	if err := json.Unmarshal(b, &v); err != nil || v.D != reservation.DateOf(2030, 5, 6) {
		t.Fatalf("JSON round trip = %v, %v", v.D, err)
	}
	if err := json.Unmarshal([]byte(`{"D":"2030-5-6"}`), &v); !errors.Is(err, reservation.ErrInvalid) {
		t.Fatalf("JSON of a bad date: %v; want ErrInvalid", err)
	}
}

func TestParseDate(t *testing.T) {
	for _, s := range []string{"", "2030-01-1", "2030/01/10", "2030-13-01", "2030-00-10", "2030-02-30",
		"2023-02-29", "1969-12-31", "+030-01-10", "2030-01-1x", " 2030-01-10", "２０３０-01-10"} {
		if d, err := reservation.ParseDate(s); !errors.Is(err, reservation.ErrInvalid) {
			t.Errorf("ParseDate(%q) = %s, %v; want ErrInvalid", s, d, err)
		}
	}
	for _, s := range []string{"1970-01-01", "2024-02-29", "2030-12-31", "9999-12-31"} {
		d, err := reservation.ParseDate(s)
		if err != nil || d.String() != s {
			t.Errorf("ParseDate(%q) = %s, %v", s, d, err)
		}
	}
}

// FuzzParseDate checks that ParseDate accepts exactly the strings that
// time.Parse accepts as YYYY-MM-DD within range, and that String is its
// inverse.
func FuzzParseDate(f *testing.F) {
	for _, s := range []string{"2030-01-10", "2024-02-29", "2023-02-29", "1970-01-01", "9999-12-31", "0000-01-01", "2030-1-10", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := reservation.ParseDate(s)
		ref, refErr := time.Parse("2006-01-02", s)
		refOK := refErr == nil && len(s) == 10 && ref.Year() >= 1970
		if (err == nil) != refOK {
			t.Fatalf("ParseDate(%q) err %v; time.Parse err %v", s, err, refErr)
		}
		if err != nil {
			if !errors.Is(err, reservation.ErrInvalid) {
				t.Fatalf("ParseDate(%q) error %v does not match ErrInvalid", s, err)
			}
			return
		}
		if d.String() != s || d.Time() != ref {
			t.Fatalf("ParseDate(%q) = %s (%v); want %v", s, d, d.Time(), ref)
		}
	})
}
