package rides

import (
	"math"
	"time"

	"github.com/sysblocks/sysblocks/geogrid"
)

// Pricing turns a trip's length and duration and the surge of its pickup
// cell into a fare. The zero value of every field is a documented default.
type Pricing struct {
	// Base is the flag-fall. Zero means 50.
	Base float64
	// PerKm is the price per road kilometre. Zero means 12.
	PerKm float64
	// PerMinute is the price per minute of driving. Zero means 2.
	PerMinute float64
	// Minimum is the lowest fare before surge. Zero means 80.
	Minimum float64
	// Detour is the ratio of road distance to straight-line distance.
	// Zero means 1.3, as geogrid.StraightLine.
	Detour float64
	// MaxSurge caps the surge multiplier. Zero means 3.
	MaxSurge float64
	// Currency names the unit of fares. Empty means "INR".
	Currency string
}

func (p Pricing) withDefaults() Pricing {
	def := func(v *float64, d float64) {
		if *v == 0 {
			*v = d
		}
	}
	def(&p.Base, 50)
	def(&p.PerKm, 12)
	def(&p.PerMinute, 2)
	def(&p.Minimum, 80)
	def(&p.Detour, 1.3)
	def(&p.MaxSurge, 3)
	if p.Currency == "" {
		p.Currency = "INR"
	}
	return p
}

// Surge returns the price multiplier for supply and demand in a cell: 1
// while there is at least one driver per request, then 1 + half the excess
// ratio, rounded up to a tenth and capped at MaxSurge.
//
//	demand/supply  1    1.5   2    3    5
//	surge          1.0  1.3   1.5  2.0  3.0
func (p Pricing) Surge(c geogrid.Counts) float64 {
	p = p.withDefaults()
	r := c.Ratio()
	if r <= 1 {
		return 1
	}
	s := math.Ceil((1+(r-1)/2)*10-1e-9) / 10
	return math.Min(s, p.MaxSurge)
}

// Fare returns the price of a trip of straight-line length meters and
// driving time d at the given surge, rounded to a hundredth.
func (p Pricing) Fare(meters float64, d time.Duration, surge float64) float64 {
	p = p.withDefaults()
	f := p.Base + p.PerKm*meters*p.Detour/1000 + p.PerMinute*d.Minutes()
	f = math.Max(f, p.Minimum) * surge
	return math.Round(f*100) / 100
}
