package shortid

import (
	"fmt"
	"math"
	"math/bits"
)

// SecondsPerYear is the length of the 365-day year used by the capacity
// arithmetic: 60*60*24*365.
const SecondsPerYear = 60 * 60 * 24 * 365

// MaxLength is the longest code a [Codec] supports: 62^10 is the largest
// power of 62 that fits in a uint64.
const MaxLength = 10

// pow62 returns 62^n for n in [0, MaxLength].
func pow62(n int) uint64 {
	p := uint64(1)
	for range n {
		p *= 62
	}
	return p
}

// Capacity returns 62^length, the number of distinct codes of that length,
// or 0 when length is outside [0, MaxLength].
func Capacity(length int) uint64 {
	if length < 0 || length > MaxLength {
		return 0
	}
	return pow62(length)
}

// Sizing is the capacity plan for a request volume, as in the design notes:
// Requests = X*60*60*24*365*years, and Length is the smallest n with
// 62^n > Requests.
type Sizing struct {
	Requests uint64  // Y, the number of codes needed
	Log62    float64 // log62(Y), for display: the length must exceed it
	Length   int     // the smallest n with 62^n > Y
	Capacity uint64  // 62^Length
}

// Size plans codes for requestsPerSecond sustained for years. It returns an
// error matching [ErrCapacity] when the volume overflows uint64 or needs
// more than MaxLength characters.
func Size(requestsPerSecond, years uint64) (Sizing, error) {
	y, err := Requests(requestsPerSecond, years)
	if err != nil {
		return Sizing{}, err
	}
	n, err := LengthFor(y)
	if err != nil {
		return Sizing{}, err
	}
	s := Sizing{Requests: y, Length: n, Capacity: pow62(n)}
	if y > 0 {
		s.Log62 = math.Log(float64(y)) / math.Log(62)
	}
	return s, nil
}

// Requests returns requestsPerSecond*60*60*24*365*years, or an error matching
// [ErrCapacity] when the product overflows uint64.
func Requests(requestsPerSecond, years uint64) (uint64, error) {
	hi, perYear := bits.Mul64(requestsPerSecond, SecondsPerYear)
	if hi != 0 {
		return 0, fmt.Errorf("shortid: requests: %d per second overflows: %w", requestsPerSecond, ErrCapacity)
	}
	hi, total := bits.Mul64(perYear, years)
	if hi != 0 {
		return 0, fmt.Errorf("shortid: requests: %d per second for %d years overflows: %w", requestsPerSecond, years, ErrCapacity)
	}
	return total, nil
}

// MinLength returns the shortest code length that gives a distinct code to
// every request of requestsPerSecond sustained for years: the smallest n with
// 62^n > requestsPerSecond*60*60*24*365*years. For 2000 requests per second
// and 10 years it returns 7. The result is at least 1.
func MinLength(requestsPerSecond, years uint64) (int, error) {
	s, err := Size(requestsPerSecond, years)
	return s.Length, err
}

// LengthFor returns the smallest n >= 1 with 62^n > total, or an error
// matching [ErrCapacity] when total >= 62^MaxLength.
func LengthFor(total uint64) (int, error) {
	for n := 1; n <= MaxLength; n++ {
		if pow62(n) > total {
			return n, nil
		}
	}
	return 0, fmt.Errorf("shortid: length for %d codes: more than %d characters needed: %w", total, MaxLength, ErrCapacity)
}
