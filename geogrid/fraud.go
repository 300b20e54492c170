package geogrid

import "sync"

// FraudOptions configures a [Fraud] check. Zero fields take the documented
// defaults; a nil *FraudOptions means all defaults.
type FraudOptions struct {
	// Meters is the distance under which a rider and a driver count as
	// being in the same place. Zero means 30.
	Meters float64
	// Repeats is how many co-located reports flag a rider and driver pair.
	// Zero means 3.
	Repeats int
}

// Verdict is the outcome of one [Fraud.Report].
type Verdict struct {
	Colocated bool // this report put rider and driver in the same place
	Count     int  // co-located reports of this rider and driver so far
	Flagged   bool // Count reached Repeats
}

// Fraud flags a driver who books rides for himself: the rider's phone and
// the driver's phone report the same location, again and again, at times
// when a genuine driver would still be elsewhere (at booking and while
// approaching the pickup). Callers report only those moments, never the
// ride itself, when rider and driver share the car legitimately. Counts are
// kept per (rider, driver) pair across trips. A Fraud lives in one process
// and is safe for concurrent use.
type Fraud struct {
	meters  float64
	repeats int
	mu      sync.Mutex
	pairs   map[[2]string]int
}

// NewFraud returns a Fraud check. It returns an [*InputError] for negative
// options.
func NewFraud(opts *FraudOptions) (*Fraud, error) {
	var o FraudOptions
	if opts != nil {
		o = *opts
	}
	if o.Meters == 0 {
		o.Meters = 30
	}
	if o.Repeats == 0 {
		o.Repeats = 3
	}
	if !(o.Meters > 0) {
		return nil, &InputError{Op: "fraud", Field: "Meters", Value: o.Meters, Reason: "must be positive"}
	}
	if o.Repeats < 1 {
		return nil, &InputError{Op: "fraud", Field: "Repeats", Value: float64(o.Repeats), Reason: "must be positive"}
	}
	return &Fraud{meters: o.Meters, repeats: o.Repeats, pairs: map[[2]string]int{}}, nil
}

// Report records where rider and driver were at one moment before pickup
// and returns the verdict for the pair.
func (f *Fraud) Report(rider, driver string, riderLat, riderLng, driverLat, driverLng float64) (Verdict, error) {
	if err := CheckPoint("fraud", riderLat, riderLng); err != nil {
		return Verdict{}, err
	}
	if err := CheckPoint("fraud", driverLat, driverLng); err != nil {
		return Verdict{}, err
	}
	v := Verdict{Colocated: Distance(riderLat, riderLng, driverLat, driverLng) <= f.meters}
	k := [2]string{rider, driver}
	f.mu.Lock()
	if v.Colocated {
		f.pairs[k]++
	}
	v.Count = f.pairs[k]
	f.mu.Unlock()
	v.Flagged = v.Count >= f.repeats
	return v, nil
}

// Flagged reports whether the pair has been flagged.
func (f *Fraud) Flagged(rider, driver string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.pairs[[2]string{rider, driver}] >= f.repeats
}
