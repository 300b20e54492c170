package memindex

// idTable maps ids to slots and stores the slots. The slots live in chunks
// of slabChunk, so a slot never moves and its address is a fixed multiple
// of its size from a page boundary: a 128-byte slot fills two cache lines
// and shares them with nothing. The leaves of the tree list pointers to
// slots, so a slot is both an id's entry in this table and its entry in
// the tree. The table is a chained hash: heads holds,
// per bucket, the index (plus one) of the first slot of its chain, 4 bytes
// a bucket, so that for a million ids the heads take 8 MiB and mostly stay
// in the CPU's last-level cache. A lookup reads one head and then, nearly
// always, only the slot it is looking for; a Go map of strings reads its
// control word, its key slot, the key's bytes and then the value.
//
// Memory is that of the most slots ever held at once: freed slots are
// reused, not returned. The table is not safe for concurrent use: each id
// shard guards its own.
type idTable struct {
	heads  []uint32 // bucket -> first slot index + 1; 0 ends a chain
	chunks []*[slabChunk]slot
	free   []uint32 // indices of freed slots
	used   uint32   // slots handed out from the chunks, freed or not
	n      int      // slots in the table
}

const slabChunk = 1024

// bucket returns the bucket of hash h. The low bits of h choose the id
// shard, so the table uses the bits above them.
// A slot stores h>>8 (see slot.h).
func (t *idTable) bucket(h uint32) uint32 { return h & uint32(len(t.heads)-1) }

func (t *idTable) at(i uint32) *slot { return &t.chunks[i/slabChunk][i%slabChunk] }

// get returns the slot of id, whose hash is h, or nil.
func (t *idTable) get(h uint64, id string) *slot {
	if t.n == 0 {
		return nil
	}
	hs := uint32(h >> 8)
	for j := t.heads[t.bucket(hs)]; j != 0; {
		s := t.at(j - 1)
		if s.h == hs && s.is(id) {
			return s
		}
		j = s.next
	}
	return nil
}

// alloc returns a zeroed slot for an id of hash h, not yet in the table,
// and its index for put.
func (t *idTable) alloc(h uint64) (*slot, uint32) {
	var i uint32
	if n := len(t.free); n > 0 {
		i, t.free = t.free[n-1], t.free[:n-1]
	} else {
		if t.used%slabChunk == 0 {
			t.chunks = append(t.chunks, new([slabChunk]slot))
		}
		i = t.used
		t.used++
	}
	s := t.at(i)
	*s = slot{h: uint32(h >> 8)}
	return s, i
}

// put adds s, the slot of index i from alloc, to the table.
func (t *idTable) put(s *slot, i uint32) {
	if 2*(t.n+1) > len(t.heads) {
		t.grow()
	}
	b := t.bucket(s.h)
	s.next = t.heads[b]
	t.heads[b] = i + 1
	t.n++
}

// grow doubles the buckets, keeping at most one slot per two buckets.
func (t *idTable) grow() {
	old := t.heads
	t.heads = make([]uint32, max(64, 2*len(old)))
	for _, j := range old {
		for j != 0 {
			k, s := j, t.at(j-1)
			j = s.next
			b := t.bucket(s.h)
			s.next = t.heads[b]
			t.heads[b] = k
		}
	}
}

// del removes s from the table and frees it; s must not be used after.
func (t *idTable) del(s *slot) {
	p := &t.heads[t.bucket(s.h)]
	for t.at(*p-1) != s {
		p = &t.at(*p - 1).next
	}
	i := *p - 1
	*p = s.next
	t.n--
	t.free = append(t.free, i)
	*s = slot{}
}

// each calls f for every slot in the table. f must not change the table.
func (t *idTable) each(f func(*slot)) {
	for _, j := range t.heads {
		for j != 0 {
			s := t.at(j - 1)
			j = s.next
			f(s)
		}
	}
}
