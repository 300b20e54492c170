package memindex

// idTable maps ids to slots: an open-addressing hash table with linear
// probing, keyed by the 64-bit hash of the id. An entry is 16 bytes (the
// hash and the slot pointer), four to a cache line, so a lookup usually
// reads one line of the table and then the slot, which holds short ids
// inline; a Go map of strings reads its control word, its key slot and the
// key's bytes before it reaches the value. The table is not safe for
// concurrent use: each id shard guards its own.
type idTable struct {
	e []idEntry // empty or a power of two long
	n int       // live entries
}

type idEntry struct {
	h uint64
	s *slot // nil: empty
}

// home is the first position probed for hash h. The low bits of h choose
// the id shard, so the table uses the bits above them.
func (t *idTable) home(h uint64) uint64 { return (h >> 8) & uint64(len(t.e)-1) }

// get returns the slot of id, whose hash is h, or nil.
func (t *idTable) get(h uint64, id string) *slot {
	if t.n == 0 {
		return nil
	}
	mask := uint64(len(t.e) - 1)
	for i := t.home(h); ; i = (i + 1) & mask {
		e := &t.e[i]
		if e.s == nil {
			return nil
		}
		if e.h == h && e.s.is(id) {
			return e.s
		}
	}
}

// put adds s, whose id hashes to h and is not in the table.
func (t *idTable) put(h uint64, s *slot) {
	if (t.n+1)*4 > len(t.e)*3 {
		t.grow()
	}
	mask := uint64(len(t.e) - 1)
	i := t.home(h)
	for t.e[i].s != nil {
		i = (i + 1) & mask
	}
	t.e[i] = idEntry{h: h, s: s}
	t.n++
}

func (t *idTable) grow() {
	old := t.e
	t.e = make([]idEntry, max(16, 2*len(old)))
	mask := uint64(len(t.e) - 1)
	for _, e := range old {
		if e.s == nil {
			continue
		}
		i := t.home(e.h)
		for t.e[i].s != nil {
			i = (i + 1) & mask
		}
		t.e[i] = e
	}
}

// del removes s, whose id hashes to h and is in the table. It shifts back
// the entries that follow in the probe run (no tombstones), so lookups
// stay as short as they were before s was added.
func (t *idTable) del(h uint64, s *slot) {
	mask := uint64(len(t.e) - 1)
	i := t.home(h)
	for t.e[i].s != s {
		i = (i + 1) & mask
	}
	for j := i; ; {
		j = (j + 1) & mask
		if t.e[j].s == nil {
			break
		}
		// The entry at j may fill the hole at i unless its home lies
		// cyclically in (i, j].
		k := t.home(t.e[j].h)
		if (j > i && (k <= i || k > j)) || (j < i && k <= i && k > j) {
			t.e[i] = t.e[j]
			i = j
		}
	}
	t.e[i] = idEntry{}
	t.n--
}
