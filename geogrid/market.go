package geogrid

import (
	"sync"
	"time"
)

// MarketOptions configures a [Market]. Zero fields take the documented
// defaults; a nil *MarketOptions means all defaults.
type MarketOptions struct {
	// Level is the cell level at which supply and demand are counted.
	// Zero means 12 (cells about 2 km across).
	Level int
	// Window is the length of one counting window. Zero means one minute.
	Window time.Duration
	// Windows is how many windows are kept in the ring; older windows read
	// as zero. Zero means 15.
	Windows int
}

// Counts are the supply and demand of one cell in one window.
type Counts struct {
	Cell   Cell
	Start  time.Time // start of the window
	Supply int       // distinct drivers seen in the cell during the window
	Demand int       // ride requests made in the cell during the window
}

// Ratio returns demand per available driver: Demand / max(Supply, 1). A
// surge price is usually a step function of it.
func (c Counts) Ratio() float64 { return float64(c.Demand) / float64(max(c.Supply, 1)) }

// Market counts supply (distinct drivers) and demand (requests) per cell at
// a coarse level per time window, in a ring of windows. It is the input of
// surge pricing and of "go where the riders are" hints to drivers. A Market
// lives in one process; it is safe for concurrent use.
type Market struct {
	level  int
	window int64 // microseconds
	mu     sync.Mutex
	ring   []marketWindow
	last   map[string]seen // driver -> last (cell, window) counted
	st     MarketStats     // under mu
}

type marketWindow struct {
	start  int64 // microseconds; -1 when unused
	counts map[Cell]*[2]int
}

type seen struct {
	cell  Cell
	start int64
}

// NewMarket returns an empty Market. It returns an [*InputError] for
// negative or out-of-range options.
func NewMarket(opts *MarketOptions) (*Market, error) {
	var o MarketOptions
	if opts != nil {
		o = *opts
	}
	if o.Level == 0 {
		o.Level = 12
	}
	if o.Window == 0 {
		o.Window = time.Minute
	}
	if o.Windows == 0 {
		o.Windows = 15
	}
	switch {
	case o.Level < 0 || o.Level > MaxLevel:
		return nil, &InputError{Op: "market", Field: "Level", Value: float64(o.Level), Reason: "outside 0..30"}
	case o.Window < time.Microsecond:
		return nil, &InputError{Op: "market", Field: "Window", Value: float64(o.Window), Reason: "must be at least 1µs"}
	case o.Windows < 1:
		return nil, &InputError{Op: "market", Field: "Windows", Value: float64(o.Windows), Reason: "must be positive"}
	}
	m := &Market{level: o.Level, window: o.Window.Microseconds(), ring: make([]marketWindow, o.Windows), last: map[string]seen{}}
	for i := range m.ring {
		m.ring[i].start = -1
	}
	return m, nil
}

func (m *Market) slot(at int64, create bool) (*marketWindow, int64) {
	start := at - mod(at, m.window)
	w := &m.ring[mod(start/m.window, int64(len(m.ring)))]
	if w.start != start {
		if !create || w.start > start { // a newer window owns the slot
			return nil, start
		}
		w.start, w.counts = start, map[Cell]*[2]int{}
		m.st.Windows++
	}
	return w, start
}

func mod(a, b int64) int64 {
	r := a % b
	if r < 0 {
		r += b
	}
	return r
}

func (m *Market) add(lat, lng float64, at time.Time, kind int, id string) error {
	c, err := CellAt(lat, lng, m.level)
	if err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	w, start := m.slot(at.UnixMicro(), true)
	if w == nil {
		m.st.Late++
		return nil // older than the ring
	}
	if kind == 0 {
		m.st.Supply++
		if s, ok := m.last[id]; ok && s.cell == c && s.start == start {
			return nil // already counted in this cell and window
		}
		m.last[id] = seen{c, start}
		m.st.Counted++
	} else {
		m.st.Demand++
	}
	n := w.counts[c]
	if n == nil {
		n = new([2]int)
		w.counts[c] = n
	}
	n[kind]++
	return nil
}

// Supply records that driver id was at (lat, lng) at time at. A driver
// counts once per cell and window however often it reports.
func (m *Market) Supply(id string, lat, lng float64, at time.Time) error {
	return m.add(lat, lng, at, 0, id)
}

// Demand records one ride request at (lat, lng) at time at.
func (m *Market) Demand(lat, lng float64, at time.Time) error {
	return m.add(lat, lng, at, 1, "")
}

// Forget drops what the market remembers about driver id (it went
// offline). Counts already made stay.
func (m *Market) Forget(id string) {
	m.mu.Lock()
	delete(m.last, id)
	m.mu.Unlock()
}

// Stats returns a snapshot of the market's counters.
func (m *Market) Stats() MarketStats {
	m.mu.Lock()
	defer m.mu.Unlock()
	st := m.st
	st.Drivers = len(m.last)
	return st
}

// Counts returns the supply and demand of the cell containing (lat, lng) in
// the window containing at. Windows that left the ring read as zero.
func (m *Market) Counts(lat, lng float64, at time.Time) (Counts, error) {
	c, err := CellAt(lat, lng, m.level)
	if err != nil {
		return Counts{}, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	w, start := m.slot(at.UnixMicro(), false)
	out := Counts{Cell: c, Start: time.UnixMicro(start)}
	if w != nil {
		if n := w.counts[c]; n != nil {
			out.Supply, out.Demand = n[0], n[1]
		}
	}
	return out, nil
}

// Window calls visit for every cell with any supply or demand in the window
// containing at, in no particular order.
func (m *Market) Window(at time.Time, visit func(Counts) bool) {
	m.mu.Lock()
	w, start := m.slot(at.UnixMicro(), false)
	var out []Counts
	if w != nil {
		out = make([]Counts, 0, len(w.counts))
		for c, n := range w.counts {
			out = append(out, Counts{Cell: c, Start: time.UnixMicro(start), Supply: n[0], Demand: n[1]})
		}
	}
	m.mu.Unlock()
	for _, c := range out {
		if !visit(c) {
			return
		}
	}
}
