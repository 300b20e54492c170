package reservation

import (
	"fmt"
	"time"
)

// Date is a calendar day with no time zone, counted in days since
// 1970-01-01. A stay books nights: the night of date d starts on d and ends
// on d+1, so a stay from CheckIn to CheckOut holds the nights CheckIn,
// CheckIn+1, ..., CheckOut-1. Dates compare with < and ==.
type Date int32

// Bounds of the dates the package accepts (the range of a SQL DATE that
// every adapter can store).
const (
	MinDate Date = 0       // 1970-01-01
	MaxDate Date = 2932896 // 9999-12-31
)

const secondsPerDay = 24 * 60 * 60

// DateOf returns the date year-month-day. Out-of-range values are normalised
// as by [time.Date] (October 32 is November 1).
func DateOf(year int, month time.Month, day int) Date {
	return DateFromTime(time.Date(year, month, day, 0, 0, 0, 0, time.UTC))
}

// DateFromTime returns the calendar day of t in t's own location.
func DateFromTime(t time.Time) Date {
	y, m, d := t.Date()
	u := time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Unix()
	days := u / secondsPerDay
	if u%secondsPerDay < 0 {
		days--
	}
	return Date(days)
}

// ParseDate parses "YYYY-MM-DD" (exactly four, two and two digits) into a
// Date between [MinDate] and [MaxDate]. Any other input returns an error
// matching [ErrInvalid].
func ParseDate(s string) (Date, error) {
	if len(s) != 10 || s[4] != '-' || s[7] != '-' {
		return 0, fmt.Errorf("reservation: parse date %q: want YYYY-MM-DD: %w", s, ErrInvalid)
	}
	num := func(part string) (int, bool) {
		n := 0
		for i := 0; i < len(part); i++ {
			c := part[i]
			if c < '0' || c > '9' {
				return 0, false
			}
			n = n*10 + int(c-'0')
		}
		return n, true
	}
	y, ok1 := num(s[:4])
	m, ok2 := num(s[5:7])
	d, ok3 := num(s[8:])
	if !ok1 || !ok2 || !ok3 || m < 1 || m > 12 || d < 1 || d > daysIn(time.Month(m), y) {
		return 0, fmt.Errorf("reservation: parse date %q: not a calendar day: %w", s, ErrInvalid)
	}
	date := DateOf(y, time.Month(m), d)
	if !date.Valid() {
		return 0, fmt.Errorf("reservation: parse date %q: outside %s..%s: %w", s, MinDate, MaxDate, ErrInvalid)
	}
	return date, nil
}

func daysIn(m time.Month, year int) int {
	return time.Date(year, m+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

// Valid reports whether MinDate <= d <= MaxDate.
func (d Date) Valid() bool { return d >= MinDate && d <= MaxDate }

// Time returns midnight UTC at the start of d.
func (d Date) Time() time.Time { return time.Unix(int64(d)*secondsPerDay, 0).UTC() }

// AddDays returns d + n days.
func (d Date) AddDays(n int) Date { return d + Date(n) }

// String returns d as "YYYY-MM-DD".
func (d Date) String() string {
	y, m, day := d.Time().Date()
	return fmt.Sprintf("%04d-%02d-%02d", y, int(m), day)
}

// MarshalText returns d as "YYYY-MM-DD", so that a Date is a JSON string.
func (d Date) MarshalText() ([]byte, error) {
	if !d.Valid() {
		return nil, fmt.Errorf("reservation: date %d out of range: %w", int32(d), ErrInvalid)
	}
	return []byte(d.String()), nil
}

// UnmarshalText parses "YYYY-MM-DD" as [ParseDate] does.
func (d *Date) UnmarshalText(b []byte) error {
	v, err := ParseDate(string(b))
	if err != nil {
		return err
	}
	*d = v
	return nil
}
