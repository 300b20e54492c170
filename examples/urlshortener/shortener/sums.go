package shortener

// sums holds click counts per UTC day (Unix seconds of midnight) and code,
// added without allocating once a code has been seen that day. It is not
// safe for concurrent use.
type sums struct {
	days map[int64]map[string]*int64
	n    int // distinct (day, code) counters
}

func newSums() *sums { return &sums{days: map[int64]map[string]*int64{}} }

func (p *sums) len() int { return p.n }

func (p *sums) counter(day int64) map[string]*int64 {
	m := p.days[day]
	if m == nil {
		m = map[string]*int64{}
		p.days[day] = m
	}
	return m
}

// addBytes adds n to code on day; the lookup does not copy code.
func (p *sums) addBytes(day int64, code []byte, n int64) {
	m := p.counter(day)
	if c := m[string(code)]; c != nil {
		*c += n
		return
	}
	p.add(day, string(code), n)
}

func (p *sums) add(day int64, code string, n int64) {
	m := p.counter(day)
	c := m[code]
	if c == nil {
		c = new(int64)
		m[code] = c
		p.n++
	}
	*c += n
}

func (p *sums) each(f func(day int64, code string, n int64)) {
	for day, m := range p.days {
		for code, c := range m {
			f(day, code, *c)
		}
	}
}
